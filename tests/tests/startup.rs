//! How pause starts, on the real binary of every architecture: with the signal state a careless
//! parent leaves behind (execve keeps a blocked mask and an ignored SIGTERM), and the calls it
//! makes before its first sleep. `main` at the bottom makes one test per scenario and row of
//! the arch table, as in contract.rs.

use libc::{SIGCHLD, SIGINT, SIGTERM};
use pause_tests::*;

fn assert_exit_0(ended: &Ended) {
    assert_eq!(ended.status.code(), Some(0), "{ended:?}");
}

/// Started with SIGINT, SIGTERM and SIGCHLD blocked and SIGTERM ignored (execve keeps both):
/// pause still ends on SIGTERM with exit 0 and its line. Upstream would sleep through it.
fn inherited_blocked_mask_and_ignored_sigterm(runner: &Runner) {
    assert_hostile_state_is_inherited();
    let mut cmd = runner.command(&[]);
    with_hostile_signal_state(&mut cmd);
    let pause = Pause::from_command(runner, cmd);
    pause.wait_until_sleeping();
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stderr, format!("{WARNING}{GOT_SIGTERM}"));
}

/// The same inherited state as PID 1 of a PID namespace: orphans are still reaped (SIGCHLD
/// gets through), and SIGTERM still ends it.
fn inherited_blocked_mask_as_init(runner: &Runner) {
    assert_hostile_state_is_inherited();
    let inner = runner.command(&[]);
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--pid", "--fork", "--kill-child", "--"])
        .arg(inner.get_program())
        .args(inner.get_args());
    with_hostile_signal_state(&mut cmd);
    let pause = Pause::from_command_as_init(runner, cmd);
    pause.wait_until_sleeping();
    pause.run_inside("i=0; while [ $i -lt 60 ]; do (exit 0) & i=$((i+1)); done");
    pause.wait_until_childless();
    pause.wait_until_sleeping();
    let ended = pause.stop_with(SIGTERM);
    assert_exit_0(&ended);
    assert_eq!(ended.stderr, GOT_SIGTERM);
}

/// The setup itself bites: a program started the same way (through unshare, as above) really
/// begins with the three signals blocked and SIGTERM ignored.
fn assert_hostile_state_is_inherited() {
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--pid", "--fork", "--", "cat", "/proc/self/status"]);
    let status = with_hostile_signal_state(&mut cmd)
        .output()
        .expect("unshare cat");
    let status = String::from_utf8(status.stdout).unwrap();
    let mask = |name: &str| {
        let hex = status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {status}"));
        u64::from_str_radix(hex.trim(), 16).unwrap()
    };
    let three = [SIGINT, SIGTERM, SIGCHLD]
        .iter()
        .fold(0, |set, signo| set | 1 << (signo - 1));
    assert_eq!(mask("SigBlk:") & three, three, "{status}");
    assert_eq!(mask("SigIgn:") & 1 << (SIGTERM - 1), 1 << (SIGTERM - 1));
}

/// From execve to the first sleep as PID 1: the PID check, the mask, three handlers, the sleep.
/// Six calls, in this order, and nothing else.
fn starts_in_six_syscalls(runner: &Runner) {
    let mut expected = vec!["getpid", "rt_sigprocmask"];
    expected.extend(["rt_sigaction"; 3]);
    expected.push(runner.arch.sleep.name);
    assert_eq!(startup_syscalls(runner), expected);
}

fn main() {
    run_on_every_arch(scenarios![
        inherited_blocked_mask_and_ignored_sigterm,
        inherited_blocked_mask_as_init,
        starts_in_six_syscalls,
    ]);
}
