//! Every wait bounded by PATIENCE (or a caller's limit): polling /proc for a state, and
//! children that must end in time. A broken pause fails a test, never hangs it.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::PATIENCE;
use crate::procfs::current_syscall;

/// Waits until `pid` is blocked in syscall `nr` (host numbering, as /proc/PID/syscall has it).
pub fn wait_until_in_syscall(pid: i32, nr: i64) {
    poll(&format!("pid {pid} to block in syscall {nr}"), || {
        (current_syscall(pid)? == nr).then_some(())
    });
}

/// Waits until pause (host PID `pause`) is back asleep, failing at once if it has ended: right
/// after it reaped, it may still be on its way back to its sleep call, so one look at its
/// state could catch it running.
pub fn wait_until_asleep(pause: i32, what: &str) {
    poll_or_fail(
        || match crate::proc_stat(pause).map(|s| s.state) {
            Some('S') => Ok(()),
            Some('Z' | 'X') | None => panic!("{what}: pause (PID {pause}) has ended"),
            other => Err(other),
        },
        |state| format!("{what}: pause (PID {pause}) to sleep again; its state: {state:?}"),
    );
}

/// Polls `check` every 10 ms until it yields a value; panics naming `what` after PATIENCE.
pub fn poll<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    poll_or_fail(|| check().ok_or(()), |()| format!("waiting for {what}"))
}

/// Polls `check` every 10 ms until it yields `Ok`. The deadline, PATIENCE, only guards against
/// a hang: past it, fails with what `failure` says of the last `Err`, the last state seen that
/// was still not the one waited for.
pub fn poll_or_fail<T, E>(
    mut check: impl FnMut() -> Result<T, E>,
    failure: impl FnOnce(E) -> String,
) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {PATIENCE:?}: {}", failure(last))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Runs `cmd` (no input) to its end within `limit`, and fails the test unless it succeeds.
pub fn run_bounded(cmd: &mut Command, limit: Duration) {
    let mut child = cmd
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let status = wait_bounded(&mut child, limit);
    assert!(status.success(), "{cmd:?}: {status}");
}

/// Waits for `child` at most `limit`; kills it and fails the test past that.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    wait_within(child, limit).unwrap_or_else(|| {
        panic!(
            "process {} still running after {limit:?}: killed",
            child.id()
        )
    })
}

/// Waits for `child` at most `limit`; past that, kills and reaps it and returns None.
pub(crate) fn wait_within(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
