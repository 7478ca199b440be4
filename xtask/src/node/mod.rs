//! A Kubernetes node on this machine, run as an operator runs one without a control plane: a
//! standalone kubelet (static pods from a manifest directory) on containerd 2.x and runc 1.3,
//! each built from its pinned Go module ([`components`]), with crictl to look at it. The
//! containerd config is ours with the shipped `pins/containerd-2.toml` appended verbatim, so
//! the image the runtime pins is the one the kubelet's pods get as their sandbox. Everything
//! lives under one temporary directory; dropping the node stops the kubelet, has containerd
//! stop and remove every pod, and stops containerd. The suite's kubelet tests and
//! `cargo xtask bench` both run it.

pub mod components;

use crate::command::output;
use anyhow::{Context, Result, bail};
use components::{CONTAINERD, CRICTL, KUBELET, RUNC};
use fs_err as fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a node's programs get to answer or to stop: only a guard against a hang, far
/// beyond what they take on a loaded two-core machine.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// The node's name (`--hostname-override`): a static pod `NAME` runs as `NAME-pause-node`.
pub const NODE_NAME: &str = "pause-node";

/// The pods' network: a Linux bridge the CNI bridge plugin makes, on a subnet of its own.
#[derive(Clone, Copy)]
struct Network {
    bridge: &'static str,
    subnet: &'static str,
    /// Whether the bridge is the pods' gateway (the host reaches them, as critest's web
    /// checks need) with CNI's portmap mapping host ports. A gateway turns on IP forwarding,
    /// which the node puts back as it was.
    gateway: bool,
}

/// A kubelet node's network: no gateway and no host ports, so nothing on the host changes.
const KUBELET_NETWORK: Network = Network {
    bridge: "pausenode0",
    subnet: "10.244.77.0/24",
    gateway: false,
};

/// A node without a kubelet (`Node::runtime_only`), for critest: another bridge and subnet,
/// so both kinds may run at once.
const RUNTIME_ONLY_NETWORK: Network = Network {
    bridge: "pausecri0",
    subnet: "10.244.79.0/24",
    gateway: true,
};

/// What a gateway bridge turns on, put back when the node goes.
pub const FORWARDING: &str = "/proc/sys/net/ipv4/ip_forward";

/// What the node is given.
#[derive(Default)]
pub struct NodeSetup {
    /// `REGISTRY` in the pinned snippet: `localhost:PORT` of the loopback registry the sandbox
    /// image is pulled from (plain HTTP, through a hosts.toml).
    pub registry: String,
    /// KubeletConfiguration fields that replace ours or add to them.
    pub kubelet_config: serde_json::Map<String, serde_json::Value>,
    /// Registries whose pulls go to `registry` instead (a hosts.toml mirror each), for images
    /// that are asked for by their public names.
    pub mirrored: Vec<String>,
}

/// The built parts, each checked to be the release its go.mod pins (the kubelet's only once
/// it is first started).
struct Binaries {
    kubelet: Option<PathBuf>,
    containerd: PathBuf,
    runc: PathBuf,
    crictl: PathBuf,
}

pub struct Node {
    pub dir: tempfile::TempDir,
    bin: Binaries,
    containerd: Option<Child>,
    /// Whether containerd ever ran: only then has teardown pods to remove through it.
    containerd_ran: bool,
    kubelet: Option<Child>,
    /// The host's kernel settings the kubelet (below) or a gateway bridge overwrites, as they
    /// were before.
    tunables: Vec<(&'static str, String)>,
    network: Network,
}

/// What the kubelet sets on the host when it starts (`setupKernelTunables`, as
/// `protectKernelDefaults: false` lets it): the node puts them back when it goes, so a test's
/// kubelet leaves the machine as it found it (`kernel.panic_on_oops=1` would turn any later
/// oops into a panic).
const KUBELET_TUNABLES: [&str; 5] = [
    "/proc/sys/vm/overcommit_memory",
    "/proc/sys/kernel/panic",
    "/proc/sys/kernel/panic_on_oops",
    "/proc/sys/kernel/keys/root_maxkeys",
    "/proc/sys/kernel/keys/root_maxbytes",
];

impl Node {
    /// Builds the parts if needed, writes the configs, starts containerd, then the kubelet.
    pub fn start(setup: &NodeSetup) -> Result<Node> {
        let mut node = Node::with_containerd(setup, KUBELET_NETWORK)?;
        node.start_kubelet()?;
        Ok(node)
    }

