//! A private CRI-O (built from its pinned Go module, with `pinns` from the same sources), as an
//! operator runs one beside a kubelet: conmon and the CNI plugins from Debian, runc from the
//! node's pinned build, storage on vfs (no overlayfs here), cgroupfs (no systemd). Our config
//! is `crio.conf`; the shipped `pins/crio.conf` goes verbatim into its drop-in directory as
//! `10-pause.conf`, REGISTRY replaced by the loopback registry. Everything lives under one
//! temporary directory; dropping it removes every pod through the CRI and stops CRI-O.

use crate::containers::{assert_version_by, output_of};
use fs_err as fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use xtask::node::components::{CRICTL, CRIO, RUNC};
use xtask::node::wait_until_cri_answers;
use xtask::node::{FORWARDING, remove_cgroup_trees, restore, saved};
use xtask::node::{crictl_on, mounts_under, processes_mentioning};

/// conmon, CRI-O's container monitor: Debian's, the version the README states.
pub const CONMON: &str = "/usr/bin/conmon";
pub const CONMON_VERSION: &str = "2.1.6";

/// The bridge CRI-O's pods hang off (not the kubelet node's, so both may exist).
const BRIDGE: &str = "pausecrio0";

/// What CRI-O is given.
#[derive(Default)]
pub struct CrioSetup {
    /// `localhost:PORT` of the loopback registry: REGISTRY in the pinned snippet, and an
    /// insecure (plain HTTP) registry in registries.conf.
    pub registry: String,
    /// Registries.conf mirrors: (prefix asked for, location served from), both on `registry`.
    pub mirrors: Vec<(String, String)>,
    /// A drop-in after the pin (`20-test.conf`), e.g. `pause_command = ""`.
    pub drop_in: Option<String>,
}

