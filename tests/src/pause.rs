//! A running pause (`Pause`): started, signalled and awaited, and what /proc says about it
//! and its children; how its run ended (`Ended`).

use fs_err as fs;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;

use crate::procfs::{context_switches, current_syscall, proc_stat_of};
use crate::{
    PATIENCE, ProcStat, Runner, poll, poll_or_fail, proc_stat, wait_bounded, wait_until_in_syscall,
};

/// A running pause (or the unshare holding it as PID 1), with its output going to files.
pub struct Pause {
    child: Option<Child>,
    /// The host PID of the pause process itself (of qemu, under emulation).
    pub pid: i32,
    pub as_init: bool,
    sleep_syscall: i64,
    pub(crate) out_dir: tempfile::TempDir,
    /// The host's end of every gate `hold_orphans` made (FIFOs in `out_dir`). Kept open for as
    /// long as pause runs, not just until the release: an orphan that opens its gate only after
    /// the release must still find the written lines there (a pipe's buffer dies with its last
    /// open end) and must not block in open(2) waiting for a writer.
    pub(crate) gates: Mutex<Vec<fs::File>>,
}

/// How a pause run ended.
#[derive(Debug)]
pub struct Ended {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Pause {
    /// Starts `cmd` (a command from `runner`) as an ordinary process, not PID 1.
    pub fn from_command(runner: &Runner, cmd: Command) -> Pause {
        Pause::start(cmd, false, runner)
    }

    /// Starts `cmd`, which makes pause (under `runner`) PID 1 of a new PID namespace through
    /// `unshare --pid --fork --kill-child`, as `Runner::spawn_as_init` does.
    pub fn from_command_as_init(runner: &Runner, cmd: Command) -> Pause {
        Pause::start(cmd, true, runner)
    }

    pub(crate) fn start(mut cmd: Command, as_init: bool, runner: &Runner) -> Pause {
        let out_dir = tempfile::tempdir().expect("temp dir");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(crate::output_file(out_dir.path().join("stdout")))
            .stderr(crate::output_file(out_dir.path().join("stderr")))
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let pid = if as_init {
            let unshare = child.id() as i32;
            poll(&format!("unshare {unshare} to fork"), || {
                // unshare that could not make the namespace (not root, say) exits at once:
                // say so now, with its own words, rather than wait out the patience.
                if let Ok(Some(status)) = child.try_wait() {
                    let said = fs::read_to_string(out_dir.path().join("stderr")).unwrap();
                    panic!(
                        "{cmd:?} exited ({status}) before pause started: {said}\
                         (a new PID namespace needs root)"
                    );
                }
                children(unshare).first().copied()
            })
            .pid
        } else {
            child.id() as i32
        };
        Pause {
            child: Some(child),
            pid,
            as_init,
            sleep_syscall: runner.sleep_syscall(),
            out_dir,
            gates: Mutex::new(Vec::new()),
        }
    }

    /// Waits until pause is blocked in its sleep syscall: its handlers are installed and it is
    /// past everything it does before the loop.
    pub fn wait_until_sleeping(&self) -> &Self {
        wait_until_in_syscall(self.pid, self.sleep_syscall);
        self
    }

    /// Whether pause is in its sleep syscall right now (unlike `wait_until_sleeping`, no wait).
    pub fn in_sleep_call(&self) -> bool {
        current_syscall(self.pid) == Some(self.sleep_syscall)
    }

    pub fn signal(&self, signo: i32) {
        // SAFETY: kill(2) with a PID we started and still hold (not yet waited for).
        let rc = unsafe { libc::kill(self.pid, signo) };
        assert_eq!(
            rc,
            0,
            "kill({}, {signo}): {}",
            self.pid,
            std::io::Error::last_os_error()
        );
    }

    /// Waits for the run to end (within PATIENCE) and collects its output.
    pub fn wait(mut self) -> Ended {
        let mut child = self.child.take().expect("waited twice");
        let status = wait_bounded(&mut child, PATIENCE);
        let read = |name| fs::read_to_string(self.out_dir.path().join(name)).unwrap();
        Ended {
            status,
            stdout: read("stdout"),
            stderr: read("stderr"),
        }
    }

