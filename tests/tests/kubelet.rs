//! Kubernetes for real: a standalone kubelet (1.37, static pods from a manifest directory) on
//! containerd 2.x and runc 1.3, all three and crictl built from their pinned Go modules, with
//! containerd's config the shipped `pins/containerd-2.toml` appended verbatim. The kubelet
//! asks for pods; containerd pulls the pinned sandbox image by digest from the loopback
//! registry the README's publish commands filled, and runs it as each pod's sandbox. Every
//! case here goes through the kubelet: manifests in, /proc and the runtime's own reports out.

use pause_tests::containers::{held_orphans_script, output_of, run_ok};
use pause_tests::containers::{holds_exactly_then_reaps, made_orphans, nspid};
use pause_tests::kubelet::{BUSYBOX, Cluster, ended, load_image, pod_name, start_time, static_pod};
use pause_tests::{poll, poll_or_fail, status_field, wait_until_asleep};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use xtask::node::components::{COMPONENTS, reported_version};

/// Orphans an app container leaves in a pod whose PID namespace it shares with pause.
const ORPHANS: usize = 200;

fn ns(pid: i32, kind: &str) -> std::path::PathBuf {
    fs_err::read_link(format!("/proc/{pid}/ns/{kind}")).unwrap()
}

/// The test's own namespace of `kind`: the host's.
fn host_ns(kind: &str) -> std::path::PathBuf {
    fs_err::read_link(format!("/proc/self/ns/{kind}")).unwrap()
}

/// The kubelet's log from byte `from` on.
fn log_since(cluster: &Cluster, from: usize) -> String {
    cluster
        .node
        .kubelet_log()
        .get(from..)
        .unwrap_or_default()
        .to_string()
}

/// Waits until the kubelet, after byte `from` of its log, has worked out what pod `name`
/// needs and found nothing to do (no sandbox to create, nothing to kill): a restarted kubelet
/// adopting the pod as it is.
fn wait_until_kubelet_keeps(cluster: &Cluster, from: usize, name: &str) {
    let pod = format!("pod=\"default/{}\"", pod_name(name));
    // Nothing to create, kill, start or remove: the pod adopted as it is.
    let keeps = |line: &str| {
        [
            "KillPod: false, CreateSandbox: false,",
            "ContainersToStart: [],",
            "ContainersToKill: map[],",
            "ContainersToRemove: []",
        ]
        .iter()
        .all(|part| line.contains(part))
    };
    let kept = xtask::node::wait_for(&format!("the kubelet to keep pod {name}"), || {
        let log = log_since(cluster, from);
        let decisions: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("computePodActions got for pod") && l.contains(&pod))
            .collect();
        if let Some(other) = decisions.iter().find(|l| !keeps(l)) {
            panic!("the kubelet did not keep pod {name} as it was: {other}");
        }
        (!decisions.is_empty()).then_some(())
    });
    kept.unwrap_or_else(|e| panic!("{e:#}\n{}", cluster.node.logs()));
}

