//! arm (armv7, EABI, hard-float).
//!
//! - syscall: number in r7, arguments in r0-r5; `svc 0` (EABI); result in r0, -4095..-1 being
//!   -errno.
//! - entry: sp points at argc.
//! - calls: sp 8-byte aligned at public interfaces (AAPCS); we align to 16 as the kernel does.
//! - signal return: the kernel honours SA_RESTORER and otherwise returns through its sigpage;
//!   ours keeps the return path in our own code, like glibc and musl do. Without SA_SIGINFO (as
//!   upstream installs its handlers) the frame is the old-style one, unwound by sigreturn (119).
//! - sleep: pause(2) exists in the EABI table.

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
        "mov fp, #0",         // outermost frame: ends the frame-pointer chain
        "mov lr, #0",         // and the return-address chain
        "mov r0, sp",         // first argument: the initial stack (argc, argv...)
        "bic ip, r0, #15",    // the alignment, whatever the kernel gave
        "mov sp, ip",
        "bl {start}",
        "udf #0",             // start never returns
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
        "mov r7, #{nr}", // NR_sigreturn == 119
        "svc 0",
        "udf #0",        // sigreturn does not return
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
