//! Test harness: runs the real shipped binaries (natively or under qemu-user) alone or as PID 1
//! of a new PID namespace, and reads what the kernel says about them in /proc.

pub mod containers;
#[cfg(feature = "cri")]
pub mod cri;
pub mod debian;
pub mod pypi;
pub mod registry;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
pub use xtask::procfs::{ProcStat, proc_stat};
use xtask::procfs::{context_switches, current_syscall, proc_stat_of};
pub use xtask::{ARCHES, Arch};

/// Every wait in the suite is bounded by this: a broken pause fails a test, never hangs it.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How the host runs one architecture's binary.
#[derive(Debug, Clone)]
pub struct Runner {
    pub arch: &'static Arch,
    pub binary: PathBuf,
    /// The qemu-user emulator, or None when the host kernel runs the binary itself.
    pub qemu: Option<PathBuf>,
}

impl Runner {
    /// The runner for the architecture with this OCI name. Fails (naming the Debian package)
    /// when a tool is missing, and when `cargo xtask dist` has not been run.
    pub fn new(name: &str) -> Runner {
        let arch = Arch::named(name).unwrap_or_else(|| panic!("no architecture {name}"));
        Runner::for_binary(arch, arch.dist_binary())
    }

    /// The runner for a test-only build of this architecture (`Arch::test_binary`).
    pub fn test_build(name: &str, variant: &str) -> Runner {
        let arch = Arch::named(name).unwrap_or_else(|| panic!("no architecture {name}"));
        Runner::for_binary(arch, arch.test_binary(variant))
    }

    fn for_binary(arch: &'static Arch, binary: PathBuf) -> Runner {
        assert!(
            binary.is_file(),
            "{} is missing: run `cargo xtask test` (it builds it) first",
            binary.display()
        );
        require_tool("unshare", "util-linux");
        require_tool("nsenter", "util-linux");
        let qemu = if runs_natively(arch, &binary) {
            None
        } else {
            Some(require_tool(arch.qemu, "qemu-user-static"))
        };
        Runner { arch, binary, qemu }
    }

    /// The same binary under qemu-user even where the host could run it: qemu's `-strace`
    /// logs the guest's own calls, whatever the host's architecture.
    pub fn emulated(&self) -> Runner {
        Runner {
            qemu: Some(require_tool(self.arch.qemu, "qemu-user-static")),
            ..self.clone()
        }
    }

    /// A command that runs pause with `argv[0]` and then `args`.
    pub fn command_with_argv0(&self, argv0: impl AsRef<OsStr>, args: &[OsString]) -> Command {
        match &self.qemu {
            None => {
                let mut cmd = Command::new(&self.binary);
                cmd.arg0(argv0).args(args);
                cmd
            }
            Some(qemu) => {
                // qemu stops reading its own options at the program path; every argument after
                // it, dashes and all, is the guest's. -0 sets the guest's argv[0]; -cpu the
                // oldest CPU the target promises to run on.
                let mut cmd = Command::new(qemu);
                cmd.args(["-cpu", self.arch.qemu_cpu])
                    .arg("-0")
                    .arg(argv0)
                    .arg(&self.binary)
                    .args(args);
                cmd
            }
        }
    }

    /// A command that runs pause with these arguments (argv[0] is the binary's path).
    pub fn command(&self, args: &[&str]) -> Command {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        self.command_with_argv0(&self.binary, &args)
    }

    /// Host syscall number the sleeping process is blocked in, as /proc/PID/syscall shows it:
    /// the arch's own sleep when native, or the host call qemu makes for it (qemu waits for a
    /// guest pause(2) in rt_sigsuspend, and passes a guest ppoll through).
    pub fn sleep_syscall(&self) -> i64 {
        match (&self.qemu, self.arch.sleep.name) {
            (None, _) => self.arch.sleep.nr,
            (Some(_), "ppoll") => libc::SYS_ppoll,
            (Some(_), _) => libc::SYS_rt_sigsuspend,
        }
    }

    /// Starts pause as an ordinary process (not PID 1).
    pub fn spawn(&self, args: &[&str]) -> Pause {
        Pause::start(self.command(args), false, self)
    }

    /// Starts pause as PID 1 of a new PID namespace.
    pub fn spawn_as_init(&self, args: &[&str]) -> Pause {
        let inner = self.command(args);
        let mut cmd = Command::new("unshare");
        // --kill-child: if unshare goes, so does the namespace, even when a test panics.
        cmd.args(["--pid", "--fork", "--kill-child", "--"]);
        cmd.arg(inner.get_program()).args(inner.get_args());
        Pause::start(cmd, true, self)
    }
}

