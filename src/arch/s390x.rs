//! s390x (IBM Z).
//!
//! - syscall: number in r1 (or the `svc` immediate below 256), arguments in r2-r7; `svc 0`;
//!   result in r2, -4095..-1 being -errno.
//! - entry: r15 points at argc.
//! - calls: the caller provides a 160-byte register save area at r15, back chain at 0(r15);
//!   r15 8-byte aligned.
//! - signal return: the kernel honours SA_RESTORER and otherwise uses the vDSO's trampoline;
//!   ours keeps the vDSO out of it, like glibc and musl do. Without SA_SIGINFO (as upstream
//!   installs its handlers) the frame is the old-style one, unwound by sigreturn (119).
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
        "lgr %r2, %r15",        // first argument: the initial stack (argc, argv...)
        "aghi %r15, -160",      // the register save area every callee may use
        "nill %r15, 0xfff8",    // 8-byte alignment, whatever the kernel gave
        "xc 0(8,%r15), 0(%r15)", // back chain 0: the outermost frame
        "brasl %r14, {start}",
        ".word 0",              // start never returns; 0x0000 is an illegal instruction
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
        "svc {nr}",  // NR_sigreturn == 119, small enough for the immediate form
        ".word 0",   // sigreturn does not return
        nr = const __NR_sigreturn,
    )
}

pub fn set_restorer(action: &mut kernel_sigaction) {
    action.sa_flags |= SA_RESTORER as u64;
    action.sa_restorer = Some(restore);
}

/// pause(2): returns -EINTR once a handler has run.
pub fn sleep_until_signal() -> isize {
    // SAFETY: pause takes no arguments.
    unsafe { syscall0(__NR_pause as usize) as isize }
}
