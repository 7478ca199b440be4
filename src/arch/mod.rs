//! One file per architecture, stating everything about it that pause depends on, and each
//! exporting the same set:
//! - `_start`: the ELF entry point; hands the initial stack pointer to `crate::start`;
//! - `syscall0`, `syscall1`, `syscall3`, `syscall4`: raw syscalls, returning -errno on failure;
//! - `kernel_sigaction`: the kernel's `struct sigaction`, as rt_sigaction reads it;
//! - `sleep_until_signal`, from the one `sleep_call!` line saying which call the arch sleeps in;
//! - `set_restorer`, from the one `restorers!` line saying which signal-return trampolines the
//!   arch has: none, `rt` only, or `old_style` and `rt`.
//!
//! What the arches share is written once below and adapts to what each file declares, as in
//! the kernel's nolibc (tools/include/nolibc/arch-*.h). `mips_shared.rs` is not an arch: it
//! holds what the MIPS files both pick (IRIX's sigaction layout and the wrappers over their
//! out-of-line syscall).

/// Which call the arch waits in for a handler to run, with its number from the arch's own
/// table: the shared code names no number, so it compiles for a table that lacks pause(2) (or,
/// on a 32-bit arch with only 64-bit time, ppoll: `__NR_ppoll_time64` takes the same NULLs).
/// - `pause`: pause(2), which returns -EINTR once a handler has run.
/// - `ppoll`: for tables without pause(2), such as the generic one (asm-generic/unistd.h):
///   ppoll with no descriptors, no timeout and no mask waits the same way, until a handler has
///   run.
macro_rules! sleep_call {
    (pause: $nr:expr) => {
        pub fn sleep_until_signal() -> isize {
            // SAFETY: pause takes no arguments.
            unsafe { $crate::arch::syscall0($nr as usize) as isize }
        }
    };
    (ppoll: $nr:expr) => {
        pub fn sleep_until_signal() -> isize {
            // SAFETY: no descriptors, no timeout, no mask: nothing is read or written.
            unsafe { $crate::arch::syscall4($nr as usize, 0, 0, 0, 0) as isize }
        }
    };
}

/// Which trampolines the arch has for a handler to return through (a macro, not a constant the
/// shared code matches on, because `sa_restorer` only exists in the ABIs that have
/// SA_RESTORER: the code writing it can only compile in an arch that declares trampolines):
/// - `none`: the ABI has no SA_RESTORER or ignores it, and the kernel returns through its own
///   trampoline (in the vDSO or on the signal stack);
/// - `rt`: the kernel only ever builds rt frames, ended by the one trampoline;
/// - `old_style` and `rt`: a handler without SA_SIGINFO gets an old-style frame, unwound by
///   `sigreturn`, and one with it an rt frame, unwound by `rt_sigreturn`.
///
/// `set_restorer` points the handler's return at our own trampoline, of the flavour that matches
/// the frame the kernel will build for `action`'s flags: getting it wrong corrupts every handler
/// return, so it is chosen from the flags rather than assumed. Keeping the return path in our
/// own code (as glibc and musl do) means no dependence on a vDSO that `vdso=0` or an emulator
/// may not provide; an x86_64 kernel would deliver SIGSEGV without one.
macro_rules! restorers {
    (none) => {
        pub fn set_restorer(_: &mut $crate::arch::kernel_sigaction) {}
    };
    (rt: $rt:path) => {
        pub fn set_restorer(action: &mut $crate::arch::kernel_sigaction) {
            use core::ffi::c_ulong;
            use linux_raw_sys::general::SA_RESTORER;
            action.sa_flags |= SA_RESTORER as c_ulong;
            action.sa_restorer = Some($rt);
        }
    };
    (old_style: $old_style:path, rt: $rt:path) => {
        pub fn set_restorer(action: &mut $crate::arch::kernel_sigaction) {
            use core::ffi::c_ulong;
            use linux_raw_sys::general::{SA_RESTORER, SA_SIGINFO};
            let trampoline = if action.sa_flags & SA_SIGINFO as c_ulong != 0 {
                $rt
            } else {
                $old_style
            };
            action.sa_flags |= SA_RESTORER as c_ulong;
            action.sa_restorer = Some(trampoline);
        }
    };
}

/// Picks the target's file, one row per arch; any other arch is a compile error rather than a
/// build that lacks its entry point and syscalls.
macro_rules! arch_files {
    ($($arch:literal => $file:literal,)*) => {
        $(#[cfg_attr(target_arch = $arch, path = $file)])*
        // Unknown arches skip it: their first error is then the one below, not a missing imp.rs.
        #[cfg(any($(target_arch = $arch),*))]
        mod imp;

        #[cfg(not(any($(target_arch = $arch),*)))]
        compile_error!(concat!(
            "pause supports Linux on these target_arch only:",
            $(" ", $arch,)*
        ));
    };
}

arch_files! {
    "x86_64" => "x86_64.rs",
    "aarch64" => "aarch64.rs",
    "arm" => "arm.rs",
    "powerpc64" => "powerpc64.rs",
    "s390x" => "s390x.rs",
    "riscv64" => "riscv64.rs",
    "x86" => "x86.rs",
    "loongarch64" => "loongarch64.rs",
    "mips64" => "mips64.rs",
    "mips" => "mips.rs",
}

pub use imp::{
    kernel_sigaction, set_restorer, sleep_until_signal, syscall0, syscall1, syscall3, syscall4,
};
