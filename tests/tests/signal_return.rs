//! How pause's handlers return, and the signal state it sleeps in.
//!
//! The kernel builds an old-style frame for a handler installed without SA_SIGINFO on arm,
//! i386 and s390x, and an rt frame with it; the trampoline must match, or every handler return
//! corrupts the process. Shipped binaries install upstream's way (no SA_SIGINFO); the test-only
//! `siginfo` builds (`cargo xtask test` makes them) install with it. For both, on every
//! architecture: qemu-user's `-strace` shows which return call the handler really made (the
//! one the arch table says), after a real handler return (an orphan reaped, pause asleep
//! again, then SIGTERM and exit 0). Natively (amd64 and, with IA-32 emulation, i386), the
//! `siginfo` build also goes through real kernel rt frames: 50 orphans and SIGTERM.

use libc::{SIGCHLD, SIGINT, SIGTERM};
use pause_tests::{
    ARCHES, Arch, GOT_SIGTERM, Pause, Runner, assert_shut_down, observed_syscalls,
    on_native_arches, run_trials, scenarios, status_field, trial,
};

/// The handler-return call seen under emulation is the one the table names for `siginfo`, and
/// the other flavour never appears.
fn returns_through_the_matching_trampoline(arch: &'static Arch, siginfo: bool) {
    let runner = if siginfo {
        Runner::test_build(arch.name, "siginfo")
    } else {
        Runner::new(arch.name)
    };
    let calls = observed_syscalls(&runner);
    let expected = arch.signal_return.call(siginfo);
    let other = match expected {
        "sigreturn" => "rt_sigreturn",
        _ => "sigreturn",
    };
    assert!(
        calls.contains(expected) && !calls.contains(other),
        "{} ({}): expected {expected}, saw {calls:?}",
        arch.name,
        if siginfo { "SA_SIGINFO" } else { "shipped" }
    );
}

/// The `siginfo` build on the real kernel: handlers return through rt frames, again and again.
fn siginfo_build_reaps_and_exits_natively(runner: &Runner) {
    let pause = asleep_as_init_natively(&Runner::test_build(runner.arch.name, "siginfo"));
    // Held, they are pause's for certain, so the emptying is pause's reaping, handler after
    // handler returning through the rt frame.
    let held = pause.hold_orphans(50);
    held.release();
    pause.wait_until_childless();
    for _ in 0..1000 {
        pause.signal(SIGCHLD);
    }
    pause.wait_until_sleeping();
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
}

/// What the kernel itself says of the sleeping (shipped) pause: exactly SIGINT, SIGTERM and
/// SIGCHLD caught, nothing blocked. (Which other signals its parent left ignored is not
/// pause's business; none of its three can be among them.)
fn sleeps_with_three_handlers_and_nothing_blocked(runner: &Runner) {
    let pause = asleep_as_init_natively(runner);
    let mask = |name| u64::from_str_radix(&status_field(pause.pid, name), 16).unwrap();
    let caught = [SIGINT, SIGTERM, SIGCHLD]
        .iter()
        .fold(0, |set, signo| set | 1 << (signo - 1));
    assert_eq!(mask("SigCgt"), caught, "SigCgt");
    assert_eq!(mask("SigBlk"), 0, "SigBlk");
    assert_eq!(mask("SigIgn") & caught, 0, "SigIgn");
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
}

/// `runner`'s binary on the host kernel itself, as PID 1 of a new namespace, asleep.
fn asleep_as_init_natively(runner: &Runner) -> Pause {
    assert!(
        runner.qemu.is_none(),
        "{} does not run natively on this host",
        runner.arch.name
    );
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    pause
}

fn main() {
    let mut trials = Vec::new();
    for arch in ARCHES {
        for (siginfo, flavour) in [(false, "shipped"), (true, "siginfo")] {
            trials.push(trial(
                arch,
                &format!("{flavour}_returns_through_the_matching_trampoline"),
                move || returns_through_the_matching_trampoline(arch, siginfo),
            ));
        }
    }
    // The real kernel runs the host's own architecture and the one it also runs (on CI's
    // amd64 machines: amd64 and, through IA-32 emulation, 386); a host we do not ship for
    // runs none.
    trials.extend(on_native_arches(scenarios![
        siginfo_build_reaps_and_exits_natively,
        sleeps_with_three_handlers_and_nothing_blocked,
    ]));
    run_trials(trials)
}
