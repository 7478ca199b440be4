//! A private containerd (its CRI plugin serving the kubelet's API), the host's or another
//! release's, under a temporary directory and torn down on drop.

use crate::containers::{RUNC_VERSION, assert_version, output_of, run_ok};
use crate::{poll, require_tool};
use fs_err as fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The host's containerd, as the README's matrix states it (Debian bookworm's `containerd`).
pub const CONTAINERD_VERSION: &str = "1.6.20";

/// Debian trixie's containerd, as the README's matrix states it.
pub const TRIXIE_CONTAINERD_VERSION: &str = "1.7.24";

/// A private containerd (its CRI plugin serving the kubelet's API) under a temp directory.
pub struct Containerd {
    pub dir: tempfile::TempDir,
    child: Child,
    bin_dir: Option<PathBuf>,
}

/// Which containerd to start and how it reaches registries.
pub struct ContainerdSetup {
    /// The directory of another containerd's binaries (containerd, ctr, its shim): trixie's
    /// 1.7 (`ContainerdSetup::trixie`); the host's (Debian containerd) otherwise.
    pub bin_dir: Option<PathBuf>,
    /// The version the README's matrix states for that containerd: `Containerd::start_with`
    /// fails unless it reports this one.
    pub version: &'static str,
    /// The CRI plugin's registry `config_path`: a `HOST:PORT/hosts.toml` per registry.
    pub registry_hosts: Option<PathBuf>,
}

impl Default for ContainerdSetup {
    /// The host's containerd (CONTAINERD_VERSION), with no registry configuration.
    fn default() -> ContainerdSetup {
        ContainerdSetup {
            bin_dir: None,
            version: CONTAINERD_VERSION,
            registry_hosts: None,
        }
    }
}

impl ContainerdSetup {
    /// Debian trixie's containerd (TRIXIE_CONTAINERD_VERSION), fetched if this machine has not
    /// yet.
    pub fn trixie() -> ContainerdSetup {
        ContainerdSetup {
            bin_dir: Some(crate::debian::trixie("containerd").join("usr/bin")),
            version: TRIXIE_CONTAINERD_VERSION,
            ..Default::default()
        }
    }
}

impl Containerd {
    /// Starts the host's containerd with `sandbox_image` as the CRI plugin's pause image.
    pub fn start(sandbox_image: &str) -> Containerd {
        Containerd::start_with(sandbox_image, ContainerdSetup::default())
    }

    /// Fails unless the containerd it starts, and the runc its shim runs (the first on PATH:
    /// neither containerd ships one), are the versions the README's matrix states.
    pub fn start_with(sandbox_image: &str, setup: ContainerdSetup) -> Containerd {
        let containerd = match &setup.bin_dir {
            None => {
                require_tool("containerd-shim-runc-v2", "containerd");
                require_tool("ctr", "containerd");
                require_tool("containerd", "containerd")
            }
            Some(dir) => dir.join("containerd"),
        };
        assert_version(&containerd, setup.version);
        assert_version(&require_tool("runc", "runc"), RUNC_VERSION);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let registry = match &setup.registry_hosts {
            Some(hosts) => format!(
                "  [plugins.\"io.containerd.grpc.v1.cri\".registry]\n    config_path = \"{}\"\n",
                hosts.display()
            ),
            None => String::new(),
        };
        // The settings this sandbox needs (platform notes): the native snapshotter, no lowering
        // of oom_score_adj; every path under the temp directory.
        let config = format!(
            r#"version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.overlayfs"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{d}/cni-bin"
    conf_dir = "{d}/cni-conf"
{registry}"#
        );
        fs::write(dir.path().join("config.toml"), config).unwrap();
        let mut command = Command::new(&containerd);
        if let Some(bin_dir) = &setup.bin_dir {
            // containerd finds its shim on PATH: the one shipped with it.
            command.env("PATH", crate::debian::path_with(&[bin_dir]));
        }
        let child = command
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            .stdin(Stdio::null())
            .stdout(crate::output_file(dir.path().join("containerd.log")))
            .stderr(crate::output_file(dir.path().join("containerd.err")))
            .spawn()
            .expect("containerd");
        let containerd = Containerd {
            dir,
            child,
            bin_dir: setup.bin_dir,
        };
        poll("containerd to answer", || {
            output_of(containerd.ctr().arg("version"))
                .status
                .success()
                .then_some(())
        });
        containerd
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("containerd.sock")
    }

    /// `ctr` on this containerd, in the CRI plugin's namespace.
    pub fn ctr(&self) -> Command {
        let mut cmd = Command::new(match &self.bin_dir {
            Some(dir) => dir.join("ctr"),
            None => PathBuf::from("ctr"),
        });
        cmd.arg("--address")
            .arg(self.socket())
            .args(["--namespace", "k8s.io"]);
        cmd
    }

    /// Imports an OCI archive whose index.json tags it `tag`, as `name:tag`.
    pub fn import(&self, archive: &Path, name: &str) {
        run_ok(
            self.ctr()
                .args([
                    "images",
                    "import",
                    "--all-platforms",
                    "--snapshotter",
                    "native",
                ])
                .args(["--base-name", name])
                .arg(archive),
        );
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("containerd.err")).unwrap_or_default()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A test that failed half-way leaves shims (they outlive containerd by design) and
        // their containers: find this instance's by the socket on their command line.
        let socket = self.socket().display().to_string();
        for entry in fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains("containerd-shim") && cmdline.contains(&socket) {
                for child in crate::children(pid) {
                    // SAFETY: kill(2) on the shim's container processes, then the shim.
                    unsafe { libc::kill(child.pid, libc::SIGKILL) };
                }
                // SAFETY: as above.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}
