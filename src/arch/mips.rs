//! mips little-endian (mipsel, o32 ABI, MIPS32r2): OpenWrt-class routers.
//!
//! - syscall: number in v0 ($2), arguments in a0-a3 ($4-$7) and from the fifth on the stack
//!   at sp+16 (the kernel reads those words for every call); `syscall`; result in v0, and a3
//!   ($7) says whether it failed, in which case v0 holds a positive errno (turned into -errno
//!   here like every other arch). The kernel also clobbers at ($1), v1 ($3), t0-t9 ($8-$15,
//!   $24, $25), hi and lo (musl's and glibc's clobber lists); a0-a2 and s0-s7 survive.
//! - why out of line: Rust's `asm!` can name neither at nor hi/lo (and, unlike clang, does not
//!   clobber at implicitly, though LLVM allocates it), so an inline block could not state what
//!   the kernel clobbers. A naked function called with the C ABI can: every register the
//!   kernel clobbers is one the C ABI already lets a callee clobber.
//! - entry: sp points at argc. Code is static (no PIC, no $gp), so nothing else to set up.
//! - calls: sp 8-byte aligned, and the caller reserves 16 bytes at sp for the callee to save
//!   a0-a3 in.
//! - signal return: MIPS has no SA_RESTORER. The kernel points ra at a trampoline in its
//!   vDSO (arch/mips/vdso/sigreturn.S). o32 keeps the old signal frames
//!   (CONFIG_TRAD_SIGNALS): a handler without SA_SIGINFO, as upstream installs them, returns
//!   through the vDSO's sigreturn (4119); one with SA_SIGINFO through rt_sigreturn (4193).
//!   Nothing for us to provide (`restorers!(none)` below).
//! - sleep: pause(2) exists in the o32 table (4029; `sleep_call!(pause: ...)` below).

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
        "addiu $t0, $zero, -16",
        "and $sp, $sp, $t0",      // 16-byte alignment (the ABI asks 8), whatever the kernel gave
        "addiu $sp, $sp, -16",    // the argument save area the callee may use
        "jal {start}",
        "nop",                    // the branch delay slot
        "break",                  // start never returns
        ".set reorder",
        start = sym crate::start,
    )
}

/// The one syscall sequence: arguments where the kernel wants them already (a0-a3), the number
/// as the fifth C argument (on the stack, above the caller's save area), -errno on failure.
///
/// # Safety
/// The call must be sound for the kernel with these arguments.
#[unsafe(naked)]
pub unsafe extern "C" fn syscall(a0: usize, a1: usize, a2: usize, a3: usize, nr: usize) -> usize {
    core::arch::naked_asm!(
        ".set noreorder",
        "lw $v0, 16($sp)", // the number: the fifth argument, on the stack
        "syscall",
        "bnez $a3, 1f", // a3 set: v0 is a positive errno
        "nop",
        "jr $ra",
        "nop",
        "1:",
        "jr $ra",
        "subu $v0, $zero, $v0", // (delay slot) -errno
        ".set reorder",
    )
}

// What o32 and n64 share: IRIX's sigaction layout, and the wrappers over `syscall` above.
#[path = "mips_shared.rs"]
mod shared;
pub use shared::{kernel_sigaction, syscall0, syscall1, syscall3, syscall4};
