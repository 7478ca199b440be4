//! loongarch64 (loong64).
//!
//! - syscall: number in a7, arguments in a0-a5; `syscall 0`; result in a0, -4095..-1 being
//!   -errno. The kernel may clobber the temporaries t0-t8 and nothing else (the clobber list
//!   of the kernel's own nolibc, tools/include/nolibc/arch-loongarch.h, and of glibc).
//! - entry: sp points at argc.
//! - calls: sp 16-byte aligned.
//! - signal return: the ABI has no SA_RESTORER; the kernel always returns through the vDSO's
//!   trampoline, so there is nothing for us to provide (`restorers!(none)` below).
//! - sleep: no pause(2) in the generic syscall table: ppoll (`sleep_call!(ppoll: ...)` below).

use core::arch::asm;
use linux_raw_sys::general::__NR_ppoll;
// The generic layout, without sa_restorer: handler, flags, mask.
pub use linux_raw_sys::general::kernel_sigaction;

sleep_call!(ppoll: __NR_ppoll);
restorers!(none);

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

/// # Safety
/// The call must be sound for the kernel with these arguments.
pub unsafe fn syscall0(nr: usize) -> usize {
    let ret;
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!(
            "syscall 0",
            in("$a7") nr,
            lateout("$a0") ret,
            lateout("$t0") _,
            lateout("$t1") _,
            lateout("$t2") _,
            lateout("$t3") _,
            lateout("$t4") _,
            lateout("$t5") _,
            lateout("$t6") _,
            lateout("$t7") _,
            lateout("$t8") _,
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
            "syscall 0",
            in("$a7") nr,
            inlateout("$a0") a0 => ret,
            lateout("$t0") _,
            lateout("$t1") _,
            lateout("$t2") _,
            lateout("$t3") _,
            lateout("$t4") _,
            lateout("$t5") _,
            lateout("$t6") _,
            lateout("$t7") _,
            lateout("$t8") _,
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
            "syscall 0",
            in("$a7") nr,
            inlateout("$a0") a0 => ret,
            in("$a1") a1,
            in("$a2") a2,
            lateout("$t0") _,
            lateout("$t1") _,
            lateout("$t2") _,
            lateout("$t3") _,
            lateout("$t4") _,
            lateout("$t5") _,
            lateout("$t6") _,
            lateout("$t7") _,
            lateout("$t8") _,
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
            "syscall 0",
            in("$a7") nr,
            inlateout("$a0") a0 => ret,
            in("$a1") a1,
            in("$a2") a2,
            in("$a3") a3,
            lateout("$t0") _,
            lateout("$t1") _,
            lateout("$t2") _,
            lateout("$t3") _,
            lateout("$t4") _,
            lateout("$t5") _,
            lateout("$t6") _,
            lateout("$t7") _,
            lateout("$t8") _,
            options(nostack, preserves_flags)
        );
    }
    ret
}
