//! podman with storage, run state and configuration of its own.

use super::{
    PODMAN_VERSION, RUNC_VERSION, assert_version, busybox_rootfs, held_orphans_script,
    made_orphans, output_of, run_ok, stdout_of,
};
use crate::{Ended, poll, require_tool};
use fs_err as fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

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

    /// `pod stop` (SIGTERM, then SIGKILL only after 10 s), then how the infra container ended:
    /// its exit code (fails unless podman says it has exited) and its stdout and stderr.
    pub fn stop_pod(&self, pod: &str) -> Ended {
        let infra = self.infra_id(pod);
        run_ok(self.cmd().args(["pod", "stop", pod]));
        let state = stdout_of(self.cmd().args([
            "inspect",
            &infra,
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
        ]));
        let code = match state.split_whitespace().collect::<Vec<_>>()[..] {
            ["exited", code] => code
                .parse::<u8>()
                .unwrap_or_else(|e| panic!("{state:?}: {e}")),
            _ => panic!("the infra container of {pod} has not exited: {state:?}"),
        };
        let logs = run_ok(self.cmd().args(["logs", &infra]));
        Ended {
            status: ExitStatus::from_raw(i32::from(code) << 8),
            stdout: String::from_utf8_lossy(&logs.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&logs.stderr).into_owned(),
        }
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

    /// Imports busybox (`import_busybox`) and saves it as an OCI archive in this podman's
    /// directory, for a containerd to import: returns the archive's path.
    pub fn busybox_oci_archive(&self) -> PathBuf {
        self.import_busybox();
        let archive = self.dir.path().join("busybox-oci.tar");
        run_ok(
            self.cmd()
                .args(["save", "--format", "oci-archive", "-o"])
                .arg(&archive)
                .arg("localhost/busybox:test"),
        );
        archive
    }

    /// Imports a busybox rootfs as `localhost/busybox:test`.
    pub fn import_busybox(&self) {
        let rootfs = busybox_rootfs(self.dir.path());
        self.import_rootfs(&rootfs, "localhost/busybox:test", &[]);
    }

    /// Imports directory `rootfs` (tarred as it is, hard links kept) as image `name`, with
    /// `changes` (Containerfile instructions such as `CMD ["sh"]`) applied to its config.
    pub fn import_rootfs(&self, rootfs: &Path, name: &str, changes: &[&str]) {
        let tarball = rootfs.with_extension("tar");
        run_ok(
            Command::new("tar")
                .arg("-C")
                .arg(rootfs)
                .arg("-cf")
                .arg(&tarball)
                .arg("."),
        );
        let mut cmd = self.cmd();
        cmd.args(["import", "-q"]);
        for change in changes {
            cmd.args(["--change", change]);
        }
        run_ok(cmd.arg(&tarball).arg(name));
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
