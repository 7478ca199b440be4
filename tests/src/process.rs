//! A running pause and what /proc says about it and its children, with every wait bounded.

use std::ffi::{CString, OsStr};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};
use xtask::bench::procfs::{context_switches, current_syscall, proc_stat_of};

use crate::{PATIENCE, ProcStat, Runner, proc_stat};

/// A running pause (or the unshare holding it as PID 1), with its output going to files.
pub struct Pause {
    child: Option<Child>,
    /// The host PID of the pause process itself (of qemu, under emulation).
    pub pid: i32,
    pub as_init: bool,
    sleep_syscall: i64,
    out_dir: tempfile::TempDir,
    /// The host's end of every gate `hold_orphans` made (FIFOs in `out_dir`). Kept open for as
    /// long as pause runs, not just until the release: an orphan that opens its gate only after
    /// the release must still find the written lines there (a pipe's buffer dies with its last
    /// open end) and must not block in open(2) waiting for a writer.
    gates: Mutex<Vec<fs::File>>,
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

    /// Starts a shell script inside pause's PID namespace whose stdout lines the test counts
    /// as they come (`InsideScript::wait_for_lines`): a barrier on the script's own progress,
    /// where a sleep would only guess at it.
    ///
    /// The script is also its own `$0`, so that it can start itself over with
    /// `exec sh -c "$0" "$0"`.
    pub fn start_inside(&self, script: &str) -> InsideScript {
        let mut child = self
            .command_inside("sh")
            .args(["-c", script, script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("nsenter");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            // Drains to the end even once nobody counts any more: a full pipe would stall the
            // script in write(2), and a closed one would kill it with SIGPIPE, either of which
            // ends a storm that must still be running.
            // Raw bytes, split at each newline: a line that is not UTF-8 is still a line.
            for line in BufReader::new(stdout).split(b'\n') {
                if line.is_err() {
                    break;
                }
                let _ = tx.send(());
            }
        });
        InsideScript {
            child,
            lines,
            seen: 0,
        }
    }

    /// Makes `n` orphans of pause, of mixed kinds (exit 0, exit 3, exit 255, killed by SIGKILL,
    /// killed by SIGTERM), each blocked until `HeldOrphans::release`. An orphan that merely
    /// sleeps may already be gone when a loaded host gets round to looking; these cannot exit,
    /// and only pause can reap them, so "pause has exactly this many live children" and "orphans
    /// are pending" hold for certain until the release. Pause must have no other children.
    pub fn hold_orphans(&self, n: usize) -> HeldOrphans {
        assert!(
            (1..=MAX_HELD).contains(&n),
            "hold 1 to {MAX_HELD} orphans, not {n}"
        );
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        let dir = self.out_dir.path();
        let path = dir.join(format!("gate{}", gates.len()));
        let report = dir.join(format!("gate{}.made", gates.len()));
        let errors = dir.join(format!("gate{}.err", gates.len()));
        let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: mkfifo(3) with a NUL-terminated path.
        let rc = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
        assert_eq!(
            rc,
            0,
            "mkfifo {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
        // Read-write: on Linux opening a FIFO so never blocks, and while this end is open the
        // orphans' opens for reading do not block either (there is a writer) and their reads
        // wait for data instead of seeing end-of-file. std opens it close-on-exec: no orphan
        // inherits a writer that would keep its own gate open.
        let gate = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let mut maker = self
            .command_inside("sh")
            .args(["-c", HOLD_ORPHANS, "hold-orphans"])
            .arg(&path)
            .arg(n.to_string())
            .stdout(fs::File::create(&report).unwrap())
            .stderr(fs::File::create(&errors).unwrap())
            .spawn()
            .expect("nsenter");
        // The maker exits only after starting every orphan, and nsenter returns only after the
        // maker has been reaped, which is after the kernel reparented its children to pause.
        let status = wait_bounded(&mut maker, PATIENCE);
        let said = fs::read_to_string(&report).unwrap();
        let complaints = fs::read_to_string(&errors).unwrap();
        assert!(
            status.success(),
            "the orphan maker failed ({status}): {complaints}"
        );
        // What was made is what the maker says it made, one line per orphan started.
        let made = said.lines().count();
        assert_eq!(
            made, n,
            "the maker made {made} of {n} orphans: {complaints}"
        );
        let children = self.children();
        let dead: Vec<_> = children.iter().filter(|c| c.state == 'Z').collect();
        assert!(
            children.len() == made && dead.is_empty(),
            "{made} orphans made, but pause has {} children, {} of them zombies (states {})",
            children.len(),
            dead.len(),
            children.iter().map(|c| c.state).collect::<String>()
        );
        gates.push(gate.try_clone().expect("dup the gate"));
        HeldOrphans {
            gate,
            made,
            pids: children.iter().map(|c| c.pid).collect(),
        }
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

/// The most orphans one `hold_orphans` makes, so that the release's write never blocks: it
/// writes one byte per orphan into the gate at once, and this many fit in a pipe of a single
/// 4 KiB page, the least Linux gives one. A bigger write would not deadlock while the orphans
/// live (each reads its byte, draining the gate as the writer waits), but if they were gone
/// (their namespace ended with pause) nobody would ever read it: the test holds a read end
/// itself, so the write would neither fail with EPIPE nor return, and the test would hang
/// where no deadline reaches.
const MAX_HELD: usize = 4000;

/// Run by `hold_orphans` inside pause's namespace as `sh -c HOLD_ORPHANS _ GATE N`: starts N
/// orphans that each read one line from the FIFO GATE and then end their own way, and prints
/// one line per orphan started. The orphans' output goes to /dev/null, so none of them holds
/// the maker's report open; the maker itself then exits, orphaning them all onto pause. dash's
/// `read` takes a pipe one byte at a time, so each orphan consumes exactly one line.
const HOLD_ORPHANS: &str = r#"
gate=$1 n=$2 i=0
while [ "$i" -lt "$n" ]; do
    case $((i % 5)) in
        0) end='exit 0' ;;
        1) end='exit 3' ;;
        2) end='exit 255' ;;
        3) end='kill -KILL $$' ;;
        4) end='kill -TERM $$' ;;
    esac
    sh -c "read line <\"\$0\"; $end" "$gate" </dev/null >/dev/null 2>&1 &
    echo "$end"
    i=$((i + 1))
