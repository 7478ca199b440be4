//! What a binary calls, as qemu-user's own `-strace` logs it: the guest's calls whatever the
//! host's architecture.

use std::collections::BTreeSet;
use std::process::Command;

use crate::{Pause, Runner};

/// The syscalls the guest makes, by name, from qemu-user's own `-strace` log (pause's stderr
/// when it ran under `Runner::emulated` with `-strace`): "<pid> <name>(<args>) = <result>"
/// lines; signals are "--- ..." lines.
pub fn strace_calls(log: &str) -> BTreeSet<String> {
    log.lines()
        .filter_map(|line| {
            let call = line.split_whitespace().nth(1)?;
            let name = call.split('(').next()?;
            (call.contains('(') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| name.to_string())
        })
        .collect()
}

/// What `runner`'s binary calls, seen by qemu-user's `-strace`, while it starts as PID 1,
/// reaps an orphan (a handler returns) and exits on SIGTERM.
pub fn observed_syscalls(runner: &Runner) -> BTreeSet<String> {
    strace_calls(&strace_as_init(runner, "(exit 0) &"))
}

/// The calls, in order, by name, that `runner`'s binary makes as PID 1 from execve up to and
/// including its first sleep, as qemu-user's `-strace` logs them.
pub fn startup_syscalls(runner: &Runner) -> Vec<String> {
    let log = strace_as_init(runner, "true");
    let mut calls = Vec::new();
    for line in log.lines() {
        let Some(call) = line.split_whitespace().nth(1) else {
            continue;
        };
        let Some((name, _)) = call.split_once('(') else {
            continue;
        };
        calls.push(name.to_string());
        if name == runner.arch.sleep.name {
            break;
        }
    }
    calls
}

/// qemu-user's `-strace` log of `runner`'s binary as PID 1: asleep, then `script` run inside
/// its namespace to the end with every orphan reaped, asleep again, then SIGTERM and exit 0.
fn strace_as_init(runner: &Runner, script: &str) -> String {
    let emulated = runner.emulated();
    let inner = emulated.command(&[]);
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--kill-child", "--"])
        .arg(inner.get_program())
        .arg("-strace")
        .args(inner.get_args());
    let pause = Pause::from_command_as_init(&emulated, cmd);
    pause.wait_until_sleeping();
    pause.run_inside(script);
    pause.wait_until_childless();
    pause.wait_until_sleeping();
    let ended = pause.stop_with(libc::SIGTERM);
    crate::assert_exit_0(&ended);
    ended.stderr
}
