//! aarch64 (arm64).
//!
//! - syscall: number in x8, arguments in x0-x5; `svc 0`; result in x0, -4095..-1 being -errno.
//! - entry: sp points at argc, 16-byte aligned (sp must always be).
//! - signal return: the kernel honours SA_RESTORER and otherwise uses the vDSO's trampoline;
//!   ours keeps the vDSO out of it, like musl does. Every frame is an rt frame: `restore_rt`
//!   (`restorers!(rt: ...)` below).
//! - sleep: no pause(2) in the generic syscall table: ppoll (`sleep_call!(ppoll: ...)` below).

use linux_raw_sys::general::{__NR_ppoll, __NR_rt_sigreturn};
// The generic layout: handler, flags, restorer, mask.
pub use linux_raw_sys::general::kernel_sigaction;
// The design's syscall crate: the kernel clobbers nothing but x0 here, as sc declares.
pub use sc::{syscall0, syscall1, syscall3, syscall4};

sleep_call!(ppoll: __NR_ppoll);
restorers!(rt: restore_rt);

/// The ELF entry point.
///
/// # Safety
/// Only the kernel calls this, once, with the initial process stack.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "mov x29, xzr",   // outermost frame: ends the frame-pointer chain
        "mov x30, xzr",   // and the return-address chain
        "mov x0, sp",     // first argument: the initial stack (argc, argv...)
        "bl {start}",
        "udf #0",         // start never returns
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
        "mov x8, #{nr}", // NR_rt_sigreturn == 139
        "svc 0",
        "udf #0",        // rt_sigreturn does not return
        nr = const __NR_rt_sigreturn,
    )
}
