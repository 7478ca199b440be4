//! How much an init does before it sleeps: its own syscalls from execve to the first sleep,
//! as PID 1, counted by strace.

use super::peers::Peer;
use anyhow::{Context, Result, bail};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct SyscallsRow {
    pub init: &'static str,
    /// Calls after its execve, the sleep included.
    pub count: usize,
    /// The call it sleeps in, by strace's name.
    pub sleep: String,
}

pub fn measure(peers: &[Peer]) -> Result<Vec<SyscallsRow>> {
    peers
        .iter()
        .map(|peer| {
            let (count, sleep) = count_syscalls(peer)?;
            Ok(SyscallsRow {
                init: peer.name,
                count,
                sleep,
            })
        })
        .collect()
}

/// Runs `peer` as PID 1 under `strace -f`, kills it once asleep, and counts its own syscalls
/// after execve; the last one is the sleep it was killed in.
fn count_syscalls(peer: &Peer) -> Result<(usize, String)> {
    let dir = tempfile::tempdir()?;
    let trace = dir.path().join("trace");
    let mut strace = Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(&trace)
        .args(["unshare", "--pid", "--fork", "--kill-child", "--"])
        .arg(&peer.path)
        .args(&peer.idle_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("strace")?;
    let exe = peer.path.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let lines = loop {
        std::thread::sleep(Duration::from_millis(300));
        let text = std::fs::read_to_string(&trace).unwrap_or_default();
        let lines = own_syscalls(&text, &exe);
        // Asleep: it has made calls and none in the last 300 ms.
        if !lines.is_empty() && std::fs::read_to_string(&trace).unwrap_or_default() == text {
            break lines;
        }
        if Instant::now() > deadline {
            let _ = strace.kill();
            bail!("{}: never settled under strace", peer.name);
        }
    };
    // Killing strace would only detach it. Kill unshare(1), its child: --kill-child takes the
    // traced init with it, and strace exits once nothing is left to trace.
    let unshare = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", strace.id()))
        .unwrap_or_default();
    for pid in unshare
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
    {
        // SAFETY: kill(2) on a child of our child strace, which cannot have been reaped and
        // reused while strace (its parent) still runs.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let _ = strace.wait();
    let last = lines.last().cloned().unwrap_or_default();
    let sleep = last.split('(').next().unwrap_or("").to_string();
    Ok((lines.len(), sleep))
}

/// The syscall lines of the process that execve'd `exe`, after that execve.
fn own_syscalls(trace: &str, exe: &str) -> Vec<String> {
    let needle = format!("execve(\"{exe}\"");
    let Some(pid) = trace
        .lines()
        .find(|l| l.contains(&needle) && l.contains("= 0"))
        .and_then(|l| l.split_whitespace().next())
    else {
        return vec![];
    };
    trace
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(pid))
        .map(|l| l[pid.len()..].trim().to_string())
        .skip_while(|l| !l.starts_with(&needle))
        .skip(1)
        .filter(|l| !l.starts_with("+++") && !l.starts_with("---") && !l.starts_with("<..."))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_the_traced_programs_own_calls_after_its_execve() {
        let trace = "\
100 execve(\"/usr/bin/unshare\", [\"unshare\"], 0x7ffd /* 1 var */) = 0
100 clone(child_stack=NULL) = 101
101 execve(\"/bin/pause\", [\"/bin/pause\"], 0x7ffd /* 1 var */) = 0
100 wait4(-1 <unfinished ...>
101 getpid() = 1
101 rt_sigaction(SIGINT, {sa_handler=0x401000}, NULL, 8) = 0
101 --- SIGCHLD {si_signo=SIGCHLD} ---
101 pause( <unfinished ...>
101 +++ killed by SIGKILL +++
";
        let calls = own_syscalls(trace, "/bin/pause");
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(calls[2].starts_with("pause("));
    }
}