pub struct Crio {
    pub dir: tempfile::TempDir,
    bin: PathBuf,
    crictl: PathBuf,
    runc: PathBuf,
    child: Option<Child>,
    /// IP forwarding as it was: the pods' gateway bridge turns it on.
    forwarding: Vec<(&'static str, String)>,
}

impl Crio {
    /// Builds CRI-O if needed, writes its configs, starts it and waits until its CRI answers.
    pub fn start(setup: &CrioSetup) -> Crio {
        let built =
            |c: &xtask::node::components::Component| c.built().unwrap_or_else(|e| panic!("{e:#}"));
        assert_version_by(Path::new(CONMON), &["--version"], CONMON_VERSION);
        let mut crio = Crio {
            dir: tempfile::Builder::new().prefix("crio.").tempdir().unwrap(),
            bin: built(&CRIO),
            crictl: built(&CRICTL).join("crictl"),
            runc: built(&RUNC).join("runc"),
            child: None,
            forwarding: saved(&[FORWARDING]).unwrap(),
        };
        crio.write_configs(setup);
        crio.start_daemon();
        crio
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// CRI-O's socket: the CRI endpoint.
    pub fn socket(&self) -> PathBuf {
        self.path("crio.sock")
    }

    fn write_configs(&self, setup: &CrioSetup) {
        let runc = &self.runc;
        let d = self.dir.path().display();
        for sub in [
            "crio.conf.d",
            "registries.d",
            "cni-conf",
            "cni-ipam",
            "exits",
            "ns",
        ] {
            fs::create_dir_all(self.path(sub)).unwrap();
        }
        let host = &setup.registry;
        let pins = fs::read_to_string(xtask::dist_dir().join("pins/crio.conf")).unwrap();
        fs::write(
            self.path("crio.conf.d/10-pause.conf"),
            pins.replace(xtask::pins::REGISTRY, host),
        )
        .unwrap();
        if let Some(drop_in) = &setup.drop_in {
            fs::write(self.path("crio.conf.d/20-test.conf"), drop_in).unwrap();
        }
        // Every path under our directory; what this machine needs: vfs, cgroupfs, conmon in
        // the pod's cgroup (no systemd slices); no NRI; every pod metric, which critest's
        // metrics specs ask for.
        let config = format!(
            r#"[crio]
root = "{d}/root"
runroot = "{d}/run"
storage_driver = "vfs"
log_dir = "{d}/pod-logs"
version_file = "{d}/version"
version_file_persist = "{d}/version-persist"
clean_shutdown_file = "{d}/clean.shutdown"
[crio.api]
listen = "{d}/crio.sock"
stream_address = "127.0.0.1"
stream_port = "0"
[crio.runtime]
default_runtime = "runc"
cgroup_manager = "cgroupfs"
conmon_cgroup = "pod"
namespaces_dir = "{d}/ns"
pinns_path = "{pinns}"
container_exits_dir = "{d}/exits"
container_attach_socket_dir = "{d}/attach"
hooks_dir = []
cdi_spec_dirs = []
decryption_keys_path = "{d}/keys"
enable_criu_support = false
[crio.runtime.runtimes.runc]
runtime_path = "{wrapper}"
runtime_type = "oci"
runtime_root = "{d}/runc"
monitor_path = "{CONMON}"
monitor_cgroup = "pod"
[crio.image]
signature_policy = "{d}/policy.json"
[crio.network]
network_dir = "{d}/cni-conf"
plugin_dirs = ["/usr/lib/cni"]
[crio.nri]
enable_nri = false
[crio.stats]
included_pod_metrics = ["all"]
"#,
            pinns = self.bin.join("pinns").display(),
            wrapper = self.path("runc-restricting-oom-score-adj").display(),
        );
        fs::write(self.path("crio.conf"), config).unwrap();
        // This machine refuses to lower oom_score_adj (no CAP_SYS_RESOURCE, platform notes),
        // and CRI-O asks -998 for every infra container, which runc then fails to set. CRI-O
        // has no switch for it (containerd's is `restrict_oom_score_adj`, which the node
        // sets): so runc is reached through this wrapper, which does what that switch does,
        // raising a lower score in the bundle's config.json to the caller's own.
        let wrapper = self.path("runc-restricting-oom-score-adj");
        fs::write(
            &wrapper,
            format!(
                r#"#!/bin/sh
bundle=
prev=
for arg; do
  case $prev in --bundle|-b) bundle=$arg ;; esac
  prev=$arg
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
  own=$(cat /proc/self/oom_score_adj)
  jq -c --argjson own "$own" \
    'if (.process.oomScoreAdj // $own) < $own then .process.oomScoreAdj = $own else . end' \
    "$bundle/config.json" > "$bundle/config.json.restricted" &&
    mv "$bundle/config.json.restricted" "$bundle/config.json" || exit 1
fi
exec {runc} "$@"
"#,
                runc = runc.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        fs::write(
            self.path("policy.json"),
            r#"{"default": [{"type": "insecureAcceptAnything"}]}"#,
        )
        .unwrap();
        let mut registries = format!(
            "unqualified-search-registries = []\n[[registry]]\nlocation = \"{host}\"\ninsecure = true\n"
        );
        for (prefix, location) in &setup.mirrors {
            registries.push_str(&format!(
                "[[registry]]\nprefix = \"{prefix}\"\nlocation = \"{location}\"\ninsecure = true\n"
            ));
        }
        fs::write(self.path("registries.conf"), registries).unwrap();
        fs::write(
            self.path("storage.conf"),
            format!(
                "[storage]\ndriver = \"vfs\"\nrunroot = \"{d}/run\"\ngraphroot = \"{d}/root\"\n"
            ),
        )
        .unwrap();
        // A network namespace of its own for each pod, on a bridge that is its gateway, with
        // host ports (as the kubelet node, on a bridge and subnet of its own).
        fs::write(
            self.path("cni-conf/10-pause-crio.conflist"),
            format!(
                r#"{{"cniVersion": "1.0.0", "name": "pause-crio", "plugins": [{{"type": "bridge", "bridge": "{BRIDGE}", "isGateway": true, "ipMasq": false, "ipam": {{"type": "host-local", "dataDir": "{d}/cni-ipam", "ranges": [[{{"subnet": "10.244.78.0/24"}}]]}}}}, {{"type": "portmap", "capabilities": {{"portMappings": true}}}}]}}
"#
            ),
        )
        .unwrap();
    }

    fn start_daemon(&mut self) {
        let log = || {
            let file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path("crio.log"))
                .unwrap();
            Stdio::from(file.into_file())
        };
        let child = Command::new(self.bin.join("crio"))
            .arg("--config")
            .arg(self.path("crio.conf"))
            .arg("--config-dir")
            .arg(self.path("crio.conf.d"))
            .arg("--registries-conf")
            .arg(self.path("registries.conf"))
            .arg("--registries-conf-dir")
            .arg(self.path("registries.d"))
            .env("CONTAINERS_STORAGE_CONF", self.path("storage.conf"))
            .stdin(Stdio::null())
            .stdout(log())
            .stderr(log())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.bin.join("crio").display()));
        self.child = Some(child);
        let crictl = crictl_on(self.crictl.clone(), self.socket());
        wait_until_cri_answers("CRI-O", &mut self.child, || {
            crictl()
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .unwrap_or_else(|e| panic!("{e:#}\nCRI-O's log:\n{}", self.log()));
    }

    /// crictl on this CRI-O, with room for a loaded machine.
    pub fn crictl(&self) -> Command {
        crictl_on(self.crictl.clone(), self.socket())()
    }

    /// crictl's output, or a failure naming the call, what it said, and CRI-O's log.
    pub fn crictl_out(&self, args: &[&str]) -> String {
        let out = output_of(self.crictl().args(args));
        assert!(
            out.status.success(),
            "crictl {args:?}: {}\n{}\nCRI-O's log (last lines):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.path("crio.log")).unwrap_or_default()
    }

    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// PIDs of this CRI-O's conmons (their command lines name our directory).
    pub fn conmons(&self) -> Vec<i32> {
        processes_mentioning(CONMON, &self.dir.path().display().to_string())
    }

    /// PIDs of the conmons monitoring container (or infra container) `id`.
    pub fn conmons_of(&self, id: &str) -> Vec<i32> {
        let mut found: Vec<i32> = processes_mentioning(CONMON, &format!("--cid {id}"))
            .into_iter()
            .chain(processes_mentioning(CONMON, &format!("-c {id}")))
            .filter(|pid| self.conmons().contains(pid))
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

impl Drop for Crio {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = run_ok_quietly(self.crictl().args(["rmp", "--all", "--force"]));
        }
        // As systemd stops it: SIGTERM, then SIGKILL past PATIENCE.
        if let Err(e) = xtask::node::stop(&mut self.child, "CRI-O") {
            eprintln!("CRI-O teardown: {e:#}");
        }
        // What a failed removal left: its containers, through runc (the processes conmon
        // watches), then the conmons, which outlive CRI-O by design.
        let runc = || {
            let mut cmd = Command::new(&self.runc);
            cmd.arg("--root").arg(self.path("runc"));
            cmd
        };
        let left = runc().args(["list", "-q"]).output();
        let left = left.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        for id in left.unwrap_or_default().lines() {
            let _ = run_ok_quietly(runc().args(["delete", "--force", id]));
        }
        for pid in self.conmons() {
            // SAFETY: kill(2) of a conmon of ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // CRI-O's cgroupfs parent for its pods, empty once they are gone.
        remove_cgroup_trees("crio");
        restore(&self.forwarding);
        let _ = Command::new("ip")
            .args(["link", "delete", BRIDGE])
            .stderr(Stdio::null())
            .status();
        // pinns bind-mounts each pod's namespaces under ns/, and storage mounts shm under
        // run/: undo them, deepest first, or the directory stays.
        for mount in mounts_under(self.dir.path()).iter().rev() {
            if let Ok(path) = std::ffi::CString::new(mount.as_os_str().as_encoded_bytes()) {
                // SAFETY: umount2(2) of a path string we own, detached so a busy one goes too.
                unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
            }
        }
    }
}

fn run_ok_quietly(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The sandbox image the shipped `pins/crio.conf` sets as `pause_image`, REGISTRY replaced by
/// `registry`.
pub fn pinned_image(registry: &str) -> String {
    xtask::pins::pinned_in("crio.conf", "pause_image", registry).unwrap_or_else(|e| panic!("{e:#}"))
}
