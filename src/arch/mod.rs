//! One file per architecture, each exporting the same set:
//! - `_start`: the ELF entry point; hands the initial stack pointer to `crate::start`;
//! - `syscall0`, `syscall1`, `syscall3`, `syscall4`: raw syscalls, returning -errno on failure
//!   (MIPS: one `syscall` taking the number last, which the wrappers below call);
//! - where the ABI has SA_RESTORER: `restore_rt` (ends an rt frame) and, where the kernel also
//!   builds old-style frames, `restore` (ends one).
//!
//! What several arches share is written once below, chosen by `cfg`: how to sleep, and who
//! provides the code a handler returns to.

#[cfg(target_arch = "x86_64")]
#[path = "x86_64.rs"]
mod imp;

#[cfg(target_arch = "aarch64")]
#[path = "aarch64.rs"]
mod imp;

#[cfg(target_arch = "arm")]
#[path = "arm.rs"]
mod imp;

#[cfg(target_arch = "powerpc64")]
#[path = "powerpc64.rs"]
mod imp;

#[cfg(target_arch = "s390x")]
#[path = "s390x.rs"]
mod imp;

#[cfg(target_arch = "riscv64")]
#[path = "riscv64.rs"]
mod imp;

#[cfg(target_arch = "x86")]
#[path = "x86.rs"]
mod imp;

#[cfg(target_arch = "loongarch64")]
#[path = "loongarch64.rs"]
mod imp;

#[cfg(target_arch = "mips64")]
#[path = "mips64.rs"]
mod imp;

#[cfg(target_arch = "mips")]
#[path = "mips.rs"]
mod imp;

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "powerpc64",
    target_arch = "s390x",
    target_arch = "riscv64",
    target_arch = "x86",
    target_arch = "loongarch64",
    target_arch = "mips64",
    target_arch = "mips",
)))]
compile_error!(
    "pause supports x86_64, aarch64, arm, powerpc64, s390x, riscv64, x86, loongarch64, mips64 \
     and mips Linux"
);

#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
pub use imp::{syscall0, syscall1, syscall3, syscall4};

/// MIPS makes every call through its one out-of-line sequence (see `mips64.rs` for why),
/// which takes the number last, as the C argument after the four the kernel reads.
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
mod mips_calls {
    use super::imp::syscall;

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
}
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
pub use mips_calls::{syscall0, syscall1, syscall3, syscall4};

/// The kernel's `struct sigaction`, as rt_sigaction reads it.
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
pub use linux_raw_sys::general::kernel_sigaction;

/// MIPS keeps IRIX's layout: an int of flags first, then the handler, then the mask
/// (`__ARCH_HAS_IRIX_SIGACTION` in the kernel; glibc's and musl's MIPS `kernel_sigaction`).
/// linux-raw-sys 0.12 gives MIPS the generic handler-first layout, which the kernel would read
/// as flags from the handler's address and a handler from our flags: so ours.
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct kernel_sigaction {
    pub sa_flags: core::ffi::c_uint,
    pub sa_handler_kernel: linux_raw_sys::general::__kernel_sighandler_t,
    pub sa_mask: linux_raw_sys::general::kernel_sigset_t,
}

/// The generic syscall table (asm-generic/unistd.h) has no pause(2); ppoll with no descriptors,
/// no timeout and no mask waits the same way, until a handler has run.
#[cfg(any(
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "loongarch64"
))]
pub fn sleep_until_signal() -> isize {
    // SAFETY: no descriptors, no timeout, no mask: nothing is read or written.
    unsafe { syscall4(linux_raw_sys::general::__NR_ppoll as usize, 0, 0, 0, 0) as isize }
}

/// pause(2): returns -EINTR once a handler has run.
#[cfg(not(any(
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "loongarch64"
)))]
pub fn sleep_until_signal() -> isize {
    // SAFETY: pause takes no arguments.
    unsafe { syscall0(linux_raw_sys::general::__NR_pause as usize) as isize }
}

/// The frame the kernel builds for a handler installed without SA_SIGINFO: old-style on these
/// three, unwound by `sigreturn`...
#[cfg(any(target_arch = "arm", target_arch = "s390x", target_arch = "x86"))]
use imp::restore;
/// ...while x86_64 and aarch64 only ever build rt frames.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
use imp::restore_rt as restore;

/// Points the handler's return at our own trampoline, of the flavour that matches the frame
/// the kernel will build for `action`'s flags: getting it wrong corrupts every handler return,
/// so it is chosen here, from the flags, rather than assumed. Keeping the return path in our
/// own code (as glibc and musl do) means no dependence on a vDSO that `vdso=0` or an emulator
/// may not provide; x86_64 and i386 kernels would deliver SIGSEGV without one.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "s390x",
    target_arch = "x86"
))]
pub fn set_restorer(action: &mut kernel_sigaction) {
    use core::ffi::c_ulong;
    use linux_raw_sys::general::{SA_RESTORER, SA_SIGINFO};
    let trampoline = if action.sa_flags & SA_SIGINFO as c_ulong != 0 {
        imp::restore_rt
    } else {
        restore
    };
    action.sa_flags |= SA_RESTORER as c_ulong;
    action.sa_restorer = Some(trampoline);
}

/// Nothing to do: these ABIs have no SA_RESTORER (riscv64, loongarch64, mips) or ignore it
/// (powerpc64), and the kernel returns through its own vDSO trampoline.
#[cfg(any(
    target_arch = "powerpc64",
    target_arch = "riscv64",
    target_arch = "loongarch64",
    target_arch = "mips64",
    target_arch = "mips"
))]
pub fn set_restorer(_: &mut kernel_sigaction) {}