done
"#;

/// Orphans of pause made by `Pause::hold_orphans`, each blocked reading its gate.
pub struct HeldOrphans {
    /// The host's end of the gate (a duplicate of the one the `Pause` keeps open).
    gate: fs::File,
    made: usize,
    pids: Vec<i32>,
}

impl HeldOrphans {
    /// How many orphans the maker reported starting (and pause was seen to have).
    pub fn made(&self) -> usize {
        self.made
    }

    /// Their host PIDs. None can be reused while held: each is a live child of pause.
    pub fn pids(&self) -> &[i32] {
        &self.pids
    }

    /// Fails unless every held orphan is still a live child of pause. Nothing the test does
    /// lets one go before the release, so this holds whenever it is called: it makes "orphans
    /// were pending at that moment" an assertion rather than a hope.
    pub fn assert_held(&self, pause: &Pause) {
        for &pid in &self.pids {
            let stat = proc_stat(pid);
            assert!(
                stat.is_some_and(|s| s.ppid == pause.pid && s.state != 'Z'),
                "held orphan {pid} is no longer a live child of pause {}: {stat:?}",
                pause.pid
            );
        }
    }

    /// Lets every orphan go: one line each, all written at once. An orphan that has not even
    /// opened the gate yet finds its line waiting there (the `Pause` keeps the gate open until
    /// it ends), so none can miss the release. `Pause::wait_until_childless` then proves that
    /// pause reaped them all.
    pub fn release(mut self) {
        self.gate
            .write_all(&vec![b'\n'; self.made])
            .expect("write the gate");
    }
}

/// A script started by `Pause::start_inside`, with its stdout lines counted as they come.
pub struct InsideScript {
    child: Child,
    lines: mpsc::Receiver<()>,
    seen: usize,
}

impl InsideScript {
    /// Blocks until the script has printed `total` lines since it started (within PATIENCE).
    pub fn wait_for_lines(&mut self, total: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.seen < total {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(()) => self.seen += 1,
                Err(e) => panic!(
                    "the script inside printed {} lines, not {total} ({e})",
                    self.seen
                ),
            }
        }
    }

    /// Waits for the script (its nsenter) to end, within PATIENCE, and says how it ended.
    pub fn wait(mut self) -> ExitStatus {
        wait_bounded(&mut self.child, PATIENCE)
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
    xtask::bench::procfs::field(&format!("/proc/{pid}/status"), name)
        .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
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