/// Waits until the node has no pod sandbox left. The kubelet removes a deleted pod's stopped
/// sandbox in its container GC, which runs once a minute: the node's patience (two minutes)
/// covers one round and the work, where the suite's one-minute PATIENCE would not.
fn wait_until_no_pod(cluster: &Cluster) {
    xtask::node::wait_for("the node to have no pod left", || {
        cluster
            .crictl(&["pods", "-q"])
            .trim()
            .is_empty()
            .then_some(())
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", cluster.node.logs()));
}

/// The app: `ORPHANS` held orphans left in the pod's PID namespace, then sleep.
fn orphan_maker() -> String {
    format!("{}; exec sleep 3600", held_orphans_script(ORPHANS, "sleep"))
}

/// What the orphan maker printed (its container log, through the CRI).
fn orphans_made(cluster: &Cluster, container: &str) -> Vec<i32> {
    poll(
        &format!("container {container} to make its orphans"),
        || made_orphans(&cluster.crictl(&["logs", container])),
    )
}

#[test]
fn the_node_runs_the_releases_its_go_modules_pin() {
    for component in COMPONENTS {
        let version = component.version().unwrap();
        let dir = component.built().unwrap_or_else(|e| panic!("{e:#}"));
        // The Go programs (a C program of the release, CRI-O's pinns, records no module).
        let go_programs = component
            .binaries
            .iter()
            .filter(|b| !component.c_programs.iter().any(|c| c.name == **b));
        for binary in go_programs {
            let program = dir.join(binary);
            // What the binary was built from, as Go recorded it in the binary itself: the
            // release's module at the pinned version (`mod|dep MODULE VERSION SUM`).
            let info = run_ok(
                std::process::Command::new("go")
                    .args(["version", "-m"])
                    .arg(&program),
            );
            let info = String::from_utf8_lossy(&info.stdout);
            let recorded = info.lines().find_map(|l| {
                let mut words = l.split_whitespace();
                let kind = words.next();
                // `mod` for the module whose command it is, `dep` for any other.
                (matches!(kind, Some("mod" | "dep")) && words.next() == Some(component.module))
                    .then(|| words.next().unwrap_or_default().to_string())
            });
            assert_eq!(
                recorded.as_deref(),
                Some(version.as_str()),
                "{}: built from {} {version} (tests/go/{}/go.mod)?\n{info}",
                program.display(),
                component.module,
                component.name
            );
        }
        // And the version it reports, as its release's own build stamps it.
        let first = dir.join(component.binaries[0]);
        let reported = reported_version(&first).unwrap_or_else(|e| panic!("{e:#}"));
        let bare = version.trim_start_matches('v');
        assert!(
            reported.contains(&version) || reported.contains(&format!("version {bare}")),
            "{}: reports {reported:?}, not {version}",
            first.display()
        );
    }
}

#[test]
fn shared_pid_pod_has_pause_as_pid_1_reaping_200_orphans() {
    let mut cluster = Cluster::start(json!({}));
    let pod = static_pod(
        "shared",
        true,
        json!({}),
        &[("orphans", &orphan_maker()), ("sleeper", "exec sleep 3600")],
    );
    let sandbox = cluster.run_pod("shared", &pod);
    let pause = cluster.pause_pid(&sandbox);

    // The sandbox is the pinned image, pulled by digest from the registry (nothing was
    // imported but busybox), and reported pinned.
    let image: Value =
        serde_json::from_str(&cluster.crictl(&["inspecti", "-o", "json", &cluster.pinned_image()]))
            .unwrap();
    let digests = image["status"]["repoDigests"].to_string();
    assert!(
        digests.contains(&cluster.pinned_image()),
        "{} not among the image's repo digests: {digests}",
        cluster.pinned_image()
    );
    assert_eq!(image["status"]["pinned"], json!(true), "{image}");
    // What kubeadm's preflight reads as the runtime's sandbox image: containerd 2.x's CRI
    // status has none (its pinned images are not in it), so kubeadm has nothing to compare.
    let info: Value = serde_json::from_str(&cluster.crictl(&["info", "-o", "json"])).unwrap();
    assert!(
        info["config"].is_object(),
        "crictl info has no config: {info}"
    );
    assert_eq!(
        info["config"].get("sandboxImage"),
        None,
        "{}",
        info["config"]
    );
    let sandbox_info: Value =
        serde_json::from_str(&cluster.crictl(&["inspectp", "-o", "json", &sandbox])).unwrap();
    assert_eq!(
        sandbox_info["info"]["image"].as_str(),
        Some(cluster.pinned_image().as_str()),
        "the sandbox's image"
    );

    // pause is PID 1 of the pod; the apps are in its PID namespace and see it as their PID 1;
    // they share its network, IPC and UTS namespaces, none of them the host's.
    assert_eq!(nspid(pause).map(|ids| ids.len()), Some(2), "NSpid of pause");
    assert_eq!(nspid(pause).unwrap()[1], 1, "pause's PID in the pod");
    assert_eq!(
        fs_err::read(format!("/proc/{pause}/cmdline")).unwrap(),
        b"/pause\0",
        "the sandbox's process"
    );
    for app in ["orphans", "sleeper"] {
        let container = cluster.container(&sandbox, app);
        let pid = cluster.container_pid(&container);
        for kind in ["pid", "net", "ipc", "uts"] {
            assert_eq!(ns(pid, kind), ns(pause, kind), "{app}'s {kind} namespace");
            assert_ne!(
                ns(pid, kind),
                host_ns(kind),
                "{kind} namespace is the host's"
            );
        }
        let seen = cluster.crictl(&["exec", &container, "cat", "/proc/1/cmdline"]);
        assert_eq!(seen, "/pause\0", "PID 1 as {app} sees it");
    }

    let made = orphans_made(&cluster, &cluster.container(&sandbox, "orphans"));
    holds_exactly_then_reaps(pause, &made, ORPHANS);
    wait_until_asleep(pause, "pause sleeps on");
}

#[test]
fn without_a_shared_pid_namespace_pause_is_pid_1_of_its_own() {
    let mut cluster = Cluster::start(json!({}));
    let pod = static_pod("apart", false, json!({}), &[("sleeper", "exec sleep 3600")]);
    let sandbox = cluster.run_pod("apart", &pod);
    let pause = cluster.pause_pid(&sandbox);
    assert_eq!(nspid(pause), Some(vec![pause, 1]), "NSpid of pause");
    let container = cluster.container(&sandbox, "sleeper");
    let app = cluster.container_pid(&container);
    assert_eq!(nspid(app), Some(vec![app, 1]), "NSpid of the app");
    assert_ne!(ns(app, "pid"), ns(pause, "pid"), "the app's PID namespace");
    assert_ne!(
        ns(pause, "net"),
        host_ns("net"),
        "the pod's network namespace"
    );
    for kind in ["net", "ipc", "uts"] {
        assert_eq!(ns(app, kind), ns(pause, kind), "the app's {kind} namespace");
    }
    let seen = cluster.crictl(&["exec", &container, "cat", "/proc/1/cmdline"]);
    assert_eq!(seen, "sleep\x003600\0", "PID 1 as the app sees it");
}

/// A pod whose pod-level `securityContext` asks for uid and gid 1000, non-root, and
/// `seccomp`; its app (with its own RuntimeDefault profile, as the README advises) leaves
/// orphans in the pod's PID namespace.
fn secure_pod(name: &str, seccomp: Value) -> Value {
    let mut pod = static_pod(
        name,
        true,
        json!({"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": true, "seccompProfile": seccomp}),
        &[("orphans", &orphan_maker())],
    );
    pod["spec"]["containers"][0]["securityContext"] =
        json!({"seccompProfile": {"type": "RuntimeDefault"}});
    pod
}

#[test]
fn pod_security_context_reaches_pause_and_the_kubelet_pins_its_seccomp_to_runtime_default() {
    let mut cluster = Cluster::start(json!({}));
    // The README's recipe: the profile under the kubelet's seccomp directory, named by the
    // pod-level Localhost profile.
    let dir = cluster.node.kubelet_root().join("seccomp/profiles");
    fs_err::create_dir_all(&dir).unwrap();
    let shipped = xtask::workspace_root().join("seccomp/pause.json");
    fs_err::copy(&shipped, dir.join("pause.json")).unwrap();
    let shipped: Value = serde_json::from_str(&fs_err::read_to_string(&shipped).unwrap()).unwrap();

    let pods = [
        ("runtime-default", json!({"type": "RuntimeDefault"})),
        (
            "localhost",
            json!({"type": "Localhost", "localhostProfile": "profiles/pause.json"}),
        ),
    ];
    let mut filters = Vec::new();
    for (name, seccomp) in pods {
        let sandbox = cluster.run_pod(name, &secure_pod(name, seccomp));
        let pause = cluster.pause_pid(&sandbox);
        let status = fs_err::read_to_string(format!("/proc/{pause}/status")).unwrap();
        for ids in ["Uid", "Gid"] {
            let line = status.lines().find(|l| l.starts_with(&format!("{ids}:")));
            // Real, effective, saved and filesystem ids: all 1000.
            let expected = format!("{ids}:\t1000\t1000\t1000\t1000");
            assert_eq!(line, Some(expected.as_str()), "{name}: pause's {ids}");
        }
        assert_eq!(
            status_field(pause, "Seccomp"),
            "2",
            "{name}: pause under a filter"
        );
        assert_eq!(status_field(pause, "NoNewPrivs"), "1", "{name}");
        let info: Value =
            serde_json::from_str(&cluster.crictl(&["inspectp", "-o", "json", &sandbox])).unwrap();
        filters.push(info["info"]["runtimeSpec"]["linux"]["seccomp"].clone());
        let made = orphans_made(&cluster, &cluster.container(&sandbox, "orphans"));
        holds_exactly_then_reaps(pause, &made, ORPHANS);
        wait_until_asleep(pause, &format!("{name}: pause sleeps on"));
        let started = start_time(pause).expect("pause runs");
        cluster.node.remove_manifest(name).unwrap();
        poll(&format!("{name}: pause (PID {pause}) to end"), || {
            ended(pause, started).then_some(())
        });
    }
    // Whatever the pod asks, the kubelet gives the sandbox RuntimeDefault (kubernetes#84623,
    // `generatePodSandboxLinuxConfig`): the pod-level profile is the containers' default
    // only, and pause runs under containerd's default filter, never under the shipped one.
    assert_eq!(filters[0], filters[1], "the two sandboxes' seccomp filters");
    assert_eq!(
        filters[0]["defaultAction"],
        json!("SCMP_ACT_ERRNO"),
        "{}",
        filters[0]
    );
    assert_ne!(
        filters[1]["syscalls"], shipped["syscalls"],
        "the Localhost pod's sandbox runs under the shipped profile"
    );
}

#[test]
fn removing_the_manifest_stops_the_pod_and_leaves_nothing() {
    let mut cluster = Cluster::start(json!({}));
    let pod = static_pod("gone", true, json!({}), &[("sleeper", "exec sleep 3600")]);
    let sandbox = cluster.run_pod("gone", &pod);
    let pause = cluster.pause_pid(&sandbox);
    let info: Value =
        serde_json::from_str(&cluster.crictl(&["inspectp", "-o", "json", &sandbox])).unwrap();
    let netns = info["info"]["runtimeSpec"]["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "network")
        .and_then(|n| n["path"].as_str())
        .expect("the sandbox's network namespace is a pinned path")
        .to_string();
    assert!(std::path::Path::new(&netns).exists(), "{netns}");
    let shims = xtask::node::processes_mentioning("containerd-shim", &sandbox);
    assert_eq!(shims.len(), 1, "the pod's shim: {shims:?}");
    let started = start_time(pause).expect("pause runs");

    // containerd's own report of how each task ended, read on a thread so every wait for it
    // is bounded. An image label is the probe that the subscription is live before the
    // manifest goes (an event published before it would be missed).
    let mut events = cluster
        .node
        .ctr()
        .args(["events"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (sender, received) = std::sync::mpsc::channel::<String>();
    let stdout = events.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let next_event = |wanted: &dyn Fn(&str) -> bool, what: &str| -> String {
        let deadline = std::time::Instant::now() + pause_tests::PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match received.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(_) => {}
                Err(e) => panic!("no {what} from ctr events ({e})\n{}", cluster.node.logs()),
            }
        }
    };
    run_ok(
        cluster
            .node
            .ctr()
            .args(["images", "label", BUSYBOX, "pause-test/probe=subscribed"]),
    );
    next_event(&|l| l.contains("/images/update"), "image-update event");
    cluster.node.remove_manifest("gone").unwrap();
    let sandbox_exit = format!("\"container_id\":\"{sandbox}\"");
    let exit = next_event(
        &|l| l.contains("/tasks/exit") && l.contains(&sandbox_exit),
        "task-exit event for the sandbox",
    );
    let _ = events.kill();
    let _ = events.wait();
    // containerd's StopPodSandbox kills the sandbox's task with SIGKILL: pause gets no
    // signal it could answer, and the runtime reports 137 (128 + 9).
    assert!(
        exit.contains("\"exit_status\":137"),
        "the sandbox's exit as containerd reports it: {exit}"
    );

    wait_until_no_pod(&cluster);
    assert!(ended(pause, started), "pause (PID {pause}) is still there");
    poll("the pod's shim to exit", || {
        xtask::node::processes_mentioning("containerd-shim", &sandbox)
            .is_empty()
            .then_some(())
    });
    assert!(!std::path::Path::new(&netns).exists(), "{netns} is left");
    let mounts = fs_err::read_to_string("/proc/self/mountinfo").unwrap();
    let left: Vec<&str> = mounts
        .lines()
        .filter(|l| l.contains(&sandbox) || l.contains(&netns))
        .collect();
    assert!(left.is_empty(), "mounts left: {left:#?}");
}

#[test]
fn a_restarted_kubelet_keeps_the_pod_and_its_pause() {
    let mut cluster = Cluster::start(json!({}));
    let pod = static_pod("kept", true, json!({}), &[("sleeper", "exec sleep 3600")]);
    let sandbox = cluster.run_pod("kept", &pod);
    let pause = cluster.pause_pid(&sandbox);
    cluster.node.stop_kubelet().unwrap();
    let from = cluster.node.kubelet_log().len();
    cluster.node.start_kubelet().unwrap();
    wait_until_kubelet_keeps(&cluster, from, "kept");
    assert_eq!(cluster.node.wait_until_running("kept", 1).unwrap(), sandbox);
    assert_eq!(
        cluster.pause_pid(&sandbox),
        pause,
        "pause's PID after the restart"
    );
    wait_until_asleep(pause, "pause sleeps on");
}

#[test]
fn pause_survives_a_containerd_restart() {
    let mut cluster = Cluster::start(json!({}));
    let pod = static_pod("survivor", true, json!({}), &[("orphans", &orphan_maker())]);
    let sandbox = cluster.run_pod("survivor", &pod);
    let pause = cluster.pause_pid(&sandbox);
    let container = cluster.container(&sandbox, "orphans");
    let made = orphans_made(&cluster, &container);
    cluster.node.stop_containerd().unwrap();
    wait_until_asleep(pause, "pause without containerd");
    let from = cluster.node.kubelet_log().len();
    cluster.node.start_containerd().unwrap();
    wait_until_kubelet_keeps(&cluster, from, "survivor");
    assert_eq!(
        cluster.pause_pid(&sandbox),
        pause,
        "pause's PID after the restart"
    );
    // Still the pod's reaper.
    holds_exactly_then_reaps(pause, &made, ORPHANS);
}

/// Whether the node's image store has `reference`: crictl finds it, or says it has no such
/// image; any other failure fails the test.
fn present(cluster: &Cluster, reference: &str) -> bool {
    let out = output_of(cluster.node.crictl().args(["inspecti", reference]));
    if out.status.success() {
        return true;
    }
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("no such image"),
        "crictl inspecti {reference}: {}: {said}",
        out.status
    );
    false
}

#[test]
fn the_pinned_sandbox_image_survives_prune_and_the_kubelets_image_gc() {
    let mut cluster = Cluster::start(json!({}));
    let pinned = cluster.pinned_image();
    let pod = static_pod("short", false, json!({}), &[("sleeper", "exec sleep 3600")]);
    cluster.run_pod("short", &pod);
    cluster.node.remove_manifest("short").unwrap();
    wait_until_no_pod(&cluster);

    // No pod left: only the pin keeps the sandbox image; busybox is unused, so prune takes it.
    cluster.crictl(&["rmi", "--prune"]);
    assert!(
        present(&cluster, &pinned),
        "crictl rmi --prune removed the pinned sandbox image"
    );
    assert!(
        !present(&cluster, BUSYBOX),
        "crictl rmi --prune left an unused image"
    );

    // The kubelet's image GC, forced by its thresholds. Its periodic run comes at start, when
    // the image filesystem's stats are not in yet ("invalid capacity 0"), then every 5
    // minutes; the eviction manager's comes every 10 s once the disk is under its threshold.
    // With the node's disk "full" at 99% free wanted, it deletes every unused image that is
    // at least 1 s old through the same image GC manager, pinned ones excepted.
    load_image(
        &cluster.node,
        &cluster.busybox_archive(),
        "localhost/busybox",
    );
    assert!(present(&cluster, BUSYBOX));
    let from = cluster.node.kubelet_log().len();
    let forced = json!({
        "evictionHard": {
            "memory.available": "1Mi",
            "nodefs.available": "99%",
            "imagefs.available": "99%",
            "nodefs.inodesFree": "1%",
        },
        "imageMinimumGCAge": "1s",
        "imageGCHighThresholdPercent": 1,
        "imageGCLowThresholdPercent": 0,
    });
    cluster
        .node
        .reconfigure_kubelet(forced.as_object().unwrap())
        .unwrap();
    poll_or_fail(
        || {
            if present(&cluster, BUSYBOX) {
                Err(())
            } else {
                Ok(())
            }
        },
        |()| {
            let log = log_since(&cluster, from);
            let about_images: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("mage") || l.contains("arbage") || l.contains("viction"))
                .collect();
            format!(
                "the kubelet's image GC to remove {BUSYBOX}; its log on images:\n{}",
                about_images.join("\n")
            )
        },
    );
    let log = log_since(&cluster, from);
    assert!(log.contains("Removing image to free bytes"), "{log}");
    assert!(
        present(&cluster, &pinned),
        "the kubelet's image GC removed the pinned sandbox image"
    );
    let image: Value =
        serde_json::from_str(&cluster.crictl(&["inspecti", "-o", "json", &pinned])).unwrap();
    assert_eq!(image["status"]["pinned"], json!(true), "{image}");
}
