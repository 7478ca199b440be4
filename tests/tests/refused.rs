//! What pause does when the kernel refuses one of its calls (here a seccomp filter that
//! answers EPERM, as a too-strict runtime profile would).
//!
//! The sleep: upstream's `for (;;) pause();` spins on a CPU forever; ours ends the loop with
//! upstream's message and status 42 instead. Shown where the refusal reaches pause: natively
//! (the rows the host kernel runs; on an amd64 host amd64 and 386, both pause(2) arches) and
//! under qemu for the ppoll arches (arm64, riscv64, loong64), whose ppoll passes the host's
//! error on. Not shown anywhere: the refused sleep of the other pause(2) arches (arm, armv6,
//! armv5, ppc64le, s390x, mips64le, mipsle on an amd64 host). qemu-user's emulation of
//! pause(2) answers EINTR whatever its host call returned, so no refusal reaches them under
//! emulation, and the real-kernel tests (tests/kernels.rs) have no case for it either: their
//! busybox /init cannot install a seccomp filter.
//!
//! A handler that cannot be installed: exit 1, 2, 3 for SIGINT, SIGTERM, SIGCHLD, as upstream.
//! The mask it cannot clear: carries on, as upstream (which never clears it) would.

use libc::SIGTERM;
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use libtest_mimic::Trial;
use pause_tests::{
    ARCHES, Arch, GOT_SIGTERM, Pause, Runner, WARNING, assert_shut_down, native_arches,
    on_native_arches, run_trials, scenarios, trial, warned,
};
use std::io::{Read, Seek};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Whether a refused sleep can reach this row's binary here: natively always; under qemu
/// only through its ppoll.
fn refusal_reaches(arch: &Arch) -> bool {
    native_arches().any(|a| a == arch) || arch.sleep.name == "ppoll"
}

fn sleep_refused(name: &str) {
    let runner = Runner::new(name);
    let mut command = runner.command(&[]);
    refuse(
        &mut command,
        &[("pause", None), ("ppoll", None), ("rt_sigsuspend", None)],
    );
    let ended = Pause::from_command(&runner, command).wait();
    assert_eq!(ended.status.code(), Some(42), "{ended:?}");
    assert_eq!(ended.stderr, warned("Error: infinite loop terminated\n"));
}

/// Makes each call in `calls` fail with EPERM (only when its first argument equals the value
/// given, if one is), for the tasks of every row the host kernel runs (`native_arches`: on an
/// amd64 host x86_64 and i386 alike), and for qemu-user itself, a host task.
fn refuse(command: &mut Command, calls: &[(&str, Option<u64>)]) {
    let mut filter = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    for arch in native_arches() {
        filter
            .add_arch(arch.seccomp.parse::<ScmpArch>().unwrap())
            .unwrap();
    }
    for &(call, arg0) in calls {
        let call = ScmpSyscall::from_name(call).unwrap();
        let refusal = ScmpAction::Errno(libc::EPERM);
        match arg0 {
            None => filter.add_rule(refusal, call).unwrap(),
            Some(value) => filter
                .add_rule_conditional(
                    refusal,
                    call,
                    &[ScmpArgCompare::new(0, ScmpCompareOp::Equal, value)],
                )
                .unwrap(),
        };
    }
    // Compile before the fork; the child only hands the finished program to the kernel.
    let mut file = tempfile::tempfile().unwrap();
    filter.export_bpf(&file).unwrap();
    let mut bytes = Vec::new();
    file.rewind().unwrap();
    file.read_to_end(&mut bytes).unwrap();
    let program: Vec<libc::sock_filter> = bytes
        .chunks_exact(size_of::<libc::sock_filter>())
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    // SAFETY: prctl is async-signal-safe and `program` was built before the fork.
    unsafe {
        command.pre_exec(move || {
            let fprog = libc::sock_fprog {
                len: program.len() as u16,
                filter: program.as_ptr() as *mut _,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// rt_sigaction refused for one signal only: pause stops at that handler, with its status and
/// nothing but the warning on stderr.
fn handler_refused(runner: &Runner, signo: i32) -> (Option<i32>, String) {
    assert!(runner.qemu.is_none(), "the filter must reach pause itself");
    let mut command = runner.command(&[]);
    refuse(&mut command, &[("rt_sigaction", Some(signo as u64))]);
    let ended = Pause::from_command(runner, command).wait();
    (ended.status.code(), ended.stderr)
}

fn sigint_handler_refused_exits_1(runner: &Runner) {
    assert_eq!(
        handler_refused(runner, libc::SIGINT),
        (Some(1), WARNING.to_string())
    );
}

fn sigterm_handler_refused_exits_2(runner: &Runner) {
    assert_eq!(
        handler_refused(runner, libc::SIGTERM),
        (Some(2), WARNING.to_string())
    );
}

fn sigchld_handler_refused_exits_3(runner: &Runner) {
    assert_eq!(
        handler_refused(runner, libc::SIGCHLD),
        (Some(3), WARNING.to_string())
    );
}

/// rt_sigprocmask refused (a profile written for upstream's calls): pause runs as before.
fn mask_refused_carries_on(runner: &Runner) {
    assert!(runner.qemu.is_none(), "the filter must reach pause itself");
    let mut command = runner.command(&[]);
    refuse(&mut command, &[("rt_sigprocmask", None)]);
    let pause = Pause::from_command(runner, command);
    pause.wait_until_sleeping();
    assert_shut_down!(pause.stop_with(SIGTERM), warned(GOT_SIGTERM));
}

fn main() {
    let mut trials: Vec<Trial> = ARCHES
        .iter()
        .filter(|arch| refusal_reaches(arch))
        .map(|arch| {
            trial(arch, "sleep_refused_exits_42", move || {
                sleep_refused(arch.name)
            })
        })
        .collect();
    // Natively only: under qemu-user the filter reaches qemu, which emulates rt_sigaction and
    // rt_sigprocmask itself, so no refusal would reach pause's handlers or mask there.
    trials.extend(on_native_arches(scenarios![
        sigint_handler_refused_exits_1,
        sigterm_handler_refused_exits_2,
        sigchld_handler_refused_exits_3,
        mask_refused_carries_on,
    ]));
    run_trials(trials)
}