/// The host's own architecture runs natively; so does the one its kernel also runs (386 on
/// amd64, arm on arm64) where the kernel has that compat mode built in, which exercises the
/// real kernel's 32-bit signal frames rather than qemu's. Probed once per binary.
fn runs_natively(arch: &Arch, binary: &Path) -> bool {
    static PROBED: Mutex<Vec<(PathBuf, bool)>> = Mutex::new(Vec::new());
    let Some(host) = Arch::host() else {
        return false;
    };
    if arch.goarch == host.goarch {
        return true;
    }
    if host.compat != Some(arch.goarch) {
        return false;
    }
    let mut probed = PROBED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, native)) = probed.iter().find(|(path, _)| path == binary) {
        return *native;
    }
    let native = Command::new(binary)
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !native {
        eprintln!(
            "note: this kernel cannot run {} binaries; they run under qemu",
            arch.name
        );
    }
    probed.push((binary.to_path_buf(), native));
    native
}

/// The absolute path of `tool`, or a panic that names the Debian package providing it.
pub fn require_tool(tool: &str, package: &str) -> PathBuf {
    xtask::tools::require(tool, package).unwrap_or_else(|e| panic!("{e}"))
}

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

    fn start(mut cmd: Command, as_init: bool, runner: &Runner) -> Pause {
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

/// The syscall number the host's own pause binary sleeps in (for binaries that runtimes start
/// on this machine, which are always the host's architecture).
pub fn native_sleep_syscall() -> i64 {
    Arch::host()
        .expect("this machine's architecture is one we ship")
        .sleep
        .nr
}

/// Makes `cmd` start with the signal state a careless parent can leave behind, which execve
/// keeps: SIGINT, SIGTERM and SIGCHLD blocked, and SIGTERM ignored.
pub fn with_hostile_signal_state(cmd: &mut Command) -> &mut Command {
    // SAFETY: sigemptyset/sigaddset/sigprocmask/signal are async-signal-safe and touch only
    // this (forked) child.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signo in [libc::SIGINT, libc::SIGTERM, libc::SIGCHLD] {
                libc::sigaddset(&mut set, signo);
            }
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0
                || libc::signal(libc::SIGTERM, libc::SIG_IGN) == libc::SIG_ERR
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// The syscalls the guest makes, by name, from qemu-user's own `-strace` log (pause's stderr
/// when it ran under `Runner::emulated` with `-strace`): "<pid> <name>(<args>) = <result>"
/// lines; signals are "--- ..." lines.
pub fn strace_calls(log: &str) -> std::collections::BTreeSet<String> {
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
pub fn observed_syscalls(runner: &Runner) -> std::collections::BTreeSet<String> {
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
    assert_eq!(ended.status.code(), Some(0), "{ended:?}");
    ended.stderr
}

/// A scenario that runs against one architecture's binary.
pub type Scenario = fn(&Runner);

/// Runs every scenario on every architecture of the table, one test each, named
/// `<arch>::<scenario>`, under a harness that nextest and `cargo test` drive as usual.
pub fn run_on_every_arch(scenarios: &[(&'static str, Scenario)]) -> ! {
    run_trials(
        ARCHES
            .iter()
            .flat_map(|arch| {
                scenarios.iter().map(move |&(name, scenario)| {
                    libtest_mimic::Trial::test(format!("{}::{name}", arch.name), move || {
                        scenario(&Runner::new(arch.name));
                        Ok(())
                    })
                })
            })
            .collect(),
    )
}

/// Runs `trials` under the libtest-compatible harness and exits with its status.
pub fn run_trials(trials: Vec<libtest_mimic::Trial>) -> ! {
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit()
}

/// `(name, function)` pairs for `run_on_every_arch`.
#[macro_export]
macro_rules! scenarios {
    ($($scenario:ident),* $(,)?) => {
        &[$((stringify!($scenario), $scenario as $crate::Scenario)),*]
    };
}

/// The exact line pause prints for `-v`.
pub fn version_line() -> String {
    format!("pause {}\n", env!("CARGO_PKG_VERSION"))
}

pub const WARNING: &str = "Warning: pause should be the first process\n";
pub const GOT_SIGTERM: &str = "Shutting down, got signal: Terminated\n";
pub const GOT_SIGINT: &str = "Shutting down, got signal: Interrupt\n";
