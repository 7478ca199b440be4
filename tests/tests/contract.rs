//! The upstream pause.c contract, checked on the real binary of every architecture: natively
//! where the host kernel runs it, under qemu-user otherwise. Each scenario below is a function
//! of the runner; `main` at the bottom makes one test per scenario and row of the arch table.

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
        let ended = pause.stop_with(SIGTERM);
        assert_exit_0(&ended);
        assert_eq!(ended.stdout, "", "arg {arg:?}");
        assert_eq!(
            ended.stderr,
            format!("{WARNING}{GOT_SIGTERM}"),
            "arg {arg:?}"
        );
    }
}

/// argv[0] is the program's name, not an argument: `-v` there is not the flag.
fn argv0_is_not_scanned(runner: &Runner) {
    let pause = Pause::from_command(runner, runner.command_with_argv0("-v", &[]));
    pause.wait_until_sleeping();
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stdout, "");
    assert_eq!(ended.stderr, format!("{WARNING}{GOT_SIGTERM}"));
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
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stdout, "");
    assert_eq!(ended.stderr, format!("{WARNING}{GOT_SIGTERM}"));
}

/// 10,000 arguments are scanned like three: ignored, or the version when `-V` is among them.
fn ten_thousand_arguments(runner: &Runner) {
    let many: Vec<OsString> = (0..10_000).map(|i| format!("arg{i}").into()).collect();
    let pause = Pause::from_command(runner, runner.command_with_argv0("pause", &many));
    pause.wait_until_sleeping();
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stderr, format!("{WARNING}{GOT_SIGTERM}"));

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
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stdout, "");
    assert_eq!(ended.stderr, format!("{WARNING}{GOT_SIGTERM}"));
}

fn exits_0_on_sigint(runner: &Runner) {
    let pause = runner.spawn(&[]);
    pause.wait_until_sleeping();
    let ended = pause.stop_with(SIGINT);
    assert_exit_0(&ended);
    assert_eq!(ended.stderr, format!("{WARNING}{GOT_SIGINT}"));
}

/// As PID 1 of its namespace: no warning at all; SIGTERM and SIGINT still end it with 0.
fn as_init_no_warning(runner: &Runner) {
    for (signo, line) in [(SIGTERM, GOT_SIGTERM), (SIGINT, GOT_SIGINT)] {
        let pause = runner.spawn_as_init(&[]);
        pause.wait_until_sleeping();
        assert_eq!(pause.stderr_so_far(), "");
        let ended = pause.stop_with(signo);
        assert_exit_0(&ended);
        assert_eq!(ended.stdout, "");
        assert_eq!(ended.stderr, line);
    }
}

/// Hundreds of orphans, exited and still running, land on pause and are all reaped.
fn reaps_hundreds_of_orphans(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    pause.run_inside(
        "i=0; while [ $i -lt 300 ]; do (exit 0) & i=$((i+1)); done; \
         i=0; while [ $i -lt 100 ]; do sleep 2 & i=$((i+1)); done",
    );
    // The sleepers cannot have exited yet: they prove the orphans really are pause's.
    let adopted = pause.children().len();
    assert!(
        adopted >= 100,
        "only {adopted} orphans were adopted by pause"
    );
    pause.wait_until_childless();
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stderr, GOT_SIGTERM);
}

/// Orphans that exit non-zero or die by a signal are reaped like the rest.
fn reaps_orphans_that_fail_or_are_killed(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    pause.run_inside(
        "for i in 1 2 3 4; do sleep 60 & done; (exit 7) & (exit 255) & sh -c 'kill -ABRT $$' &",
    );
    let sleepers = poll("four sleeping orphans", || {
        let running: Vec<_> = pause
            .children()
            .into_iter()
            .filter(|c| c.state != 'Z')
            .collect();
        (running.len() == 4).then_some(running)
    });
    for (child, signo) in sleepers.iter().zip([SIGKILL, SIGTERM, SIGSEGV, SIGUSR1]) {
        // SAFETY: kill(2) on pause's child, which cannot be reaped (and its PID reused) by
        // anyone but pause, and pause reaps only after the child dies from this very signal.
        assert_eq!(unsafe { libc::kill(child.pid, signo) }, 0);
    }
    pause.wait_until_childless();
    assert_eq!(pause.stderr_so_far(), "");
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stderr, GOT_SIGTERM);
}

