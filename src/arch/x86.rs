//! x86 (i386, i686).
//!
//! - syscall: number in eax, arguments in ebx, ecx, edx, esi, edi, ebp; `int 0x80` (static,
//!   so no vDSO `__kernel_vsyscall`); result in eax, -4095..-1 being -errno. The kernel
//!   preserves every other register, and `iret` restores the flags.
//! - registers: LLVM reserves esi (its base pointer) and ebp, so a fourth argument is swapped
//!   into esi around the `int` and the register is left as it was found.
//! - entry: esp points at argc.
//! - calls: arguments on the stack; esp must be 16-byte aligned at the `call` (i686 Linux ABI
//!   as LLVM assumes it).
//! - signal return: the kernel honours SA_RESTORER; without it the kernel would jump into the
//!   vDSO, which we would rather not depend on (vdso=0 and some emulators have none). A handler
//!   without SA_SIGINFO (as upstream installs them) gets the old-style frame, unwound by
//!   sigreturn (119) with esp past the signal number; one with SA_SIGINFO gets an rt frame,
//!   unwound by rt_sigreturn (173): `restore` and `restore_rt` (`restorers!(old_style: ...,
//!   rt: ...)` below).
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
        "xor ebp, ebp",   // outermost frame: ends the frame-pointer chain
        "mov eax, esp",   // the initial stack (argc, argv...)
        "and esp, -16",   // the ABI alignment, whatever the kernel gave
        "sub esp, 12",    // so that esp is 16-byte aligned again after the push below
        "push eax",       // the one argument, on the stack
        "call {start}",
        "ud2",            // start never returns
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
        "pop eax",       // drop the signal number: sigreturn expects esp past it
        "mov eax, {nr}", // NR_sigreturn == 119
        "int 0x80",
        "ud2",           // sigreturn does not return
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
        "mov eax, {nr}", // NR_rt_sigreturn == 173; the rt frame has no number to pop
        "int 0x80",
        "ud2",           // rt_sigreturn does not return
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
            "int 0x80",
            inlateout("eax") nr => ret,
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
            "int 0x80",
            inlateout("eax") nr => ret,
            in("ebx") a0,
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
            "int 0x80",
            inlateout("eax") nr => ret,
            in("ebx") a0,
            in("ecx") a1,
            in("edx") a2,
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
            "xchg esi, {a3}", // esi is LLVM's: borrow it for the fourth argument...
            "int 0x80",
            "xchg esi, {a3}", // ...and give it back
            a3 = in(reg) a3,
            inlateout("eax") nr => ret,
            in("ebx") a0,
            in("ecx") a1,
            in("edx") a2,
            options(nostack, preserves_flags)
        );
    }
    ret
}
