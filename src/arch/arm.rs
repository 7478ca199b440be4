//! arm: arm/v7 (armv7-unknown-linux-gnueabihf), arm/v6 (arm-unknown-linux-gnueabihf, ARMv6
//! with VFP) and arm/v5 (armv5te-unknown-linux-gnueabi); EABI, A32 code.
//!
//! - variants: one build per variant, each from its own target, proven under qemu with a CPU
//!   of its generation (cortex-a7, arm1176, arm926) and on the armmp-lpae and rpi kernels. The
//!   three come out within 4 bytes of each other with the same instructions, so one ARMv5TE
//!   binary could serve all three; it would save nothing a node pulls (each platform has its
//!   own config either way), and separate builds keep each variant on its target's own code.
//!
//! - syscall: number in r7, arguments in r0-r5; `svc 0` (EABI); result in r0, -4095..-1 being
//!   -errno. The kernel preserves every other register and the flags (it restores the saved
//!   CPSR on return).
//! - entry: sp points at argc.
//! - calls: sp 8-byte aligned at public interfaces (AAPCS); we align to 16 as the kernel does.
//! - signal return: the kernel honours SA_RESTORER and otherwise returns through its sigpage;
//!   ours keeps the return path in our own code, like glibc and musl do. A handler without
//!   SA_SIGINFO (as upstream installs them) gets the old-style frame, unwound by sigreturn
//!   (119): `restore`; one with SA_SIGINFO gets an rt frame, unwound by rt_sigreturn (173):
//!   `restore_rt` (`restorers!(old_style: ..., rt: ...)` below).
//! - sleep: pause(2) exists in the EABI table (`sleep_call!(pause: ...)` below).

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
        "mov fp, #0",         // outermost frame: ends the frame-pointer chain
        "mov lr, #0",         // and the return-address chain
        "mov r0, sp",         // first argument: the initial stack (argc, argv...)
        "bic ip, r0, #15",    // the alignment, whatever the kernel gave
        "mov sp, ip",
        "bl {start}",
        "udf #0",             // start never returns
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
        "mov r7, #{nr}", // NR_sigreturn == 119
        "svc 0",
        "udf #0",        // sigreturn does not return
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
        "mov r7, #{nr}", // NR_rt_sigreturn == 173
        "svc 0",
        "udf #0",        // rt_sigreturn does not return
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
            in("r7") nr,
            lateout("r0") ret,
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
            in("r7") nr,
            inlateout("r0") a0 => ret,
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
            in("r7") nr,
            inlateout("r0") a0 => ret,
            in("r1") a1,
            in("r2") a2,
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
            in("r7") nr,
            inlateout("r0") a0 => ret,
            in("r1") a1,
            in("r2") a2,
            in("r3") a3,
            options(nostack, preserves_flags)
        );
    }
    ret
}