/// A child that is stopped and continued is not reaped early and does not wake pause up
/// (SA_NOCLDSTOP); it is reaped when it really ends.
fn stopped_then_continued_child_is_harmless(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    pause.run_inside("sleep 60 &");
    let child = poll("the orphan", || pause.children().first().copied());
    let switches = pause.context_switches();
    send(child.pid, SIGSTOP);
    poll("the child to stop", || {
        (proc_stat(child.pid)?.state == 'T').then_some(())
    });
    send(child.pid, SIGCONT);
    poll("the child to run again", || {
        (proc_stat(child.pid)?.state == 'S').then_some(())
    });
    std::thread::sleep(Duration::from_millis(100));
    if runner.qemu.is_none() {
        // Under emulation the host kernel wakes qemu itself, which catches every host signal
        // without SA_NOCLDSTOP and filters for the guest; only natively is this pause's own.
        assert_eq!(
            pause.context_switches(),
            switches,
            "pause woke up for a stop or continue"
        );
    }
    assert_eq!(
        pause.children().len(),
        1,
        "the live child must still be there"
    );
    send(child.pid, SIGTERM);
    pause.wait_until_childless();
    pause.wait_until_sleeping();
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stderr, GOT_SIGTERM);
}

/// SIGSTOP/SIGCONT on pause itself: stopped, its orphans wait as zombies; continued, it reaps
/// them and carries on.
fn stopped_and_continued_pause_catches_up(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    pause.signal(SIGSTOP);
    poll("pause to stop", || (pause.state() == 'T').then_some(()));
    pause.run_inside("(exit 3) & (exit 4) &");
    poll("two zombies while pause is stopped", || {
        (pause.children().iter().filter(|c| c.state == 'Z').count() == 2).then_some(())
    });
    pause.signal(SIGCONT);
    pause.wait_until_childless();
    pause.wait_until_sleeping();
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stderr, GOT_SIGTERM);
}

/// Asleep, pause uses no CPU time and is not woken at all.
fn idle_costs_nothing(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    let (ticks, switches) = (pause.cpu_ticks(), pause.context_switches());
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(pause.cpu_ticks(), ticks, "CPU ticks while idle");
    assert_eq!(pause.context_switches(), switches, "wake-ups while idle");
    assert_exit_0(&pause.stop_with(SIGTERM));
}

/// SIGTERM while orphans are being created and reaped as fast as a shell can: exit 0 with the
/// one line, whatever pause was in the middle of.
fn sigterm_during_orphan_storm(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    // `( job & )`: the subshell exits at once, so every job is orphaned onto pause as it
    // starts. The sleeper first, so there is something to see arrive.
    let mut storm = pause.spawn_inside(
        "(sleep 60 &); i=0; while [ $i -lt 5000 ]; do ( (exit 1) & ); i=$((i+1)); done",
    );
    poll("the storm to reach pause", || {
        (!pause.children().is_empty()).then_some(())
    });
    std::thread::sleep(Duration::from_millis(200));
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stderr, GOT_SIGTERM);
    // The namespace died with its init; the storm's shell went with it.
    wait_bounded(&mut storm, PATIENCE);
}

/// Ten thousand SIGCHLDs with nothing to reap: pause stays asleep and silent, then still reaps
/// a real orphan and still exits 0 on SIGTERM.
fn survives_sigchld_flood(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    for _ in 0..10_000 {
        pause.signal(SIGCHLD);
    }
    pause.wait_until_sleeping();
    assert_eq!(pause.stderr_so_far(), "");
    pause.run_inside("sleep 0.1 &");
    pause.wait_until_childless();
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stderr, GOT_SIGTERM);
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

fn send(pid: i32, signo: i32) {
    // SAFETY: kill(2); the callers hold the PID as a child of a pause they control.
    assert_eq!(unsafe { libc::kill(pid, signo) }, 0, "kill({pid}, {signo})");
}

fn main() {
    run_on_every_arch(scenarios![
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
        stopped_then_continued_child_is_harmless,
        stopped_and_continued_pause_catches_up,
        idle_costs_nothing,
        sigterm_during_orphan_storm,
        survives_sigchld_flood,
        other_signals_take_the_default_action,
    ]);
}
