//! x86_64 (amd64).
//!
//! - syscall: number in rax, arguments in rdi, rsi, rdx, r10, r8, r9; `syscall`; result in rax,
//!   -4095..-1 being -errno; rcx and r11 are clobbered.
//! - entry: rsp points at argc; the kernel leaves it 16-byte aligned; rdx holds no atexit
//!   function for a static binary.
//! - calls: rsp must be 16-byte aligned at the `call`.
//! - signal return: the kernel requires SA_RESTORER here (no vDSO fallback) and delivers
//!   SIGSEGV to a handler that was installed without one. Every frame is an rt frame, with or
//!   without SA_SIGINFO: `restore_rt` ends them all (`restorers!(rt: ...)` below).
//! - sleep: pause(2) exists (`sleep_call!(pause: ...)` below).

use linux_raw_sys::general::{__NR_pause, __NR_rt_sigreturn};
// The generic layout: handler, flags, restorer, mask.
pub use linux_raw_sys::general::kernel_sigaction;
// The design's syscall crate: its x86_64 back-end names rcx and r11, all the kernel clobbers.
pub use sc::{syscall0, syscall1, syscall3, syscall4};

sleep_call!(pause: __NR_pause);
restorers!(rt: restore_rt);

/// The ELF entry point.
///
/// # Safety
/// Only the kernel calls this, once, with the initial process stack.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "xor ebp, ebp",   // outermost frame: ends the frame-pointer chain
        "mov rdi, rsp",   // first argument: the initial stack (argc, argv...)
        "and rsp, -16",   // the ABI alignment, whatever the kernel gave
        "call {start}",   // pushes a return address, as every callee expects
        "ud2",            // start never returns
        start = sym crate::start,
    )
}

/// Where a handler returns to: straight into rt_sigreturn.
///
/// # Safety
/// Only the kernel's signal frame may "return" here.
#[unsafe(naked)]
pub unsafe extern "C" fn restore_rt() {
    core::arch::naked_asm!(
        "mov eax, {nr}", // NR_rt_sigreturn == 15
        "syscall",
        "ud2",           // rt_sigreturn does not return
        nr = const __NR_rt_sigreturn,
    )
}
