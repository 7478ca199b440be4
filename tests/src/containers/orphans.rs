//! Orphans an app leaves in a sandbox's PID namespace, held there alive until the test
//! releases them from the host, and the check that pause holds exactly those and reaps them.

use crate::{children, poll_or_fail, proc_stat};
use fs_err as fs;

/// How many orphans a sandbox test leaves in the sandbox's PID namespace and holds there at
/// once, until it releases them itself.
pub const HELD_ORPHANS: usize = 30;

/// A shell script for a process in a sandbox's PID namespace: it leaves `n` orphans there, each
/// a `<sleep> 3600` that lives until the test kills it, and only then prints `made N: PID...`
/// (N counted from the PIDs it got; PIDs as the namespace numbers them). Each sleep is started
/// by a subshell that exits at once (a command substitution handing back `$!`), so the kernel
/// has reparented it to the namespace's init before the loop goes on; its stdio is /dev/null,
/// so nothing waits for it to end.
pub fn held_orphans_script(n: usize, sleep: &str) -> String {
    format!(
        "pids=; i=0; while [ $i -lt {n} ]; do \
         pids=\"$pids $({sleep} 3600 </dev/null >/dev/null 2>&1 & echo $!)\"; i=$((i + 1)); \
         done; set -- $pids; echo \"made $#:$pids\""
    )
}

/// The orphans' PIDs (in their namespace) from the whole `made N: PID...` line in `output`,
/// once it is there; fails unless N is the number of PIDs listed.
pub fn made_orphans(output: &str) -> Option<Vec<i32>> {
    let line = output
        .split_inclusive('\n')
        .find(|l| l.starts_with("made ") && l.ends_with('\n'))?;
    let (count, pids) = line["made ".len()..].split_once(':')?;
    let pids: Vec<i32> = pids
        .split_whitespace()
        .map(|p| p.parse().unwrap_or_else(|e| panic!("{line:?}: {p:?}: {e}")))
        .collect();
    assert_eq!(count.parse::<usize>().ok(), Some(pids.len()), "{line:?}");
    Some(pids)
}

/// The PIDs of host process `pid` in each PID namespace from the host's down to its own
/// (`NSpid` in /proc/PID/status), or None once it is gone.
pub fn nspid(pid: i32) -> Option<Vec<i32>> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    line.split_whitespace().map(|p| p.parse().ok()).collect()
}

/// Fails unless host process `pid` is PID 1 of a PID namespace of its own, one level below the
/// host's: NSpid is "<host PID> 1".
pub fn assert_pid_1_of_its_namespace(pid: i32) {
    let ids = nspid(pid).unwrap_or_else(|| panic!("process {pid} is gone"));
    assert!(
        ids.len() == 2 && ids[1] == 1,
        "process {pid} is not PID 1 of its own PID namespace: NSpid {ids:?}"
    );
}

/// The signals held orphans are released with, in turn, each by its number and by the name
/// `kill -s` takes: each ends a `sleep` (none is one that a background job of a
/// non-interactive shell ignores, as SIGINT and SIGQUIT are).
pub const RELEASE_SIGNALS: [(i32, &str); 6] = [
    (libc::SIGKILL, "KILL"),
    (libc::SIGTERM, "TERM"),
    (libc::SIGHUP, "HUP"),
    (libc::SIGUSR1, "USR1"),
    (libc::SIGALRM, "ALRM"),
    (libc::SIGUSR2, "USR2"),
];

/// Fails unless pause (host PID `pause`) holds exactly the orphans `made`, `wanted` of them, all
/// alive, then releases them from the host and fails unless pause, still there, reaps every
/// one (`assert_holds_exactly`, then `release_and_see_reaped`).
pub fn holds_exactly_then_reaps(pause: i32, made: &[i32], wanted: usize) {
    let held = assert_holds_exactly(pause, made, wanted);
    release_and_see_reaped(pause, &held);
}

/// Fails unless pause (host PID `pause`) holds exactly the orphans `made`, `wanted` of them, all
/// alive: its children, as the host's /proc lists them, are those PIDs of its namespace and no
/// others, none a zombie. Returns their host PIDs.
fn assert_holds_exactly(pause: i32, made: &[i32], wanted: usize) -> Vec<i32> {
    assert_eq!(
        made.len(),
        wanted,
        "the app made {} orphans, not {wanted}: {made:?}",
        made.len()
    );
    let held = children(pause);
    let mut adopted: Vec<(i32, i32, char)> = held
        .iter()
        .map(|c| {
            let inner = nspid(c.pid).and_then(|ids| ids.last().copied());
            (inner.unwrap_or(-1), c.pid, c.state)
        })
        .collect();
    adopted.sort();
    let mut expected = made.to_vec();
    expected.sort();
    let inner: Vec<i32> = adopted.iter().map(|a| a.0).collect();
    assert_eq!(
        inner,
        expected,
        "pause (host PID {pause}) holds {} children, not the {wanted} orphans made \
         (PIDs in its namespace; (PID, host PID, state) of its children: {adopted:?})",
        adopted.len()
    );
    let dead: Vec<_> = adopted
        .iter()
        .filter(|a| matches!(a.2, 'Z' | 'X'))
        .collect();
    assert!(
        dead.is_empty(),
        "held orphans already ended (PID, host PID, state): {dead:?}"
    );
    adopted.iter().map(|a| a.1).collect()
}

/// Releases pause's held orphans (`host_pids`, as `assert_holds_exactly` returned them): kill(2)
/// from the host on each, with the release signals in turn, then waits until pause has no child
/// left (a died but unreaped orphan stays its child, as a zombie) and is itself still there.
/// Fails naming how many are left, how many are zombies (died, never reaped: pause's fault) and
/// how many still live (not ended by their signal).
fn release_and_see_reaped(pause: i32, host_pids: &[i32]) {
    for (pid, (signo, _)) in host_pids.iter().zip(RELEASE_SIGNALS.iter().cycle()) {
        // SAFETY: kill(2) on a child of pause that is alive and unreaped (it only ends by this
        // signal), so the PID cannot have been reused.
        let rc = unsafe { libc::kill(*pid, *signo) };
        assert_eq!(
            rc,
            0,
            "kill({pid}, {signo}): {}",
            std::io::Error::last_os_error()
        );
    }
    // What passes is pause with no child at all; the deadline only guards against a hang.
    poll_or_fail(
        || {
            let pause_state = proc_stat(pause).map(|s| s.state);
            assert!(
                matches!(pause_state, Some(state) if state != 'Z' && state != 'X'),
                "pause (host PID {pause}) ended while its orphans were released: {pause_state:?}"
            );
            let left = children(pause);
            if left.is_empty() { Ok(()) } else { Err(left) }
        },
        |left| {
            let zombies = left.iter().filter(|c| c.state == 'Z').count();
            format!(
                "{} of {} released orphans never reaped: {zombies} zombies, {} still alive \
                 ({left:?})",
                left.len(),
                host_pids.len(),
                left.len() - zombies
            )
        },
    );
}
