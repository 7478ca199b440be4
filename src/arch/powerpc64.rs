//! powerpc64 little-endian (ppc64le, ELFv2).
//!
//! - syscall: number in r0, arguments in r3-r8; `sc`; an error sets cr0.SO and leaves a
//!   positive errno in r3, which the syscall layer negates so every arch reads -errno.
//! - entry: r1 points at argc. Code reaches constants through the TOC pointer r2, which the
//!   entry point must set up (the kernel does not).
//! - calls: r1 16-byte aligned, a 32-byte minimum frame whose back chain ends at 0.
//! - signal return: the kernel ignores sa_restorer here and always returns through the vDSO's
//!   trampoline (or one on the signal stack): nothing for us to provide.
//! - sleep: pause(2) exists.

use linux_raw_sys::general::{__NR_pause, kernel_sigaction};
pub use syscalls::raw::{syscall0, syscall1, syscall3, syscall4};

/// The ELF entry point.
///
/// # Safety
/// Only the kernel calls this, once, with the initial process stack.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "lis 2, .TOC.@ha",      // the TOC pointer; a fixed address below 2 GiB (static link)
        "addi 2, 2, .TOC.@l",
        "mr 3, 1",              // first argument: the initial stack (argc, argv...)
        "clrrdi 1, 1, 4",       // the ABI's 16-byte alignment
        "li 0, 0",
        "stdu 0, -32(1)",       // a minimum frame whose back chain is 0: the outermost
        "mtlr 0",               // no return address
        "bl {start}",
        "trap",                 // start never returns
        start = sym crate::start,
    )
}

/// Nothing to do: the kernel supplies the trampoline (see the top of this file).
pub fn set_restorer(_: &mut kernel_sigaction) {}

/// pause(2): returns -EINTR once a handler has run.
pub fn sleep_until_signal() -> isize {
    // SAFETY: pause takes no arguments.
    unsafe { syscall0(__NR_pause as usize) as isize }
}
