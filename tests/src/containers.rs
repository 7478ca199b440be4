//! Real container tooling for the image tests: an app rootfs from busybox-static, podman with
//! its own storage, runc with its own state (the private containerd is in containerd.rs). Each
//! piece lives in its own temporary directory and is torn down on drop.

use crate::{PATIENCE, children, poll, poll_or_fail, proc_stat, require_tool, wait_bounded};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use xtask::elf::ElfFacts;

/// The runc the README's matrix states for the host (Debian bookworm's `runc`): what runs the
/// runc sandboxes, podman's containers and containerd's.
pub const RUNC_VERSION: &str = "1.1.5";

/// The podman the README's matrix states (Debian bookworm's `podman`).
pub const PODMAN_VERSION: &str = "4.3.1";

/// The version `program --version` reports: the first word that is a number (a leading `v`
/// dropped), as runc (`runc version 1.1.5+ds1`), podman (`podman version 4.3.1`), containerd
/// (`containerd github.com/containerd/containerd 1.6.20~ds1 ...`) and runsc (`runsc version
/// 0.0~20221219.0`) print it.
pub fn reported_version(program: &Path) -> String {
    reported_version_by(program, &["--version"])
}

/// The same for a program that tells its version otherwise (`oras version`, `cosign version`).
pub fn reported_version_by(program: &Path, args: &[&str]) -> String {
    let out = stdout_of(Command::new(program).args(args));
    out.split_whitespace()
        .map(|w| {
            w.strip_prefix('v')
                .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or(w)
        })
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("{} {args:?} names no version:\n{out}", program.display()))
        .to_string()
}

/// Fails unless `program` reports version `expected`, naming both: exactly that, or with only a
/// packaging suffix after it (Debian's `+ds1` or `~ds1`; gVisor's release number `.0`), never
/// another number (1.1.15 is not 1.1.1).
pub fn assert_version(program: &Path, expected: &str) {
    assert_version_by(program, &["--version"], expected);
}

/// `assert_version` for a program that tells its version otherwise (`oras version`).
pub fn assert_version_by(program: &Path, args: &[&str], expected: &str) {
    let found = reported_version_by(program, args);
    let same = found.strip_prefix(expected).is_some_and(|rest| {
        rest.is_empty()
            || rest == ".0"
            || (rest.starts_with(['+', '~']) && rest[1..].starts_with(|c: char| c.is_alphabetic()))
    });
    assert!(
        same,
        "{}: expected version {expected}, found {found}",
        program.display()
    );
}

