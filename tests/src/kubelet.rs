//! A kubelet node ([`xtask::node`]: standalone kubelet, containerd 2.x, runc 1.3, each built
//! from its pinned Go module) beside the loopback registry the README's publish commands
//! filled, with a busybox app image loaded: what the kubelet tests drive.

use crate::containers::{Podman, run_ok};
use crate::registry::{Registry, published};
use serde_json::{Value, json};
use std::path::PathBuf;
pub use xtask::node::pod_name;
use xtask::node::{Node, NodeSetup};

/// The app containers' image, loaded into the node's containerd (pulled never).
pub const BUSYBOX: &str = "localhost/busybox:test";

/// A node and the registry its sandbox image comes from. The node is dropped first (its
/// teardown may still talk to containerd, which may still talk to the registry).
pub struct Cluster {
    pub node: Node,
    pub registry: Registry,
    /// Kept for its storage, which holds the busybox archive.
    _podman: Podman,
    busybox_archive: PathBuf,
}

impl Cluster {
    /// A registry with what the README published, and a node pinning that image, with
    /// `kubelet_config`'s fields over the kubelet's configuration (`json!({})`: none).
    pub fn start(kubelet_config: Value) -> Cluster {
        let (registry, _) = published();
        let node = Node::start(&NodeSetup {
            registry: registry.host(),
            kubelet_config: match kubelet_config {
                Value::Object(fields) => fields,
                other => panic!("kubelet_config is not an object: {other}"),
            },
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("the node: {e:#}"));
        let podman = Podman::isolated();
        let busybox_archive = podman.busybox_oci_archive();
        load_image(&node, &busybox_archive, "localhost/busybox");
        Cluster {
            node,
            registry,
            _podman: podman,
            busybox_archive,
        }
    }

    /// busybox as an OCI archive, to load it again.
    pub fn busybox_archive(&self) -> PathBuf {
        self.busybox_archive.clone()
    }

    /// The sandbox image as the shipped `pins/containerd-2.toml` pins it, for this registry.
    pub fn pinned_image(&self) -> String {
        xtask::node::pinned_image(&self.registry.host()).unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// Writes static pod `name` and waits until its sandbox is ready and its `containers` all
    /// run; returns the sandbox's id.
    pub fn run_pod(&mut self, name: &str, pod: &Value) -> String {
        let containers = pod["spec"]["containers"].as_array().map_or(0, Vec::len);
        self.node
            .add_manifest(name, &pod.to_string())
            .unwrap_or_else(|e| panic!("{e:#}"));
        self.node
            .wait_until_running(name, containers)
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// crictl's output, or a failure naming the call, what it said, and the node's logs.
    pub fn crictl(&self, args: &[&str]) -> String {
        self.node
            .crictl_output(args)
            .unwrap_or_else(|e| panic!("{e:#}\n{}", self.node.logs()))
    }

    /// The id of container `name` in sandbox `sandbox`.
    pub fn container(&self, sandbox: &str, name: &str) -> String {
        let ids = self.crictl(&["ps", "--all", "--pod", sandbox, "--name", name, "-q"]);
        let id = ids.lines().next().map(str::trim).unwrap_or_default();
        assert!(!id.is_empty(), "no container {name} in pod {sandbox}");
        id.to_string()
    }

    /// The host PID of a sandbox's pause.
    pub fn pause_pid(&self, sandbox: &str) -> i32 {
        self.node
            .pid_of("inspectp", sandbox)
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// The host PID of a container's first process.
    pub fn container_pid(&self, container: &str) -> i32 {
        self.node
            .pid_of("inspect", container)
            .unwrap_or_else(|e| panic!("{e:#}"))
    }
}

/// `archive` (an OCI archive) imported into the node's containerd as `name:<its tag>`.
pub fn load_image(node: &Node, archive: &std::path::Path, name: &str) {
    run_ok(
        node.ctr()
            .args(["images", "import", "--all-platforms"])
            .args(["--snapshotter", "native", "--base-name", name])
            .arg(archive),
    );
}

/// A static pod's manifest: `containers` (name, shell script) on busybox, sharing the pod's
/// PID namespace if `share_pid`, with `security` as the pod's `securityContext`.
pub fn static_pod(
    name: &str,
    share_pid: bool,
    security: Value,
    containers: &[(&str, &str)],
) -> Value {
    let containers: Vec<Value> = containers
        .iter()
        .map(|(name, script)| {
            json!({
                "name": name,
                "image": BUSYBOX,
                "imagePullPolicy": "Never",
                "command": ["sh", "-c", script],
            })
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "shareProcessNamespace": share_pid,
            "securityContext": security,
            "terminationGracePeriodSeconds": 1,
            "containers": containers,
        },
    })
}

/// When process `pid` started (field 22 of /proc/PID/stat, in clock ticks since boot), or None
/// once it is gone: with its PID, what names one process even after the PID is reused.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = fs_err::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split(' ').nth(19)?.parse().ok()
}

/// Whether the process that was `pid` when it had start time `started` has ended (its PID
/// gone, or reused by a process started later).
pub fn ended(pid: i32, started: u64) -> bool {
    start_time(pid) != Some(started)
}