    /// Sends `signo` and waits for the run to end.
    pub fn stop_with(self, signo: i32) -> Ended {
        self.signal(signo);
        self.wait()
    }

    /// What pause has written to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        fs::read_to_string(self.out_dir.path().join("stderr")).unwrap()
    }

    /// Utime + stime, in clock ticks, of the thread that runs pause's code: the process itself
    /// natively, qemu's main thread under emulation (qemu's own helper thread is left out).
    pub fn cpu_ticks(&self) -> u64 {
        let stat = proc_stat_of(&format!("/proc/{0}/task/{0}/stat", self.pid), self.pid)
            .expect("pause is gone");
        stat.utime + stat.stime
    }

    /// Voluntary + involuntary context switches of that same thread: each one is a wake-up.
    pub fn context_switches(&self) -> u64 {
        context_switches(&format!("/proc/{0}/task/{0}/status", self.pid)).expect("pause is gone")
    }

    /// How many times the kernel has switched pause's thread in (the third field of
    /// /proc/PID/task/TID/schedstat): it only grows, and every wake-up adds one, so a wake-up
    /// that has run cannot hide from it, however fast pause went back to sleep.
    pub fn switch_ins(&self) -> u64 {
        let path = format!("/proc/{0}/task/{0}/schedstat", self.pid);
        let text = fs::read_to_string(&path).expect("pause is gone");
        text.split_whitespace()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no switch-in count in {path}: {text:?}"))
    }

    /// The signals pending for pause, its thread's (SigPnd) and its process's (ShdPnd), as a
    /// mask with bit `signo - 1` for each: a signal that has been sent but not yet taken.
    pub fn pending_signals(&self) -> u64 {
        ["SigPnd", "ShdPnd"]
            .iter()
            .map(|name| u64::from_str_radix(&status_field(self.pid, name), 16).unwrap())
            .fold(0, |all, mask| all | mask)
    }

    /// The process state letter (S, T, Z...).
    pub fn state(&self) -> char {
        proc_stat(self.pid).expect("pause is gone").state
    }

    /// Pause's children and their states, as the host's /proc sees them.
    pub fn children(&self) -> Vec<ProcStat> {
        children(self.pid)
    }

    /// Waits until pause has exactly `count` children, all of them zombies: meant for a stopped
    /// pause, which reaps nothing, so that their number can only grow towards `count` as they
    /// are handed over. On time-out, fails with how many children there are, in what states.
    pub fn wait_for_zombies(&self, count: usize) {
        poll_or_fail(
            || {
                let children = self.children();
                if children.len() == count && children.iter().all(|c| c.state == 'Z') {
                    Ok(())
                } else {
                    Err(children)
                }
            },
            |children| {
                let zombies = children.iter().filter(|c| c.state == 'Z').count();
                format!(
                    "pause has {} children, {zombies} of them zombies, not {count} zombies \
                     (states {})",
                    children.len(),
                    children.iter().map(|c| c.state).collect::<String>()
                )
            },
        );
    }

    /// Waits until pause has no children left at all: every orphan has exited and been
    /// reaped, and pause is still there (a pause that is gone has no children either). On
    /// time-out, fails with how many are left and how many are zombies.
    pub fn wait_until_childless(&self) {
        poll_or_fail(
            || {
                let state = proc_stat(self.pid).map(|s| s.state);
                assert!(
                    matches!(state, Some(s) if s != 'Z' && s != 'X'),
                    "pause {} ended while its children were awaited: {state:?}",
                    self.pid
                );
                let left = self.children();
                if left.is_empty() { Ok(()) } else { Err(left) }
            },
            |left| {
                let zombies = left.iter().filter(|c| c.state == 'Z').count();
                format!(
                    "{} children never reaped, {zombies} of them zombies",
                    left.len()
                )
            },
        );
    }
}

impl Drop for Pause {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // unshare --kill-child takes the namespace with it.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// All processes whose parent is `parent`.
pub fn children(parent: i32) -> Vec<ProcStat> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(proc_stat)
        .filter(|s| s.ppid == parent)
        .collect()
}

/// The first value of a "Name:" line in /proc/PID/status.
pub fn status_field(pid: i32, name: &str) -> String {
    crate::procfs::field(&format!("/proc/{pid}/status"), name)
        .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
}
