//! One file per architecture, each exporting the same set:
//! - `_start`: the ELF entry point; hands the initial stack pointer to `crate::start`;
//! - `set_restorer`: fills in the signal-return trampoline where this arch wants one from us;
//! - `sleep_until_signal`: blocks in the kernel, no timer, until a handler has run;
//! - `syscall0`, `syscall1`, `syscall3`, `syscall4`: raw syscalls, returning -errno on failure.

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

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "powerpc64",
    target_arch = "s390x",
    target_arch = "riscv64",
    target_arch = "x86",
    target_arch = "loongarch64",
)))]
compile_error!(
    "pause supports x86_64, aarch64, arm, powerpc64, s390x, riscv64, x86 and loongarch64 Linux"
);

pub use imp::{set_restorer, sleep_until_signal, syscall0, syscall1, syscall3, syscall4};
