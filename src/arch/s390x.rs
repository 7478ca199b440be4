//! s390x (IBM Z).
//!
//! - syscall: number in r1 (or the `svc` immediate below 256), arguments in r2-r7; `svc 0`;
//!   result in r2, -4095..-1 being -errno. The kernel reloads every other general register
//!   and the PSW (so the condition code) from what it saved at entry: only r2 changes.
//! - entry: r15 points at argc.
//! - calls: the caller provides a 160-byte register save area at r15, back chain at 0(r15);
//!   r15 8-byte aligned.
//! - signal return: the kernel honours SA_RESTORER and otherwise uses the vDSO's trampoline;
//!   ours keeps the vDSO out of it, like glibc and musl do. A handler without SA_SIGINFO (as
//!   upstream installs them) gets the old-style frame, unwound by sigreturn (119); one with
//!   SA_SIGINFO gets an rt frame, unwound by rt_sigreturn (173): `restore` and `restore_rt`
//!   (`restorers!(old_style: ..., rt: ...)` below).
//! - sleep: pause(2) exists (`sleep_call!(pause: ...)` below).

use core::arch::asm;
use linux_raw_sys::general::{__NR_pause, __NR_rt_sigreturn, __NR_sigreturn};
// The generic layout: handler, flags, restorer, mask.
pub use linux_raw_sys::general::kernel_sigaction;

sleep_call!(pause: __NR_pause);
restorers!(old_style: restore, rt: restore_rt);

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

/// Where a handler without SA_SIGINFO returns to: straight into sigreturn.
///
/// # Safety
/// Only the kernel's old-style signal frame may "return" here.
#[unsafe(naked)]
pub unsafe extern "C" fn restore() {
    core::arch::naked_asm!(
        "svc {nr}",  // NR_sigreturn == 119, small enough for the immediate form
        ".word 0",   // sigreturn does not return
        nr = const __NR_sigreturn,
    )
}

/// Where a handler with SA_SIGINFO returns to: straight into rt_sigreturn.
///
/// # Safety
/// Only the kernel's rt signal frame may "return" here.
#[unsafe(naked)]
pub unsafe extern "C" fn restore_rt() {
    core::arch::naked_asm!(
        "svc {nr}",  // NR_rt_sigreturn == 173, small enough for the immediate form
        ".word 0",   // rt_sigreturn does not return
        nr = const __NR_rt_sigreturn,
    )
}

/// # Safety
/// The call must be sound for the kernel with these arguments.
pub unsafe fn syscall0(nr: usize) -> usize {
    let ret;
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!(
            "svc 0",
            in("r1") nr,
            lateout("r2") ret,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// # Safety
/// The call must be sound for the kernel with these arguments.
pub unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    let ret;
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!(
            "svc 0",
            in("r1") nr,
            inlateout("r2") a0 => ret,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// # Safety
/// The call must be sound for the kernel with these arguments.
pub unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let ret;
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!(
            "svc 0",
            in("r1") nr,
            inlateout("r2") a0 => ret,
            in("r3") a1,
            in("r4") a2,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// # Safety
/// The call must be sound for the kernel with these arguments.
pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    let ret;
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!(
            "svc 0",
            in("r1") nr,
            inlateout("r2") a0 => ret,
            in("r3") a1,
            in("r4") a2,
            in("r5") a3,
            options(nostack, preserves_flags)
        );
    }
    ret
}
