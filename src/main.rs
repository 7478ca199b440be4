//! pause: the first process of every Kubernetes pod. It holds the pod's namespaces open, reaps
//! the orphans that land on it as PID 1, and exits 0 on SIGINT/SIGTERM; the same contract as
//! upstream's build/pause/linux/pause.c, with no libc underneath.

#![no_std]
#![no_main]
// Inline assembly on powerpc64, s390x and MIPS is still behind a feature gate. Enabled for
// every arch, so that a new one needs no entry here: on the others it changes nothing and
// warns about nothing, and every build already runs with RUSTC_BOOTSTRAP (build-std needs it).
#![feature(asm_experimental_arch)]

mod arch;
mod args;

use arch::kernel_sigaction;
use core::ffi::c_int;
use core::ptr::null_mut;
use linux_raw_sys::errno::EINTR;
use linux_raw_sys::general::{
    __NR_exit_group, __NR_getpid, __NR_rt_sigaction, __NR_rt_sigprocmask, __NR_wait4, __NR_write,
    SA_NOCLDSTOP, SA_SIGINFO, SIG_UNBLOCK, SIGCHLD, SIGINT, SIGTERM, WNOHANG, kernel_sigset_t,
};

const VERSION: &str = concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"), "\n");
const NOT_FIRST: &[u8] = b"Warning: pause should be the first process\n";
// glibc's psignal() wording, which upstream prints.
const GOT_SIGINT: &[u8] = b"Shutting down, got signal: Interrupt\n";
const GOT_SIGTERM: &[u8] = b"Shutting down, got signal: Terminated\n";
const LOOP_ENDED: &[u8] = b"Error: infinite loop terminated\n";

const STDOUT: usize = 1;
const STDERR: usize = 2;

/// Upstream installs its handlers without SA_SIGINFO, and so do we; the test-only feature adds
/// it so that the suite can drive the other signal-return path too.
const HANDLER_FLAGS: u32 = if cfg!(feature = "siginfo-handlers") {
    SA_SIGINFO
} else {
    0
};

/// Called by `arch::_start` with the initial stack pointer: argc, then argv[0..argc], NULL.
///
/// # Safety
/// `stack` must be the process's initial stack as the kernel laid it out.
pub unsafe extern "C" fn start(stack: *const usize) -> ! {
    // SAFETY: the kernel put argc at the initial stack pointer and argv[0..argc] right after
    // it, each pointing to a NUL-terminated string, then NULL.
    if unsafe { args::asks_for_version(*stack, stack.add(1) as *const *const u8) } {
        write(STDOUT, VERSION.as_bytes());
        exit(0);
    }

    // SAFETY: getpid takes no arguments.
    if unsafe { arch::syscall0(__NR_getpid as usize) } != 1 {
        // Not an error: pause also sees use outside of infra containers.
        write(STDERR, NOT_FIRST);
    }

    // While one of these handlers runs, the other two signals wait: a SIGTERM during the
    // SIGINT message, or a SIGCHLD in the middle of it, cannot interleave a second write.
    let ours = signal_bit(SIGINT) | signal_bit(SIGTERM) | signal_bit(SIGCHLD);
    // SAFETY: shut_down only makes syscalls with its own arguments and our constants, so it
    // may run at any point of the program.
    if !unsafe { install_handler(SIGINT, shut_down, HANDLER_FLAGS, ours) } {
        exit(1);
    }
    // SAFETY: as for SIGINT.
    if !unsafe { install_handler(SIGTERM, shut_down, HANDLER_FLAGS, ours) } {
        exit(2);
    }
    // No SA_RESTART, as upstream. It would change nothing: the kernel never restarts
    // pause or ppoll after a handler (both return EINTR either way), and nothing else
    // here blocks.
    // SAFETY: reap_children only calls wait4, with no pointers, so it may run at any point of
    // the program.
    if !unsafe { install_handler(SIGCHLD, reap_children, SA_NOCLDSTOP | HANDLER_FLAGS, 0) } {
        exit(3);
    }

    // A blocked mask survives execve: whoever started us (a runtime, a shim, a shell) may
    // have left these blocked, and then SIGTERM would never stop us and no orphan would
    // ever be reaped. Only these three: the rest of the mask is the caller's business.
    // After the handlers, so that a SIGTERM already pending reaches ours (exit 0 with the
    // line) rather than the default action. A refusal (a profile without the call) leaves
    // the mask as upstream would run with.
    unblock(ours);

    // The sleep only ever returns EINTR. Anything else means the call itself is refused
    // (say, by a seccomp profile) and looping on it would burn a CPU for the life of the
    // pod: stop with upstream's "cannot happen" message instead.
    while arch::sleep_until_signal() == -(EINTR as isize) {}
    write(STDERR, LOOP_ENDED);
    exit(42)
}

