//! riscv64 (riscv64gc).
//!
//! - syscall: number in a7, arguments in a0-a5; `ecall`; result in a0, -4095..-1 being -errno.
//! - entry: sp points at argc. gp is not set up: lld relaxes nothing against it unless asked.
//! - calls: sp 16-byte aligned.
//! - signal return: the ABI has no SA_RESTORER; the kernel always returns through the vDSO's
//!   trampoline, so there is nothing for us to provide (`restorers!(none)` below).
//! - sleep: no pause(2) in the generic syscall table: ppoll (`sleep_call!(ppoll: ...)` below).

use linux_raw_sys::general::__NR_ppoll;
// The generic layout, without sa_restorer: handler, flags, mask.
pub use linux_raw_sys::general::kernel_sigaction;
// The design's syscall crate: the kernel clobbers nothing but a0 here, as sc declares.
pub use sc::{syscall0, syscall1, syscall3, syscall4};

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
        "mv fp, zero",      // outermost frame: ends the frame-pointer chain
        "mv ra, zero",      // and the return-address chain
        "mv a0, sp",        // first argument: the initial stack (argc, argv...)
        "andi sp, sp, -16", // the ABI alignment, whatever the kernel gave
        "call {start}",
        "unimp",            // start never returns
        start = sym crate::start,
    )
}
