//! The upstream pause.c contract, checked on the real binary of every architecture: natively
//! where the host kernel runs it, under qemu-user otherwise. Each scenario below is a function
//! of the runner; `main` at the bottom makes one test per scenario and row of the arch table
//! (per row the host kernel runs, for what only the real kernel shows).

use libc::{SIGCHLD, SIGCONT, SIGINT, SIGKILL, SIGSEGV, SIGSTOP, SIGTERM, SIGUSR1};
use pause_tests::*;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::time::Duration;

/// `-v` in any case and any position after argv[0]: the version on stdout, nothing on stderr,
/// exit 0, without installing handlers or sleeping.
fn version_flag(runner: &Runner) {
    for args in [
        &["-v"][..],
        &["-V"],
        &["a", "-v", "b"],
        &["--", "-V"],
        &["x", "y", "-v"],
    ] {
        let ended = runner.spawn(args).wait();
        assert_exit_0(&ended);
        assert_eq!(ended.stdout, version_line(), "args {args:?}");
        assert_eq!(ended.stderr, "", "args {args:?}");
    }
}

/// Anything that is not exactly `-v`/`-V` is ignored: pause warns, sleeps, and ends on SIGTERM.
fn non_flags_are_ignored(runner: &Runner) {
    for arg in [
        "--v",
        "-vv",
        "v",
        "V",
        "-",
        "-v ",
        " -v",
        "-v=1",
        "",
        "-w",
        "-\u{76}\u{0301}",
    ] {
        let pause = runner.spawn(&[arg]);
        pause.wait_until_sleeping();
        assert_shut_down!(pause.stop_with(SIGTERM), warned(GOT_SIGTERM), "arg {arg:?}");
    }
}

/// argv[0] is the program's name, not an argument: `-v` there is not the flag.
fn argv0_is_not_scanned(runner: &Runner) {
    let pause = Pause::from_command(runner, runner.command_with_argv0("-v", &[]));
    pause.wait_until_sleeping();
    assert_shut_down!(pause.stop_with(SIGTERM), warned(GOT_SIGTERM));
}

/// Executed with an empty argv. Since Linux 5.18 the kernel hands such a program argc 1 with
/// argv[0] = "" (and before, argc 0, which the scan covers by starting at 1; see
/// tests/args.rs). Natively the test makes the real empty-argv execve; qemu-user cannot pass
/// one on, so there the guest gets what the kernel would hand it: argv = [""].
fn empty_argv(runner: &Runner) {
    let command = match &runner.qemu {
        Some(_) => runner.command_with_argv0("", &[]),
        None => {
            let path = CString::new(runner.binary.as_os_str().as_bytes()).unwrap();
            let mut command = runner.command(&[]);
            // SAFETY: runs in the forked child after std has set up stdio; execve is
            // async-signal-safe and everything it reads was allocated before the fork.
            unsafe {
                command.pre_exec(move || {
                    let argv: [*const libc::c_char; 1] = [std::ptr::null()];
                    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
                    libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
                    Err(std::io::Error::last_os_error())
                });
            }
            command
        }
    };
    let pause = Pause::from_command(runner, command);
    pause.wait_until_sleeping();
    assert_shut_down!(pause.stop_with(SIGTERM), warned(GOT_SIGTERM));
}

/// 10,000 arguments are scanned like three: ignored, or the version when `-V` is among them.
fn ten_thousand_arguments(runner: &Runner) {
    let many: Vec<OsString> = (0..10_000).map(|i| format!("arg{i}").into()).collect();
    let pause = Pause::from_command(runner, runner.command_with_argv0("pause", &many));
    pause.wait_until_sleeping();
    assert_shut_down!(pause.stop_with(SIGTERM), warned(GOT_SIGTERM));

    let mut with_flag = many.clone();
    with_flag.push("-V".into());
    let ended = Pause::from_command(runner, runner.command_with_argv0("pause", &with_flag)).wait();
    assert_exit_0(&ended);
    assert_eq!(
        (ended.stdout.as_str(), ended.stderr.as_str()),
        (version_line().as_str(), "")
    );
}

/// Not PID 1: the warning, byte for byte, then SIGTERM's line and exit 0.
fn warns_then_exits_0_on_sigterm(runner: &Runner) {
    let pause = runner.spawn(&[]);
    pause.wait_until_sleeping();
    assert_eq!(pause.stderr_so_far(), WARNING);
    assert_shut_down!(pause.stop_with(SIGTERM), warned(GOT_SIGTERM));
}

fn exits_0_on_sigint(runner: &Runner) {
    let pause = runner.spawn(&[]);
    pause.wait_until_sleeping();
    assert_shut_down!(pause.stop_with(SIGINT), warned(GOT_SIGINT));
}

