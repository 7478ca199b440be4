//! How pause starts, on the real binary of every architecture: with the signal state a careless
//! parent leaves behind (execve keeps a blocked mask and an ignored SIGTERM), and the calls it
//! makes before its first sleep. `main` at the bottom makes one test per scenario and row of
//! the arch table, as in contract.rs.

use libc::{SIGCHLD, SIGINT, SIGTERM};
use pause_tests::*;
use std::os::unix::process::CommandExt;

/// Started with SIGINT, SIGTERM and SIGCHLD blocked and SIGTERM ignored (execve keeps both):
/// pause still ends on SIGTERM with exit 0 and its line. Upstream would sleep through it.
fn inherited_blocked_mask_and_ignored_sigterm(runner: &Runner) {
    assert_hostile_state_is_inherited();
    let mut cmd = runner.command(&[]);
    with_hostile_signal_state(&mut cmd);
    let pause = Pause::from_command(runner, cmd);
    pause.wait_until_sleeping();
    assert_shut_down!(pause.stop_with(SIGTERM), warned(GOT_SIGTERM));
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
    // Held, they are pause's for certain before any can exit: only its reaping can empty
    // its children afterwards.
    let held = pause.hold_orphans(60);
    held.release();
    pause.wait_until_childless();
    pause.wait_until_sleeping();
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
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

/// A SIGTERM sent while it was blocked, before the exec, is still pending when pause starts:
/// pause takes it as soon as its handler is in place, exit 0 with its line, not the default
/// action's death by signal.
fn pending_sigterm_ends_it_with_exit_0(runner: &Runner) {
    let mut cmd = runner.command(&[]);
    with_hostile_signal_state(&mut cmd);
    // SAFETY: signal/raise are async-signal-safe; SIGTERM is blocked by now, so raise only
    // makes it pending, and back at SIG_DFL it is no longer discarded as ignored.
    unsafe {
        cmd.pre_exec(|| {
            if libc::signal(SIGTERM, libc::SIG_DFL) == libc::SIG_ERR || libc::raise(SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    assert_shut_down!(Pause::from_command(runner, cmd).wait(), warned(GOT_SIGTERM));
}

/// From execve to the first sleep as PID 1: the PID check, three handlers, the mask, the
/// sleep. Six calls, in this order, and nothing else.
fn starts_in_six_syscalls(runner: &Runner) {
    let mut expected = vec!["getpid"];
    expected.extend(["rt_sigaction"; 3]);
    expected.extend(["rt_sigprocmask", runner.arch.sleep.name]);
    assert_eq!(startup_syscalls(runner), expected);
}

fn main() {
    run_on_every_arch(scenarios![
        inherited_blocked_mask_and_ignored_sigterm,
        inherited_blocked_mask_as_init,
        pending_sigterm_ends_it_with_exit_0,
        starts_in_six_syscalls,
    ]);
}
