//! x86 (i386, i686).
//!
//! - syscall: number in eax, arguments in ebx, ecx, edx, esi, edi, ebp; `int 0x80` (static,
//!   so no vDSO `__kernel_vsyscall`); result in eax, -4095..-1 being -errno.
//! - entry: esp points at argc.
//! - calls: arguments on the stack; esp must be 16-byte aligned at the `call` (i686 Linux ABI
//!   as LLVM assumes it).
//! - signal return: the kernel honours SA_RESTORER; without it the kernel would jump into the
//!   vDSO, which we would rather not depend on (vdso=0 and some emulators have none). Handlers
//!   are installed as upstream's are, without SA_SIGINFO, so the kernel builds the old-style
//!   frame: it is unwound by sigreturn (119), not rt_sigreturn, with esp past the signal number.
//! - sleep: pause(2) exists.

use linux_raw_sys::general::{__NR_pause, __NR_sigreturn, SA_RESTORER, kernel_sigaction};
pub use syscalls::raw::{syscall0, syscall1, syscall3, syscall4};

/// The ELF entry point.
///
/// # Safety
/// Only the kernel calls this, once, with the initial process stack.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "xor ebp, ebp",   // outermost frame: ends the frame-pointer chain
        "mov eax, esp",   // the initial stack (argc, argv...)
        "and esp, -16",   // the ABI alignment, whatever the kernel gave
        "sub esp, 12",    // so that esp is 16-byte aligned again after the push below
        "push eax",       // the one argument, on the stack
        "call {start}",
        "ud2",            // start never returns
        start = sym crate::start,
    )
}

/// Where a handler returns to: straight into sigreturn (see the top of this file).
///
/// # Safety
/// Only the kernel's signal frame may "return" here.
#[unsafe(naked)]
unsafe extern "C" fn restore() {
    core::arch::naked_asm!(
        "pop eax",       // drop the signal number: sigreturn expects esp past it
        "mov eax, {nr}", // NR_sigreturn == 119
        "int 0x80",
        "ud2",           // sigreturn does not return
        nr = const __NR_sigreturn,
    )
}

pub fn set_restorer(action: &mut kernel_sigaction) {
    action.sa_flags |= SA_RESTORER as u32;
    action.sa_restorer = Some(restore);
}

/// pause(2): returns -EINTR once a handler has run.
pub fn sleep_until_signal() -> isize {
    // SAFETY: pause takes no arguments.
    unsafe { syscall0(__NR_pause as usize) as isize }
}
