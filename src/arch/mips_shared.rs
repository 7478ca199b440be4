//! What mips (o32) and mips64 (n64) share, and both arch files pick: the sigaction layout, and
//! the syscall wrappers over each file's own out-of-line `syscall`.

use linux_raw_sys::general::{__kernel_sighandler_t, kernel_sigset_t};

/// MIPS keeps IRIX's layout: an int of flags first, then the handler, then the mask
/// (`__ARCH_HAS_IRIX_SIGACTION` in the kernel; glibc's and musl's MIPS `kernel_sigaction`).
/// linux-raw-sys 0.12 gives MIPS the generic handler-first layout, which the kernel would read
/// as flags from the handler's address and a handler from our flags: so ours.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct kernel_sigaction {
    pub sa_flags: core::ffi::c_uint,
    pub sa_handler_kernel: __kernel_sighandler_t,
    pub sa_mask: kernel_sigset_t,
}

// MIPS makes every call through its one out-of-line sequence (each file's header says why), which
// takes the number last, as the C argument after the four the kernel reads.
use super::syscall;

/// # Safety
/// The call must be sound for the kernel with these arguments.
pub unsafe fn syscall0(nr: usize) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe { syscall(0, 0, 0, 0, nr) }
}

/// # Safety
/// The call must be sound for the kernel with these arguments.
pub unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe { syscall(a0, 0, 0, 0, nr) }
}

/// # Safety
/// The call must be sound for the kernel with these arguments.
pub unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe { syscall(a0, a1, a2, 0, nr) }
}

/// # Safety
/// The call must be sound for the kernel with these arguments.
pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    // SAFETY: forwarded to the caller.
    unsafe { syscall(a0, a1, a2, a3, nr) }
}