    /// containerd alone, as a CRI runtime for a client other than a kubelet (critest): the
    /// kubelet's configuration is written but nothing starts it, and the pods hang off a
    /// bridge of their own, so a kubelet node may run beside it.
    pub fn runtime_only(setup: &NodeSetup) -> Result<Node> {
        Node::with_containerd(setup, RUNTIME_ONLY_NETWORK)
    }

    fn with_containerd(setup: &NodeSetup, network: Network) -> Result<Node> {
        let bin = Binaries {
            kubelet: None,
            containerd: CONTAINERD.built()?,
            runc: RUNC.built()?.join("runc"),
            crictl: CRICTL.built()?.join("crictl"),
        };
        let dir = tempfile::Builder::new().prefix("node.").tempdir()?;
        let mut node = Node {
            dir,
            bin,
            containerd: None,
            containerd_ran: false,
            kubelet: None,
            tunables: if network.gateway {
                saved(&[FORWARDING])?
            } else {
                Vec::new()
            },
            network,
        };
        node.write_configs(setup)?;
        node.start_containerd()?;
        Ok(node)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Where the kubelet reads its static pods.
    pub fn manifests(&self) -> PathBuf {
        self.path("manifests")
    }

    /// The kubelet's `--root-dir` (its Localhost seccomp profiles are under `seccomp/`).
    pub fn kubelet_root(&self) -> PathBuf {
        self.path("kubelet")
    }

    /// containerd's socket: the CRI endpoint.
    pub fn socket(&self) -> PathBuf {
        self.path("containerd.sock")
    }

    /// The runc containerd's shim runs.
    pub fn runc(&self) -> &Path {
        &self.bin.runc
    }

    fn write_configs(&self, setup: &NodeSetup) -> Result<()> {
        let d = self.dir.path().display();
        for sub in ["manifests", "kubelet", "certs.d", "cni-conf", "cni-ipam"] {
            fs::create_dir_all(self.path(sub))?;
        }
        let host = &setup.registry;
        let mirror =
            format!("[host.\"http://{host}\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
        fs::create_dir_all(self.path("certs.d").join(host))?;
        fs::write(
            self.path("certs.d").join(host).join("hosts.toml"),
            format!("server = \"http://{host}\"\n{mirror}"),
        )?;
        for public in &setup.mirrored {
            fs::create_dir_all(self.path("certs.d").join(public))?;
            fs::write(
                self.path("certs.d").join(public).join("hosts.toml"),
                format!("server = \"https://{public}\"\n{mirror}"),
            )?;
        }
        // Pods get a network namespace of their own on a bridge, as on any node (containerd
        // wants an address for eth0); no masquerade, so pods reach nothing beyond the host.
        // On a gateway bridge the host reaches them and portmap maps host ports (iptables
        // DNAT; each pod's rules go with it, the empty base chains stay, as podman's do).
        let Network {
            bridge,
            subnet,
            gateway,
        } = self.network;
        let portmap = if gateway {
            r#", {"type": "portmap", "capabilities": {"portMappings": true}}"#
        } else {
            ""
        };
        fs::write(
            self.path("cni-conf/10-pause-node.conflist"),
            format!(
                r#"{{"cniVersion": "1.0.0", "name": "pause-node", "plugins": [{{"type": "bridge", "bridge": "{bridge}", "isGateway": {gateway}, "ipMasq": false, "ipam": {{"type": "host-local", "dataDir": "{d}/cni-ipam", "ranges": [[{{"subnet": "{subnet}"}}]]}}}}{portmap}]}}
"#
            ),
        )?;
        let pins = fs::read_to_string(crate::dist_dir().join("pins/containerd-2.toml"))?;
        // The settings this sandbox needs (platform notes): the native snapshotter (no
        // overlayfs here), no lowering of oom_score_adj; every path under the node's directory.
        let config = format!(
            r#"version = 3
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.overlayfs", "io.containerd.snapshotter.v1.erofs"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[plugins."io.containerd.transfer.v1.local"]
  [[plugins."io.containerd.transfer.v1.local".unpack_config]]
    platform = "{platform}"
    snapshotter = "native"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "native"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "{d}/certs.d"
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "{runc}"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "{d}/cni-conf"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

{pins}"#,
            runc = self.bin.runc.display(),
            platform = crate::Arch::host()
                .context("the node runs on an architecture we ship for")?
                .platform(),
            pins = pins.replace(crate::pins::REGISTRY, host),
        );
        fs::write(self.path("containerd.toml"), config)?;
        // Standalone: no kubeconfig, so no API server; static pods only. No server of its
        // own (nothing calls in), cgroupfs (no systemd here), and the two opt-outs this
        // machine needs: cgroup v1, and swap allowed. Eviction only at the last percent, so
        // a full disk elsewhere on the machine does not decide a test; image GC off unless
        // the setup turns it on (both thresholds 100 and no maximum age).
        let mut kubelet = serde_json::json!({
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "staticPodPath": self.manifests(),
            "fileCheckFrequency": "1s",
            "syncFrequency": "5s",
            "containerRuntimeEndpoint": format!("unix://{d}/containerd.sock"),
            "imageServiceEndpoint": format!("unix://{d}/containerd.sock"),
            "cgroupDriver": "cgroupfs",
            "failCgroupV1": false,
            "failSwapOn": false,
            "enableServer": false,
            "healthzPort": 0,
            "readOnlyPort": 0,
            // Lowering its own oom_score_adj is refused here; asking for nothing keeps the
            // log clean.
            "oomScoreAdj": 0,
            "podLogsDir": self.path("pod-logs"),
            "volumePluginDir": self.path("volume-plugins"),
            "authentication": {"anonymous": {"enabled": false}, "webhook": {"enabled": false}},
            "authorization": {"mode": "AlwaysAllow"},
            "evictionHard": {
                "memory.available": "1Mi",
                "nodefs.available": "1%",
                "imagefs.available": "1%",
                "nodefs.inodesFree": "1%",
            },
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
        });
        for (key, value) in &setup.kubelet_config {
            kubelet[key] = value.clone();
        }
        // JSON is YAML: the kubelet reads either.
        fs::write(
            self.path("kubelet.json"),
            serde_json::to_string_pretty(&kubelet)?,
        )?;
        Ok(())
    }

    /// Restarts the kubelet with `fields` replacing those of its configuration, as an
    /// operator changing a node's kubelet config does.
    pub fn reconfigure_kubelet(
        &mut self,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        let path = self.path("kubelet.json");
        let mut config: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path)?)?;
        for (key, value) in fields {
            config[key] = value.clone();
        }
        fs::write(&path, serde_json::to_string_pretty(&config)?)?;
        self.stop_kubelet()?;
        self.start_kubelet()
    }