/// As PID 1 of its namespace: no warning at all; SIGTERM and SIGINT still end it with 0.
fn as_init_no_warning(runner: &Runner) {
    for (signo, line) in [(SIGTERM, GOT_SIGTERM), (SIGINT, GOT_SIGINT)] {
        let pause = runner.spawn_as_init(&[]);
        pause.wait_until_sleeping();
        assert_eq!(pause.stderr_so_far(), "");
        assert_shut_down!(pause.stop_with(signo), line);
    }
}

/// Hundreds of orphans at once, of every kind (exit 0, exit non-zero, killed by a signal),
/// land on pause and are all reaped. Held until the release, they are all alive together and
/// all pause's own: every one the maker made is counted among pause's children before any can
/// exit, and then none is left, not even a zombie.
fn reaps_hundreds_of_orphans(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    let held = pause.hold_orphans(300);
    held.release();
    pause.wait_until_childless();
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
}

/// Orphans killed from outside while they wait, by signals that kill, dump core or are merely
/// unhandled, are reaped like those that exit or kill themselves.
fn reaps_orphans_that_fail_or_are_killed(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    let held = pause.hold_orphans(10);
    for (&pid, signo) in held.pids().iter().zip([SIGKILL, SIGTERM, SIGSEGV, SIGUSR1]) {
        // A held orphan is pause's live child until it dies from this very signal, so its PID
        // cannot have been reused.
        send(pid, signo);
    }
    held.release();
    pause.wait_until_childless();
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
}

/// A child that is stopped and continued is not reaped early and does not wake pause up
/// (SA_NOCLDSTOP); it is reaped when it really ends. Only on the rows the host kernel runs
/// itself: under qemu-user the host kernel wakes qemu, which catches every host signal without
/// SA_NOCLDSTOP and filters for the guest, so the measure would be qemu's. The real-kernel
/// tests (tests/kernels.rs, `init-stopped`) show the same on every architecture's own kernel.
///
/// Certain, not sampled: each step waits for the child's notification to its parent to have
/// happened (the kernel notifies before the stopped child switches out, and a continued child
/// before it goes back to sleep), then judges pause by what a wake-up cannot hide from.
fn stopped_then_continued_child_is_harmless(runner: &Runner) {
    assert!(
        runner.qemu.is_none(),
        "a native-only scenario ran under qemu"
    );
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    let held = pause.hold_orphans(1);
    let child = held.pids()[0];
    // Asleep in its read of the gate: from here its next voluntary switch-out is the stop's.
    wait_until_in_syscall(child, libc::SYS_read);
    let before = poll("pause to be asleep", || {
        (pause.state() == 'S' && pause.in_sleep_call()).then(|| pause.switch_ins())
    });

    let asleep = voluntary_switches(child);
    send(child, SIGSTOP);
    // do_signal_stop: state T, then the parent is notified, then the child switches out.
    let stopped = poll("the child to stop and switch out", || {
        let now = voluntary_switches(child);
        (proc_stat(child)?.state == 'T' && now > asleep).then_some(now)
    });
    assert_not_woken(&pause, before, "a child's stop");

    send(child, SIGCONT);
    // get_signal notifies the parent of the continue, then the read restarts and sleeps.
    poll("the child to continue and sleep again", || {
        (proc_stat(child)?.state == 'S' && voluntary_switches(child) > stopped).then_some(())
    });
    assert_not_woken(&pause, before, "a child's continue");
    held.assert_held(&pause);

    // The control: the same measure does see a wake-up.
    pause.signal(SIGCHLD);
    poll("pause's switch-ins to count a SIGCHLD", || {
        (pause.switch_ins() > before).then_some(())
    });

    held.release();
    pause.wait_until_childless();
    pause.wait_until_sleeping();
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
}

/// Pause has not been woken since it was switched in `before` times: still asleep in its sleep
/// call, no SIGCHLD pending and no switch-in since. A wake-up that has not run yet shows as
/// state R or a pending SIGCHLD; one that has run shows in the switch-ins, read last for that.
fn assert_not_woken(pause: &Pause, before: u64, cause: &str) {
    assert_eq!(pause.state(), 'S', "pause is not asleep after {cause}");
    assert!(
        pause.in_sleep_call(),
        "pause is not in its sleep call after {cause}"
    );
    assert_eq!(
        pause.pending_signals() & 1 << (SIGCHLD - 1),
        0,
        "SIGCHLD pending for pause after {cause}"
    );
    assert_eq!(pause.switch_ins(), before, "{cause} woke pause up");
}

