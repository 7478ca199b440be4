//! loongarch64 (loong64).
//!
//! - syscall: number in a7, arguments in a0-a5; `syscall 0`; result in a0, -4095..-1 being
//!   -errno; t0-t8 are clobbered.
//! - entry: sp points at argc.
//! - calls: sp 16-byte aligned.
//! - signal return: the ABI has no SA_RESTORER; the kernel always returns through the vDSO's
//!   trampoline, so there is nothing for us to provide.
//! - sleep: no pause(2) in the generic syscall table: ppoll(NULL, 0, NULL, NULL).

use linux_raw_sys::general::{__NR_ppoll, kernel_sigaction};
pub use syscalls::raw::{syscall0, syscall1, syscall3, syscall4};

/// The ELF entry point.
///
/// # Safety
/// Only the kernel calls this, once, with the initial process stack.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "move $fp, $zero",              // outermost frame: ends the frame-pointer chain
        "move $ra, $zero",              // and the return-address chain
        "move $a0, $sp",                // first argument: the initial stack (argc, argv...)
        "bstrins.d $sp, $zero, 3, 0",   // clear the low 4 bits: the ABI's 16-byte alignment
        "bl {start}",
        "break 0",                      // start never returns
        start = sym crate::start,
    )
}

/// Nothing to do: the kernel supplies the trampoline (see the top of this file).
pub fn set_restorer(_: &mut kernel_sigaction) {}

/// ppoll(NULL, 0, NULL, NULL): returns -EINTR once a handler has run.
pub fn sleep_until_signal() -> isize {
    // SAFETY: no descriptors, no timeout, no mask: nothing is read or written.
    unsafe { syscall4(__NR_ppoll as usize, 0, 0, 0, 0) as isize }
}