/// The image archive `cargo xtask dist` wrote.
pub fn image_archive() -> PathBuf {
    let path = xtask::dist_dir().join("pause-oci.tar");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask dist`",
        path.display()
    );
    path
}

/// The archive's image index for containers/image tools (skopeo, podman): `index.json` also
/// lists the attached SBOM and provenance, so the image is chosen by its tag, the version.
pub fn archive_ref() -> String {
    format!(
        "oci-archive:{}:{}",
        image_archive().display(),
        env!("CARGO_PKG_VERSION")
    )
}

/// Runs `cmd` to completion within PATIENCE and returns its output; fails on a non-zero exit.
pub fn run_ok(cmd: &mut Command) -> Output {
    let output = output_of(cmd);
    assert!(
        output.status.success(),
        "{cmd:?}: {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `cmd` to completion within PATIENCE, whatever its exit status.
pub fn output_of(cmd: &mut Command) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let status = wait_bounded(&mut child, PATIENCE);
    Output {
        status,
        stdout: fs::read(out).unwrap(),
        stderr: fs::read(err).unwrap(),
    }
}

pub fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(run_ok(cmd).stdout).unwrap()
}

/// A throwaway "app" root filesystem: static busybox and a link for each of its applets, and
/// a one-line web page for its httpd to serve.
pub fn busybox_rootfs(dir: &Path) -> PathBuf {
    let busybox = Path::new("/bin/busybox");
    let bytes = fs::read(busybox).unwrap_or_else(|_| {
        panic!("/bin/busybox missing: install the Debian package busybox-static")
    });
    let facts = ElfFacts::parse(&bytes).unwrap();
    assert!(
        !facts
            .segments
            .iter()
            .any(|s| s.p_type == object::elf::PT_INTERP),
        "/bin/busybox is dynamically linked: install the Debian package busybox-static"
    );
    let rootfs = dir.join("rootfs");
    for sub in ["bin", "proc", "dev", "sys", "tmp", "etc", "www"] {
        fs::create_dir_all(rootfs.join(sub)).unwrap();
    }
    fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
    let applets = stdout_of(Command::new(busybox).arg("--list"));
    for applet in applets.lines().filter(|a| *a != "busybox") {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    fs::write(rootfs.join("www/index.html"), "hello from the app\n").unwrap();
    rootfs
}

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

/// podman with storage, run state and configuration of its own (see platform notes: vfs,
/// runc, cgroupfs, file events, and rlimits this sandbox allows).
pub struct Podman {
    pub dir: tempfile::TempDir,
}

impl Podman {
    /// Fails unless the podman it runs, and the runc that podman runs, are the versions the
    /// README's matrix states.
    pub fn isolated() -> Podman {
        assert_version(&require_tool("podman", "podman"), PODMAN_VERSION);
        require_tool("runc", "runc");
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("containers.conf"),
            "[containers]\n\
             default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
             [engine]\n\
             events_logger = \"file\"\n\
             cgroup_manager = \"cgroupfs\"\n\
             runtime = \"runc\"\n",
        )
        .unwrap();
        let podman = Podman { dir };
        // The runc podman really runs: the first of its configured paths that exists.
        let runc = stdout_of(
            podman
                .cmd()
                .args(["info", "--format", "{{.Host.OCIRuntime.Path}}"]),
        );
        assert_version(Path::new(runc.trim()), RUNC_VERSION);
        podman
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new("podman");
        let dir = self.dir.path();
        cmd.env("CONTAINERS_CONF", dir.join("containers.conf"))
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .args(["--storage-driver", "vfs"]);
        cmd
    }

    /// The ID of `pod`'s infra container.
    pub fn infra_id(&self, pod: &str) -> String {
        let id = stdout_of(self.cmd().args([
            "pod",
            "inspect",
            pod,
            "--format",
            "{{.InfraContainerID}}",
        ]));
        id.trim().to_string()
    }

    /// The host PID of a running container.
    pub fn pid(&self, container: &str) -> i32 {
        let pid = stdout_of(
            self.cmd()
                .args(["inspect", container, "--format", "{{.State.Pid}}"]),
        );
        pid.trim()
            .parse()
            .unwrap_or_else(|e| panic!("pid of {container}: {pid:?}: {e}"))
    }

    /// `pod stop` (SIGTERM, then SIGKILL only after 10 s), then the infra container's
    /// "<status> <exit code>" and what it wrote to stderr.
    pub fn stop_pod(&self, pod: &str) -> (String, String) {
        let infra = self.infra_id(pod);
        run_ok(self.cmd().args(["pod", "stop", pod]));
        let state = stdout_of(self.cmd().args([
            "inspect",
            &infra,
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
        ]));
        let logs = run_ok(self.cmd().args(["logs", &infra]));
        (
            state.trim().to_string(),
            String::from_utf8_lossy(&logs.stderr).into_owned(),
        )
    }

    /// Starts a busybox app container (`import_busybox` first) in `pod`, whose PID namespace it
    /// shares: it leaves `n` held orphans there and sleeps on. Returns their PIDs in that
    /// namespace once it has printed them.
    pub fn hold_orphans(&self, pod: &str, n: usize) -> Vec<i32> {
        let script = format!("{}; exec sleep 3600", held_orphans_script(n, "sleep"));
        let id = stdout_of(self.cmd().args([
            "run",
            "--detach",
            "--pod",
            pod,
            "localhost/busybox:test",
            "sh",
            "-c",
            &script,
        ]));
        let id = id.trim();
        poll(&format!("app {id} to make its orphans"), || {
            let logs = output_of(self.cmd().args(["logs", id]));
            made_orphans(&String::from_utf8_lossy(&logs.stdout))
        })
    }

    /// Imports a busybox rootfs as `localhost/busybox:test`.
    pub fn import_busybox(&self) {
        let rootfs = busybox_rootfs(self.dir.path());
        let tarball = self.dir.path().join("busybox.tar");
        run_ok(
            Command::new("tar")
                .arg("-C")
                .arg(&rootfs)
                .arg("-cf")
                .arg(&tarball)
                .arg("."),
        );
        run_ok(
            self.cmd()
                .arg("import")
                .arg("-q")
                .arg(&tarball)
                .arg("localhost/busybox:test"),
        );
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // Stop whatever a failed test left running, then free the storage (vfs layers are
        // plain directories; overlay mounts would not be).
        let _ = output_of(self.cmd().args(["pod", "rm", "--all", "--force"]));
        let _ = output_of(self.cmd().args(["rm", "--all", "--force"]));
    }
}

/// runc with a state directory of its own. Container IDs get a per-instance suffix: runc
/// names cgroups after the ID, and those are shared by every runc on the host.
pub struct Runc {
    pub state: tempfile::TempDir,
    suffix: String,
    binary: PathBuf,
}

impl Runc {
    /// The host's runc, which must be the version the README states (RUNC_VERSION).
    pub fn isolated() -> Runc {
        let runc = require_tool("runc", "runc");
        assert_version(&runc, RUNC_VERSION);
        Runc::isolated_with(runc)
    }

    /// A runc other than the host's (trixie's 1.1.15, say: its caller checks its version).
    pub fn isolated_with(binary: PathBuf) -> Runc {
        let state = tempfile::tempdir().unwrap();
        let suffix = state
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches('.')
            .to_string();
        Runc {
            state,
            suffix,
            binary,
        }
    }

    /// The runc container ID for the test's short `name`.
    pub fn id(&self, name: &str) -> String {
        format!("{name}-{}", self.suffix)
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--root").arg(self.state.path());
        cmd
    }

    /// `runc run` in the foreground (it forwards signals and exits with the container's
    /// status), its output in `<name>.out` and `<name>.err` under `logs`.
    pub fn spawn_run(&self, bundle: &Path, name: &str, logs: &Path) -> Child {
        self.cmd()
            .args(["run", "--bundle"])
            .arg(bundle)
            .arg(self.id(name))
            .stdin(Stdio::null())
            .stdout(fs::File::create(logs.join(format!("{name}.out"))).unwrap())
            .stderr(fs::File::create(logs.join(format!("{name}.err"))).unwrap())
            .spawn()
            .expect("runc run")
    }

    /// The host PID of a running container's init, once runc reports it running.
    pub fn pid(&self, name: &str) -> i32 {
        let id = self.id(name);
        poll(&format!("container {id} to run"), || {
            let out = output_of(self.cmd().args(["state", &id]));
            let state: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
            (state["status"] == "running")
                .then(|| state["pid"].as_i64())?
                .map(|p| p as i32)
        })
    }

    /// `runc kill` with a signal name such as "TERM".
    pub fn kill(&self, name: &str, signal: &str) {
        run_ok(self.cmd().arg("kill").arg(self.id(name)).arg(signal));
    }
}

impl Drop for Runc {
    fn drop(&mut self) {
        let out = output_of(self.cmd().args(["list", "--quiet"]));
        for id in String::from_utf8_lossy(&out.stdout).lines() {
            let _ = output_of(self.cmd().args(["delete", "--force", id]));
        }
    }
}
