//! mips64 little-endian (mips64el, n64 ABI, MIPS64r2).
//!
//! - syscall: number in v0 ($2), arguments in a0-a5 ($4-$9); `syscall`; result in v0, and a3
//!   ($7) says whether it failed, in which case v0 holds a positive errno (turned into -errno
//!   here like every other arch). The kernel also clobbers at ($1), v1 ($3), $10-$15, t8, t9
//!   ($24, $25), hi and lo (musl's and glibc's clobber lists); a0-a2, $8, $9 and s0-s7 survive.
//! - why out of line: Rust's `asm!` can name neither at nor hi/lo (and, unlike clang, does not
//!   clobber at implicitly, though LLVM allocates it), so an inline block could not state what
//!   the kernel clobbers. A naked function called with the C ABI can: every register the
//!   kernel clobbers is one the C ABI already lets a callee clobber.
//! - entry: sp points at argc. Code is static (no PIC, no $gp), so nothing else to set up.
//! - calls: sp 16-byte aligned; no argument save area in n64.
//! - signal return: MIPS has no SA_RESTORER. The kernel points ra at a trampoline in its
//!   vDSO (arch/mips/vdso/sigreturn.S); n64 frames are always rt frames, with or without
//!   SA_SIGINFO (`sig_uses_siginfo` is 1 without CONFIG_TRAD_SIGNALS), ended by rt_sigreturn.
//!   Nothing for us to provide (`restorers!(none)` below).
//! - sleep: pause(2) exists in the n64 table (5033; `sleep_call!(pause: ...)` below).

use linux_raw_sys::general::__NR_pause;

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
        ".set noreorder",
        "move $fp, $zero",        // outermost frame: ends the frame-pointer chain
        "move $ra, $zero",        // and the return-address chain
        "move $a0, $sp",          // first argument: the initial stack (argc, argv...)
        "daddiu $t0, $zero, -16",
        "and $sp, $sp, $t0",      // the ABI's 16-byte alignment, whatever the kernel gave
        "jal {start}",
        "nop",                    // the branch delay slot
        "break",                  // start never returns
        ".set reorder",
        start = sym crate::start,
    )
}

/// The one syscall sequence: arguments where the kernel wants them already (a0-a3), the number
/// as the fifth C argument ($8), -errno on failure.
///
/// # Safety
/// The call must be sound for the kernel with these arguments.
#[unsafe(naked)]
pub unsafe extern "C" fn syscall(a0: usize, a1: usize, a2: usize, a3: usize, nr: usize) -> usize {
    core::arch::naked_asm!(
        ".set noreorder",
        "move $v0, $a4", // the number: the fifth argument register
        "syscall",
        "bnez $a3, 1f", // a3 set: v0 is a positive errno
        "nop",
        "jr $ra",
        "nop",
        "1:",
        "jr $ra",
        "dsubu $v0, $zero, $v0", // (delay slot) -errno
        ".set reorder",
    )
}

// What o32 and n64 share: IRIX's sigaction layout, and the wrappers over `syscall` above.
#[path = "mips_shared.rs"]
mod shared;
pub use shared::{kernel_sigaction, syscall0, syscall1, syscall3, syscall4};