/// SIGSTOP/SIGCONT on pause itself: stopped, its orphans wait as zombies; continued, it reaps
/// them and carries on.
fn stopped_and_continued_pause_catches_up(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    pause.signal(SIGSTOP);
    poll("pause to stop", || (pause.state() == 'T').then_some(()));
    let held = pause.hold_orphans(5);
    let made = held.made();
    held.release();
    // A stopped pause reaps nothing: the zombies can only pile up until all are there.
    poll("every released orphan to wait as a zombie", || {
        let children = pause.children();
        (children.len() == made && children.iter().all(|c| c.state == 'Z')).then_some(())
    });
    pause.signal(SIGCONT);
    pause.wait_until_childless();
    pause.wait_until_sleeping();
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
}

/// Asleep, pause uses no CPU time and is not woken at all.
fn idle_costs_nothing(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    let (ticks, switches) = (pause.cpu_ticks(), pause.context_switches());
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(pause.cpu_ticks(), ticks, "CPU ticks while idle");
    assert_eq!(pause.context_switches(), switches, "wake-ups while idle");
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
}

/// SIGTERM while orphans are being created and reaped as fast as a shell can, with orphans
/// pending: exit 0 with the one line, whatever pause was in the middle of.
fn sigterm_during_orphan_storm(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    let held = pause.hold_orphans(20);
    let mut storm = pause.start_inside(ENDLESS_STORM);
    storm.wait_for_lines(100);
    held.assert_held(&pause);
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
    assert_ended_with_its_namespace(storm.wait());
}

/// The storm is endless, so only its namespace's end could end it: the kernel SIGKILLs every
/// process left in a PID namespace whose init exits, and nsenter re-raises the signal its
/// child died of. Any other ending (an exit status, another signal) means it had stopped on
/// its own, perhaps before the SIGTERM it was meant to overlap.
fn assert_ended_with_its_namespace(status: std::process::ExitStatus) {
    assert_eq!(
        status.signal(),
        Some(SIGKILL),
        "the storm ended by itself ({status}), not with its namespace"
    );
}

/// Orphans without end: `( job & )`'s subshell exits at once, so each job is orphaned onto
/// pause as it starts; a line per orphan made. A fork the kernel refuses (as it does to every
/// fork into a namespace whose init is exiting, in the moment before it kills the rest) makes
/// dash exit: the EXIT trap starts the loop over instead, so nothing but a signal ends it.
const ENDLESS_STORM: &str = r#"trap 'exec sh -c "$0" "$0"' EXIT
while :; do ( (exit 1) & ); echo made; done"#;

/// Ten thousand SIGCHLDs with nothing to reap: pause goes back to sleep, says nothing (its
/// stderr at the end is SIGTERM's line alone), then still reaps its orphans and still exits 0
/// on SIGTERM.
fn survives_sigchld_flood(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    for _ in 0..10_000 {
        pause.signal(SIGCHLD);
    }
    pause.wait_until_sleeping();
    let held = pause.hold_orphans(5);
    held.release();
    pause.wait_until_childless();
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
}

/// A signal pause has no handler for ends it the default way, as upstream: this shows the
/// suite would see a crash (signal instead of exit status) if pause ever had one.
fn other_signals_take_the_default_action(runner: &Runner) {
    let pause = runner.spawn(&[]);
    pause.wait_until_sleeping();
    // (qemu re-raises a guest's fatal signal on itself, so the status reads the same.)
    let ended = pause.stop_with(SIGUSR1);
    assert_eq!(ended.status.signal(), Some(SIGUSR1), "{ended:?}");
}

fn voluntary_switches(pid: i32) -> u64 {
    status_field(pid, "voluntary_ctxt_switches")
        .parse()
        .unwrap()
}

fn send(pid: i32, signo: i32) {
    // SAFETY: kill(2); the callers hold the PID as a child of a pause they control.
    assert_eq!(unsafe { libc::kill(pid, signo) }, 0, "kill({pid}, {signo})");
}

fn main() {
    let mut trials = on_every_arch(scenarios![
        version_flag,
        non_flags_are_ignored,
        argv0_is_not_scanned,
        empty_argv,
        ten_thousand_arguments,
        warns_then_exits_0_on_sigterm,
        exits_0_on_sigint,
        as_init_no_warning,
        reaps_hundreds_of_orphans,
        reaps_orphans_that_fail_or_are_killed,
        stopped_and_continued_pause_catches_up,
        idle_costs_nothing,
        sigterm_during_orphan_storm,
        survives_sigchld_flood,
        other_signals_take_the_default_action,
    ]);
    trials.extend(on_native_arches(scenarios![
        stopped_then_continued_child_is_harmless
    ]));
    run_trials(trials)
}