    /// Starts containerd (again, after `stop_containerd`, on the same state) and waits until
    /// its CRI answers.
    pub fn start_containerd(&mut self) -> Result<()> {
        let dir = &self.bin.containerd;
        let child = Command::new(dir.join("containerd"))
            .arg("--config")
            .arg(self.path("containerd.toml"))
            // containerd finds its shim on PATH: the one built with it.
            .env("PATH", path_with(dir))
            .stdin(Stdio::null())
            .stdout(append(&self.path("containerd.log"))?)
            .stderr(append(&self.path("containerd.log"))?)
            .spawn()
            .with_context(|| format!("starting {}", dir.join("containerd").display()))?;
        self.containerd = Some(child);
        self.containerd_ran = true;
        let crictl = self.crictl_program();
        wait_until_cri_answers("containerd", &mut self.containerd, || {
            crictl()
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .with_context(|| format!("containerd's log:\n{}", self.containerd_log()))
    }

    /// Stops containerd with SIGTERM, as systemd does, and waits for it.
    pub fn stop_containerd(&mut self) -> Result<()> {
        stop(&mut self.containerd, "containerd")
    }

    /// Starts the kubelet (again, after `stop_kubelet`, on the same root dir), building it
    /// first if this machine has not yet.
    pub fn start_kubelet(&mut self) -> Result<()> {
        let kubelet = match &self.bin.kubelet {
            Some(kubelet) => kubelet.clone(),
            None => KUBELET.built()?.join("kubelet"),
        };
        self.bin.kubelet = Some(kubelet.clone());
        if !self
            .tunables
            .iter()
            .any(|(path, _)| KUBELET_TUNABLES.contains(path))
        {
            self.tunables.extend(saved(&KUBELET_TUNABLES)?);
        }
        let child = Command::new(&kubelet)
            .arg("--config")
            .arg(self.path("kubelet.json"))
            .arg("--root-dir")
            .arg(self.kubelet_root())
            // --v=3 logs each sync's decision for a pod (`computePodActions got for pod`),
            // which the tests read after a restart.
            .args(["--hostname-override", NODE_NAME, "--v=3"])
            .stdin(Stdio::null())
            .stdout(append(&self.path("kubelet.log"))?)
            .stderr(append(&self.path("kubelet.log"))?)
            .spawn()
            .with_context(|| format!("starting {}", kubelet.display()))?;
        self.kubelet = Some(child);
        Ok(())
    }

    /// Stops the kubelet with SIGTERM and waits for it; its pods stay.
    pub fn stop_kubelet(&mut self) -> Result<()> {
        stop(&mut self.kubelet, "the kubelet")
    }

    /// Fails with the kubelet's log if it has exited.
    pub fn kubelet_running(&mut self) -> Result<()> {
        if let Some(child) = &mut self.kubelet
            && let Some(status) = child.try_wait()?
        {
            bail!(
                "the kubelet exited: {status}\nits log:\n{}",
                self.kubelet_log()
            );
        }
        Ok(())
    }

    /// crictl on this node's CRI, with room for a loaded machine (its default is 2 s).
    pub fn crictl(&self) -> Command {
        self.crictl_program()()
    }

    /// What makes `crictl()`'s command, borrowing nothing of the node.
    fn crictl_program(&self) -> impl Fn() -> Command + use<> {
        crictl_on(self.bin.crictl.clone(), self.socket())
    }

    /// crictl, for what it prints; an error names the call and what it said.
    pub fn crictl_output(&self, args: &[&str]) -> Result<String> {
        output(self.crictl().args(args))
    }

    /// `ctr` on this containerd, in the CRI's namespace.
    pub fn ctr(&self) -> Command {
        let mut cmd = Command::new(self.bin.containerd.join("ctr"));
        cmd.arg("--address")
            .arg(self.socket())
            .args(["--namespace", "k8s.io"]);
        cmd
    }

    /// Places a static pod's manifest where the kubelet looks (whole, by a rename: the kubelet
    /// skips dotfiles, so it never reads half of one).
    pub fn add_manifest(&self, name: &str, yaml: &str) -> Result<()> {
        let hidden = self.manifests().join(format!(".{name}.yaml"));
        fs::write(&hidden, yaml)?;
        fs::rename(&hidden, self.manifests().join(format!("{name}.yaml")))?;
        Ok(())
    }

    pub fn remove_manifest(&self, name: &str) -> Result<()> {
        fs::remove_file(self.manifests().join(format!("{name}.yaml")))?;
        Ok(())
    }

    /// The id of static pod `name`'s sandbox once it is ready and all its containers run.
    pub fn wait_until_running(&mut self, name: &str, containers: usize) -> Result<String> {
        let pod = pod_name(name);
        let found = wait_for(&format!("pod {pod} to run {containers} containers"), || {
            let sandbox = self.crictl_output(&["pods", "--name", &pod, "--state", "ready", "-q"]);
            let sandbox = sandbox.ok()?.lines().next()?.trim().to_string();
            let running = self
                .crictl_output(&["ps", "--pod", &sandbox, "--state", "running", "-q"])
                .ok()?;
            (running.lines().count() == containers).then_some(sandbox)
        });
        self.kubelet_running()?;
        found.with_context(|| self.logs())
    }

    /// The PID of a sandbox's or container's first process, as containerd reports it.
    pub fn pid_of(&self, kind: &str, id: &str) -> Result<i32> {
        let status = self.crictl_output(&[kind, "-o", "json", id])?;
        let value: serde_json::Value = serde_json::from_str(&status)?;
        value["info"]["pid"]
            .as_i64()
            .map(|pid| pid as i32)
            .with_context(|| format!("crictl {kind} {id}: no info.pid in {status}"))
    }

    pub fn kubelet_log(&self) -> String {
        fs::read_to_string(self.path("kubelet.log")).unwrap_or_default()
    }

    pub fn containerd_log(&self) -> String {
        fs::read_to_string(self.path("containerd.log")).unwrap_or_default()
    }

    /// Both logs' last lines, for a failure message.
    pub fn logs(&self) -> String {
        let tail = |log: String| {
            let lines: Vec<&str> = log.lines().collect();
            lines[lines.len().saturating_sub(60)..].join("\n")
        };
        format!(
            "kubelet log (last lines):\n{}\ncontainerd log (last lines):\n{}",
            tail(self.kubelet_log()),
            tail(self.containerd_log())
        )
    }

    /// Every pod stopped and removed through the CRI, as a node being drained would.
    fn remove_all_pods(&self) -> Result<()> {
        output(self.crictl().args(["rmp", "--all", "--force"]))?;
        Ok(())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // The kubelet first, or it restarts what is being removed; then the pods through
        // containerd (it kills, unmounts, and frees each network namespace); then containerd.
        let _ = self.stop_kubelet();
        if self.containerd_ran {
            // A test that stopped containerd last still has pods to remove through it.
            if self.containerd.is_none() {
                let _ = self.start_containerd();
            }
            if let Err(e) = self.remove_all_pods() {
                eprintln!("node teardown: {e:#}");
            }
        }
        let _ = self.stop_containerd();
        restore(&self.tunables);
        // Only a node whose kubelet ran made them (and another node's may be in use).
        if self.bin.kubelet.is_some() {
            remove_cgroup_trees("kubepods");
        }
        // A pod that could not be removed leaves its shim (shims outlive containerd by
        // design): find this node's by the socket on their command line.
        let socket = self.socket().display().to_string();
        for pid in processes_mentioning("containerd-shim", &socket) {
            // SAFETY: kill(2) of a process group of this node's own shim.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            // SAFETY: as above, the shim itself.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let _ = Command::new("ip")
            .args(["link", "delete", self.network.bridge])
            .stderr(Stdio::null())
            .status();
        // The kubelet bind-mounts its root dir onto itself (to make it rshared), and pods'
        // volumes are mounts below it: undo them, deepest first, or the directory stays.
        for mount in mounts_under(self.dir.path()).iter().rev() {
            if let Ok(path) = std::ffi::CString::new(mount.as_os_str().as_encoded_bytes()) {
                // SAFETY: umount2(2) of a path string we own, detached so a busy one goes too.
                unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
            }
        }
    }
}

/// Cgroup `name` and everything below it, in every v1 hierarchy, deepest first (the
/// kubelet's `kubepods`, CRI-O's `crio`): with their pods removed they are empty, and
/// rmdir(2) takes only empty ones.
pub fn remove_cgroup_trees(name: &str) {
    fn remove_tree(dir: &Path) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&entry.path());
            }
        }
        let _ = std::fs::remove_dir(dir);
    }
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        remove_tree(&hierarchy.path().join(name));
    }
}

