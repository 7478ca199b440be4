//! A running pause and what /proc says about it and its children, with every wait bounded.

use std::ffi::OsStr;
use std::fs;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use xtask::procfs::{context_switches, current_syscall, proc_stat_of};

use crate::{PATIENCE, ProcStat, Runner, proc_stat};

/// A running pause (or the unshare holding it as PID 1), with its output going to files.
pub struct Pause {
    child: Option<Child>,
    /// The host PID of the pause process itself (of qemu, under emulation).
    pub pid: i32,
    pub as_init: bool,
    sleep_syscall: i64,
    out_dir: tempfile::TempDir,
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
        let stdout = fs::File::create(out_dir.path().join("stdout")).unwrap();
        let stderr = fs::File::create(out_dir.path().join("stderr")).unwrap();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
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
        }
    }

    /// Waits until pause is blocked in its sleep syscall: its handlers are installed and it is
    /// past everything it does before the loop.
    pub fn wait_until_sleeping(&self) -> &Self {
        wait_until_in_syscall(self.pid, self.sleep_syscall);
        self
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

    /// A command that runs `program` inside pause's PID namespace (pause must be its PID 1):
    /// whatever it leaves behind becomes pause's orphans.
    pub fn command_inside(&self, program: impl AsRef<OsStr>) -> Command {
        assert!(
            self.as_init,
            "only a pause that is PID 1 of its namespace has one to enter"
        );
        let mut cmd = Command::new("nsenter");
        cmd.args(["--target", &self.pid.to_string(), "--pid", "--"])
            .arg(program)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        cmd
    }

    /// Starts a shell script inside pause's PID namespace, in the background.
    pub fn spawn_inside(&self, script: &str) -> Child {
        self.command_inside("sh")
            .args(["-c", script])
            .stderr(Stdio::null())
            .spawn()
            .expect("nsenter")
    }

    /// Runs a shell script inside pause's PID namespace to its end; its background jobs
    /// outlive it and so become pause's orphans.
    pub fn run_inside(&self, script: &str) {
        let mut child = self
            .command_inside("sh")
            .args(["-c", script])
            .spawn()
            .expect("nsenter");
        let status = wait_bounded(&mut child, PATIENCE);
        assert!(
            status.success(),
            "script inside the namespace failed: {status}\n{script}"
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

    /// The process state letter (S, T, Z...).
    pub fn state(&self) -> char {
        proc_stat(self.pid).expect("pause is gone").state
    }

    /// Pause's children and their states, as the host's /proc sees them.
    pub fn children(&self) -> Vec<ProcStat> {
        children(self.pid)
    }

    /// Waits until pause has no children left at all: every orphan has exited and been
    /// reaped. On time-out, fails with how many are left and how many are zombies.
    pub fn wait_until_childless(&self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = self.children();
            if left.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                let zombies = left.iter().filter(|c| c.state == 'Z').count();
                panic!(
                    "{} children never reaped, {zombies} of them zombies",
                    left.len()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
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

/// Waits until `pid` is blocked in syscall `nr` (host numbering, as /proc/PID/syscall has it).
pub fn wait_until_in_syscall(pid: i32, nr: i64) {
    poll(&format!("pid {pid} to block in syscall {nr}"), || {
        (current_syscall(pid)? == nr).then_some(())
    });
}

/// The first value of a "Name:" line in /proc/PID/status.
pub fn status_field(pid: i32, name: &str) -> String {
    xtask::procfs::field(&format!("/proc/{pid}/status"), name)
        .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
}

/// Polls `check` every 10 ms until it yields a value; panics naming `what` after PATIENCE.
pub fn poll<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
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
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "process {} still running after {limit:?}: killed",
                child.id()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
