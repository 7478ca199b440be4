//! What a pod costs on a real node: static pods on the suite's kubelet node (kubelet 1.37,
//! containerd 2.x, runc 1.3: [`crate::node`]), each sandboxed by our image as the shipped
//! `pins/containerd-2.toml` pins it. Per pod: the Pss of its pause beside that of its shim
//! (containerd-shim-runc-v2, one per pod), and the time from its manifest landing in the
//! kubelet's directory to its container running, as containerd stamps it.

use super::memory::memory_of;
use super::progress;
use super::statistics::{Spread, spread};
use crate::node::{Node, NodeSetup, processes_mentioning};
use anyhow::{Context, Result, bail};
use std::time::SystemTime;

/// The registry name the pin is given: nothing is pulled (the image is imported under the
/// pinned name, as an air-gapped node has it), so it need not resolve.
const REGISTRY: &str = "registry.invalid";

#[derive(Debug, Clone)]
pub struct NodePods {
    pub pods: usize,
    /// kB per pod.
    pub pause_pss: Spread,
    pub shim_pss: Spread,
    /// ms per pod.
    pub manifest_to_running: Spread,
    /// The parts' releases, as their go.mod files pin them.
    pub releases: String,
}

pub fn measure(pods: usize) -> Result<NodePods> {
    let mut node = Node::start(&NodeSetup {
        registry: REGISTRY.to_string(),
        ..Default::default()
    })?;
    import_pinned_image(&node)?;
    let image = format!("{REGISTRY}/pause:{}", env!("CARGO_PKG_VERSION"));
    let mut latencies = Vec::with_capacity(pods);
    let mut sandboxes = Vec::with_capacity(pods);
    for i in 0..pods {
        let name = format!("bench-{i}");
        // One app container: pause again, as the lightest app there is.
        let pod = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "app", "image": image, "imagePullPolicy": "Never"}],
            },
        });
        let landed = SystemTime::now();
        node.add_manifest(&name, &pod.to_string())?;
        let sandbox = node.wait_until_running(&name, 1)?;
        let started = started_at(&node, &sandbox)?;
        let took = started
            .duration_since(landed)
            .with_context(|| format!("pod {name}'s container started before its manifest"))?;
        latencies.push(took.as_secs_f64() * 1000.0);
        sandboxes.push(sandbox);
        if (i + 1) % 10 == 0 {
            progress::round("pods ", i / 10, pods.div_ceil(10));
        }
    }
    // All running at once, as on a busy node: then each pod's pause and its shim.
    let (mut pause_pss, mut shim_pss) = (Vec::new(), Vec::new());
    for sandbox in &sandboxes {
        let pause = node.pid_of("inspectp", sandbox)?;
        pause_pss.push(memory_of(pause)?.pss as f64);
        let shims = processes_mentioning("containerd-shim-runc-v2", sandbox);
        let [shim] = shims[..] else {
            bail!("pod {sandbox}: {} shims, not one: {shims:?}", shims.len());
        };
        shim_pss.push(memory_of(shim)?.pss as f64);
    }
    let releases = crate::node::components::COMPONENTS
        .iter()
        .map(|c| Ok(format!("{} {}", c.name, c.version()?)))
        .collect::<Result<Vec<_>>>()?
        .join(", ");
    Ok(NodePods {
        pods,
        pause_pss: spread(&pause_pss),
        shim_pss: spread(&shim_pss),
        manifest_to_running: spread(&latencies),
        releases,
    })
}

/// The image archive loaded as the shipped air-gap recipe (`pins/airgap.sh`) loads it:
/// imported under the registry name, then tagged with the pinned digest reference, which
/// containerd then resolves locally.
fn import_pinned_image(node: &Node) -> Result<()> {
    let archive = crate::dist_dir().join("pause-oci.tar");
    crate::command::output(
        node.ctr()
            .args(["images", "import", "--all-platforms"])
            .args(["--snapshotter", "native", "--base-name"])
            .arg(format!("{REGISTRY}/pause"))
            .arg(&archive),
    )?;
    let tagged = format!("{REGISTRY}/pause:{}", env!("CARGO_PKG_VERSION"));
    let pinned = crate::node::pinned_image(REGISTRY)?;
    crate::command::output(node.ctr().args(["images", "tag", &tagged, &pinned]))?;
    Ok(())
}

/// When the pod's one container started, as containerd recorded it.
fn started_at(node: &Node, sandbox: &str) -> Result<SystemTime> {
    let id = node.crictl_output(&["ps", "--pod", sandbox, "-q"])?;
    let id = id
        .lines()
        .next()
        .context("a running pod without a container")?;
    let status: serde_json::Value =
        serde_json::from_str(&node.crictl_output(&["inspect", "-o", "json", id.trim()])?)?;
    let stamp = status["status"]["startedAt"]
        .as_str()
        .with_context(|| format!("container {id}: no startedAt"))?;
    humantime::parse_rfc3339(stamp).with_context(|| format!("startedAt {stamp:?}"))
}
