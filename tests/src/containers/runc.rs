//! runc with a state directory of its own.

use super::{RUNC_VERSION, assert_version, output_of, run_ok};
use crate::{Ended, PATIENCE, poll, require_tool, wait_bounded};
use fs_err as fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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
            .stdout(crate::output_file(logs.join(format!("{name}.out"))))
            .stderr(crate::output_file(logs.join(format!("{name}.err"))))
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

    /// `runc kill` with SIGTERM to the container `spawn_run` started as `name` (its `runc
    /// run` is `run`, its output under `logs`), then how it ended: `runc run`'s exit status,
    /// which is the container's, and the container's stdout and stderr.
    pub fn stop_with_sigterm(&self, run: &mut Child, name: &str, logs: &Path) -> Ended {
        self.kill(name, "TERM");
        let status = wait_bounded(run, PATIENCE);
        let read = |stream| fs::read_to_string(logs.join(format!("{name}.{stream}"))).unwrap();
        Ended {
            status,
            stdout: read("out"),
            stderr: read("err"),
        }
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