/// SIGINT/SIGTERM: a normal end of the pod, so exit status 0.
extern "C" fn shut_down(signo: c_int) {
    write(
        STDERR,
        if signo == SIGINT as c_int {
            GOT_SIGINT
        } else {
            GOT_SIGTERM
        },
    );
    exit(0)
}

/// SIGCHLD: collect every child that has exited; signals do not queue, so one SIGCHLD may stand
/// for many children.
extern "C" fn reap_children(_: c_int) {
    const ANY_CHILD: usize = -1isize as usize;
    loop {
        // SAFETY: wait4 with no status or rusage pointers.
        let pid = unsafe { arch::syscall4(__NR_wait4 as usize, ANY_CHILD, 0, WNOHANG as usize, 0) };
        // 0: children left, none exited yet; -ECHILD: no children at all.
        if pid as isize <= 0 {
            break;
        }
    }
}

/// # Safety
/// `handler` must be safe to run at any point of the program.
unsafe fn install_handler(
    signo: u32,
    handler: extern "C" fn(c_int),
    flags: u32,
    blocked: usize,
) -> bool {
    // SAFETY: all-zero is a valid kernel_sigaction (no handler, no flags, empty mask).
    let mut action: kernel_sigaction = unsafe { core::mem::zeroed() };
    action.sa_handler_kernel = Some(handler);
    action.sa_flags = flags as _;
    action.sa_mask.sig[0] = blocked as _;
    arch::set_restorer(&mut action);
    // SAFETY: the kernel reads `action`; we ask for no old action back.
    unsafe {
        arch::syscall4(
            __NR_rt_sigaction as usize,
            signo as usize,
            &action as *const _ as usize,
            null_mut::<kernel_sigaction>() as usize,
            size_of::<kernel_sigset_t>(),
        ) == 0
    }
}

/// Unblocks the signals in `signals` (a first word of a signal set); the rest of the mask stays.
fn unblock(signals: usize) {
    // SAFETY: all-zero is the empty set.
    let mut set: kernel_sigset_t = unsafe { core::mem::zeroed() };
    set.sig[0] = signals as _;
    // SAFETY: the kernel reads `set`, which lives through the call; we ask for no old mask
    // back. Unblocking touches no memory of ours: a handler it lets run was vouched for when
    // it was installed.
    unsafe {
        arch::syscall4(
            __NR_rt_sigprocmask as usize,
            SIG_UNBLOCK as usize,
            &set as *const _ as usize,
            0,
            size_of::<kernel_sigset_t>(),
        );
    }
}

/// The bit for `signo` in the first word of a signal set.
const fn signal_bit(signo: u32) -> usize {
    1 << (signo - 1)
}

/// One write(2). A short or failed write of a diagnostic is not worth a retry loop: upstream's
/// unbuffered stderr does not retry either.
fn write(fd: usize, bytes: &[u8]) {
    // SAFETY: the kernel only reads, bytes.len() bytes from a live slice; a bad `fd` is an
    // error it returns, not a fault.
    unsafe {
        arch::syscall3(
            __NR_write as usize,
            fd,
            bytes.as_ptr() as usize,
            bytes.len(),
        );
    }
}

/// exit_group(2): ends every thread, as exit(3) does.
fn exit(status: usize) -> ! {
    // SAFETY: exit_group takes no pointers and does not return, so nothing runs after it.
    // Only a seccomp filter answering an errno for exit_group itself could make it return,
    // which would refuse every program its exit; like rustix's `exit_group`, we take the call
    // as the kernel documents it rather than spend bytes on every arch on a retry loop.
    unsafe {
        arch::syscall1(__NR_exit_group as usize, status);
        core::hint::unreachable_unchecked()
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // Nothing in this program can panic (no indexing, no arithmetic that overflows); should a
    // future change add a panic path, end the process rather than spin.
    exit(101)
}
