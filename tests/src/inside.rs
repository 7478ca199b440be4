//! Programs run inside pause's PID namespace (pause must be its PID 1), and orphans made there
//! and held for pause until the test releases them.

use fs_err as fs;
use std::ffi::{CString, OsStr};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use crate::{PATIENCE, Pause, proc_stat, wait_bounded};

impl Pause {
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
            .unwrap();
        let mut maker = self
            .command_inside("sh")
            .args(["-c", HOLD_ORPHANS, "hold-orphans"])
            .arg(&path)
            .arg(n.to_string())
            .stdout(crate::output_file(&report))
            .stderr(crate::output_file(&errors))
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
