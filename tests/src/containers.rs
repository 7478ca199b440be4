//! Real container tooling for the image tests: an app rootfs from busybox-static, podman with
//! its own storage, runc with its own state (the private containerd is in containerd.rs). Each
//! piece lives in its own temporary directory and is torn down on drop.

use crate::{PATIENCE, poll, require_tool, wait_bounded};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use xtask::elf::ElfFacts;

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

/// podman with storage, run state and configuration of its own (see platform notes: vfs,
/// runc, cgroupfs, file events, and rlimits this sandbox allows).
pub struct Podman {
    pub dir: tempfile::TempDir,
}

impl Podman {
    pub fn isolated() -> Podman {
        require_tool("podman", "podman");
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
        Podman { dir }
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
    pub fn isolated() -> Runc {
        Runc::isolated_with(require_tool("runc", "runc"))
    }

    /// A runc other than the host's (trixie's 1.1.15, say).
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