/// The mount points at or below `dir`, in the order /proc/self/mountinfo lists them (parents
/// before what is mounted on them).
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mountinfo
        .lines()
        // The mount point is the fifth field; spaces in it come as \040, none in ours.
        .filter_map(|line| line.split(' ').nth(4))
        .map(PathBuf::from)
        .filter(|point| point.starts_with(dir))
        .collect()
}

/// The name the kubelet gives static pod `name` on this node (`NAME-NODE`).
pub fn pod_name(name: &str) -> String {
    format!("{name}-{NODE_NAME}")
}

/// The sandbox image the shipped `pins/containerd-2.toml` pins, `REGISTRY` replaced by
/// `registry`.
pub fn pinned_image(registry: &str) -> Result<String> {
    crate::pins::pinned_in("containerd-2.toml", "sandbox", registry)
}

/// The current values of kernel settings (`/proc/sys` paths), to be put back later.
pub fn saved(paths: &[&'static str]) -> Result<Vec<(&'static str, String)>> {
    paths
        .iter()
        .map(|&path| Ok((path, fs::read_to_string(path)?.trim().to_string())))
        .collect()
}

/// Puts back kernel settings as `saved` read them.
pub fn restore(settings: &[(&'static str, String)]) {
    for (path, value) in settings {
        if let Err(e) = fs::write(path, value) {
            eprintln!("restoring {path}: {e}");
        }
    }
}

/// PIDs of the processes whose command line holds both `a` and `b`.
pub fn processes_mentioning(a: &str, b: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(a) && cmdline.contains(b) {
            found.push(pid);
        }
    }
    found
}

/// Sends SIGTERM to `child` and waits for it at most PATIENCE (then SIGKILL).
pub fn stop(child: &mut Option<Child>, what: &str) -> Result<()> {
    let Some(mut child) = child.take() else {
        return Ok(());
    };
    // SAFETY: kill(2) of our own child, not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + PATIENCE;
    while child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{what} did not stop within {PATIENCE:?} of SIGTERM: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// `crictl` (the program) on the CRI at `socket`, with room for a loaded machine (its default
/// timeout is 2 s): a maker of such commands.
pub fn crictl_on(crictl: PathBuf, socket: PathBuf) -> impl Fn() -> Command {
    move || {
        let endpoint = format!("unix://{}", socket.display());
        let mut cmd = Command::new(&crictl);
        cmd.args(["--runtime-endpoint", &endpoint])
            .args(["--image-endpoint", &endpoint])
            .args(["--timeout", "60s"]);
        cmd
    }
}

/// Waits until a CRI daemon just started as `child` answers (`answers`), failing at once if
/// it exits first: one that exited will never answer, so say so now, not at the deadline.
pub fn wait_until_cri_answers(
    what: &str,
    child: &mut Option<Child>,
    answers: impl Fn() -> bool,
) -> Result<()> {
    let mut exited = None;
    let answered = wait_for(&format!("{what}'s CRI to answer"), || {
        if let Some(running) = child.as_mut()
            && let Ok(Some(status)) = running.try_wait()
        {
            exited = Some(status);
            return Some(());
        }
        answers().then_some(())
    });
    if let Some(status) = exited {
        *child = None;
        bail!("{what} exited: {status}");
    }
    answered
}

/// Polls `check` every 100 ms until it yields a value; past PATIENCE, an error naming `what`.
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> Result<T> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("timed out after {PATIENCE:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A log file opened for appending: a restarted program's lines follow its earlier ones.
fn append(path: &Path) -> Result<Stdio> {
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    Ok(Stdio::from(file.into_file()))
}

fn path_with(dir: &Path) -> std::ffi::OsString {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let all = std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&current));
    std::env::join_paths(all).expect("PATH entries")
}
