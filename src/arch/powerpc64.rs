//! powerpc64 little-endian (ppc64le, ELFv2).
//!
//! - syscall: number in r0, arguments in r3-r8; `sc`; result in r3. An error sets cr0.SO and
//!   leaves a positive errno in r3, which we negate so every arch reads -errno. The kernel's
//!   syscall ABI (Documentation/arch/powerpc/syscall64-abi.rst) makes r0, r3-r12, cr0, ctr and
//!   xer volatile across `sc`; r1, r2, r13-r31, lr, cr1-cr7, and the FP and vector registers
//!   survive.
//! - entry: r1 points at argc. Code reaches constants through the TOC pointer r2, which the
//!   entry point must set up (the kernel does not).
//! - calls: r1 16-byte aligned, a 32-byte minimum frame whose back chain ends at 0.
//! - signal return: the kernel ignores sa_restorer here and always returns through the vDSO's
//!   trampoline (or one on the signal stack): nothing for us to provide (`restorers!(none)`
//!   below).
//! - sleep: pause(2) exists (`sleep_call!(pause: ...)` below).

use core::arch::asm;
use linux_raw_sys::general::__NR_pause;
// The generic layout: handler, flags, restorer (which the kernel ignores), mask.
pub use linux_raw_sys::general::kernel_sigaction;

sleep_call!(pause: __NR_pause);
restorers!(none);

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

/// # Safety
/// The call must be sound for the kernel with these arguments.
pub unsafe fn syscall0(nr: usize) -> usize {
    let ret;
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!(
            "sc",
            "bns 0f",   // cr0.SO clear: r3 is the result
            "neg 3, 3", // set: r3 is a positive errno
            "0:",
            inlateout("r0") nr => _,
            lateout("r3") ret,
            lateout("r4") _,
            lateout("r5") _,
            lateout("r6") _,
            lateout("r7") _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("r11") _,
            lateout("r12") _,
            lateout("cr0") _,
            lateout("ctr") _,
            lateout("xer") _,
            // Not preserves_flags: cr0 and xer do change. No other flag is touched.
            options(nostack)
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
            "sc",
            "bns 0f",   // cr0.SO clear: r3 is the result
            "neg 3, 3", // set: r3 is a positive errno
            "0:",
            inlateout("r0") nr => _,
            inlateout("r3") a0 => ret,
            lateout("r4") _,
            lateout("r5") _,
            lateout("r6") _,
            lateout("r7") _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("r11") _,
            lateout("r12") _,
            lateout("cr0") _,
            lateout("ctr") _,
            lateout("xer") _,
            // Not preserves_flags: cr0 and xer do change. No other flag is touched.
            options(nostack)
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
            "sc",
            "bns 0f",   // cr0.SO clear: r3 is the result
            "neg 3, 3", // set: r3 is a positive errno
            "0:",
            inlateout("r0") nr => _,
            inlateout("r3") a0 => ret,
            inlateout("r4") a1 => _,
            inlateout("r5") a2 => _,
            lateout("r6") _,
            lateout("r7") _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("r11") _,
            lateout("r12") _,
            lateout("cr0") _,
            lateout("ctr") _,
            lateout("xer") _,
            // Not preserves_flags: cr0 and xer do change. No other flag is touched.
            options(nostack)
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
            "sc",
            "bns 0f",   // cr0.SO clear: r3 is the result
            "neg 3, 3", // set: r3 is a positive errno
            "0:",
            inlateout("r0") nr => _,
            inlateout("r3") a0 => ret,
            inlateout("r4") a1 => _,
            inlateout("r5") a2 => _,
            inlateout("r6") a3 => _,
            lateout("r7") _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("r11") _,
            lateout("r12") _,
            lateout("cr0") _,
            lateout("ctr") _,
            lateout("xer") _,
            // Not preserves_flags: cr0 and xer do change. No other flag is touched.
            options(nostack)
        );
    }
    ret
}
