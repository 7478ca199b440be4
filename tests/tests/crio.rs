//! CRI-O for real: CRI-O 1.36 built from its pinned Go module (with its own `pinns`), Debian's
//! conmon and CNI plugins, the node's pinned runc, and the shipped `pins/crio.conf` applied
//! verbatim as a drop-in. Every case goes through CRI-O's CRI (crictl): pod and container
//! configs in, /proc, conmon's exit files and CRI-O's own reports out.

use pause_tests::containers::{Podman, held_orphans_script, run_ok};
use pause_tests::containers::{holds_exactly_then_reaps, made_orphans, nspid};
use pause_tests::crio::{Crio, CrioSetup, pinned_image};
use pause_tests::registry::{Registry, published};
use pause_tests::{poll, proc_stat, wait_until_asleep};
use serde_json::{Value, json};

/// Orphans an app container leaves in a pod whose PID namespace it shares with pause.
const ORPHANS: usize = 200;

/// CRI's NamespaceMode: POD shares the pod's namespace among its containers, CONTAINER gives
/// each container its own.
const POD: i64 = 0;
const CONTAINER: i64 = 1;

/// CRI-O beside the registry the README's publish commands filled, with busybox pushed there
/// too (CRI-O pulls its app image like any other).
struct Setup {
    crio: Crio,
    registry: Registry,
    _podman: Podman,
}

impl Setup {
    fn start(drop_in: Option<&str>) -> Setup {
        let (registry, _) = published();
        let podman = Podman::isolated();
        podman.import_busybox();
        run_ok(podman.cmd().args([
            "push",
            "-q",
            "--tls-verify=false",
            "localhost/busybox:test",
            &format!("{}/busybox:test", registry.host()),
        ]));
        let crio = Crio::start(&CrioSetup {
            registry: registry.host(),
            drop_in: drop_in.map(str::to_string),
            ..Default::default()
        });
        Setup {
            crio,
            registry,
            _podman: podman,
        }
    }

    fn busybox(&self) -> String {
        format!("{}/busybox:test", self.registry.host())
    }

    fn pinned_image(&self) -> String {
        pinned_image(&self.registry.host())
    }

    /// Writes `value` as JSON to `name` in CRI-O's directory, for crictl to read.
    fn config_file(&self, name: &str, value: &Value) -> String {
        let path = self.crio.path(name);
        fs_err::write(&path, value.to_string()).unwrap();
        path.display().to_string()
    }

    /// Runs pod sandbox `name` (its PID namespace shared among its containers if `share_pid`)
    /// and returns its id and the path of its config.
    fn run_pod(&self, name: &str, share_pid: bool) -> (String, String) {
        let logs = self.crio.path(&format!("logs-{name}"));
        fs_err::create_dir_all(&logs).unwrap();
        let pod = json!({
            "metadata": {"name": name, "namespace": "default", "uid": format!("{name}-uid"), "attempt": 0},
            "log_directory": logs,
            "linux": {"security_context": {"namespace_options": {
                "pid": if share_pid { POD } else { CONTAINER },
            }}},
        });
        let config = self.config_file(&format!("{name}-pod.json"), &pod);
        let id = self.crio.crictl_out(&["runp", &config]).trim().to_string();
        (id, config)
    }

    /// Creates and starts busybox container `name` running `script` in sandbox `sandbox`, in
    /// the pod's PID namespace if the pod shares one (as the kubelet asks), else in its own.
    fn run_container(&self, sandbox: &str, pod_config: &str, name: &str, script: &str) -> String {
        let pod: Value =
            serde_json::from_str(&fs_err::read_to_string(pod_config).unwrap()).unwrap();
        let pid = pod["linux"]["security_context"]["namespace_options"]["pid"].clone();
        let container = json!({
            "metadata": {"name": name},
            "image": {"image": self.busybox()},
            "command": ["sh", "-c", script],
            "log_path": format!("{name}.log"),
            "linux": {"security_context": {"namespace_options": {"pid": pid}}},
        });
        let config = self.config_file(&format!("{name}-ctr.json"), &container);
        let id = self
            .crio
            .crictl_out(&["create", "--with-pull", sandbox, &config, pod_config])
            .trim()
            .to_string();
        self.crio.crictl_out(&["start", &id]);
        id
    }

    fn inspect(&self, kind: &str, id: &str) -> Value {
        serde_json::from_str(&self.crio.crictl_out(&[kind, "-o", "json", id])).unwrap()
    }

    /// The host PID CRI-O reports for a sandbox's infra process (`inspectp`) or a container's
    /// first process (`inspect`).
    fn pid(&self, kind: &str, id: &str) -> i32 {
        let info = self.inspect(kind, id);
        info["info"]["pid"]
            .as_i64()
            .unwrap_or_else(|| panic!("crictl {kind} {id}: no info.pid in {info}")) as i32
    }

    /// Runs a pod sharing its PID namespace with an app that leaves ORPHANS held orphans;
    /// fails unless pause is its PID 1, holds exactly those orphans and reaps every one.
    /// Returns the sandbox's id and pause's host PID.
    fn pause_reaps_orphans(&self, name: &str) -> (String, i32) {
        let (sandbox, pod_config) = self.run_pod(name, true);
        let pause = self.pid("inspectp", &sandbox);
        assert_eq!(nspid(pause).map(|ids| ids.len()), Some(2), "NSpid of pause");
        assert_eq!(nspid(pause).unwrap()[1], 1, "pause is the pod's PID 1");
        let script = format!("{}; exec sleep 3600", held_orphans_script(ORPHANS, "sleep"));
        let app = self.run_container(&sandbox, &pod_config, "orphans", &script);
        let app_pid = self.pid("inspect", &app);
        assert_eq!(
            fs_err::read_link(format!("/proc/{app_pid}/ns/pid")).unwrap(),
            fs_err::read_link(format!("/proc/{pause}/ns/pid")).unwrap(),
            "the app is in pause's PID namespace"
        );
        let made = poll(&format!("container {app} to make its orphans"), || {
            made_orphans(&self.crio.crictl_out(&["logs", &app]))
        });
        holds_exactly_then_reaps(pause, &made, ORPHANS);
        wait_until_asleep(pause, "pause sleeps on");
        (sandbox, pause)
    }

    /// The command line of process `pid`, its arguments joined by spaces.
    fn cmdline(pid: i32) -> String {
        let raw = fs_err::read(format!("/proc/{pid}/cmdline")).unwrap();
        String::from_utf8_lossy(&raw)
            .trim_end_matches('\0')
            .replace('\0', " ")
    }
}

#[test]
fn shared_pid_sandbox_runs_pause_as_pid_1_reaping_200_orphans_until_crio_stops_it() {
    let setup = Setup::start(None);
    let (sandbox, pause) = setup.pause_reaps_orphans("shared");

    // The infra container is the pinned image, pulled by digest, started as pause_command
    // (its default, `/pause`) says, under a conmon of its own.
    let info = setup.inspect("inspectp", &sandbox);
    assert_eq!(
        info["info"]["image"].as_str(),
        Some(setup.pinned_image().as_str()),
        "the sandbox's image"
    );
    assert_eq!(
        info["info"]["runtimeSpec"]["process"]["args"],
        json!(["/pause"]),
        "the infra container's command"
    );
    assert_eq!(Setup::cmdline(pause), "/pause");
    assert_eq!(
        setup.crio.conmons_of(&sandbox).len(),
        1,
        "the infra container's conmon"
    );

    // StopPodSandbox: CRI-O stops the apps, then the infra container with its stop signal
    // (SIGTERM: the image sets none), SIGKILL only after the timeout. pause exits 0 on
    // SIGTERM, and conmon records that in the infra container's exit file (a SIGKILL would be
    // 137; the app, a sleep that is not its namespace's init, shows 143).
    setup.crio.crictl_out(&["stopp", &sandbox]);
    assert!(proc_stat(pause).is_none(), "pause (PID {pause}) still runs");
    // conmon writes it twice: to CRI-O's exits directory, which CRI-O empties once it has
    // read it, and to the container's own directory in storage, which stays until removal.
    let exit = setup
        .crio
        .path(&format!("root/vfs-containers/{sandbox}/userdata/exit"));
    assert_eq!(
        fs_err::read_to_string(&exit).unwrap().trim(),
        "0",
        "how pause ended, as conmon recorded it"
    );
}

#[test]
fn without_a_shared_pid_namespace_crio_runs_no_infra_process() {
    let setup = Setup::start(None);
    let (sandbox, pod_config) = setup.run_pod("apart", false);
    // The app is its namespace's init here: without a handler it would ignore the SIGTERM
    // that stops it, and the teardown would wait out CRI-O's stop timeout.
    let app = setup.run_container(
        &sandbox,
        &pod_config,
        "sleeper",
        "trap 'exit 0' TERM; sleep 3600 & wait",
    );
    let app_pid = setup.pid("inspect", &app);
    // drop_infra_ctr (on by default): the pod's namespaces are pinned by pinns, and no infra
    // container runs. No conmon for the sandbox, no PID reported for it, and the only process
    // under this CRI-O's conmons is the app, PID 1 of its own PID namespace.
    assert!(
        setup.crio.conmons_of(&sandbox).is_empty(),
        "a conmon for the sandbox {sandbox}"
    );
    let info = setup.inspect("inspectp", &sandbox);
    assert_eq!(
        info["info"].get("pid").and_then(Value::as_i64).unwrap_or(0),
        0,
        "the sandbox's infra PID: {info}"
    );
    let monitored: Vec<i32> = setup
        .crio
        .conmons()
        .iter()
        .flat_map(|conmon| children_of(*conmon))
        .collect();
    assert_eq!(monitored, vec![app_pid], "what this CRI-O's conmons watch");
    assert_eq!(
        nspid(app_pid).map(|ids| ids[ids.len() - 1]),
        Some(1),
        "the app's NSpid"
    );
    // And the same CRI-O runs pause for a pod that shares its PID namespace.
    let (shared, _) = setup.run_pod("shared", true);
    assert_eq!(
        setup.crio.conmons_of(&shared).len(),
        1,
        "the shared pod's infra conmon"
    );
}

#[test]
fn the_pinned_sandbox_image_is_reported_pinned_and_survives_prune() {
    let setup = Setup::start(None);
    let (sandbox, pod_config) = setup.run_pod("shared", true);
    setup.run_container(&sandbox, &pod_config, "sleeper", "exec sleep 3600");
    let pinned = setup.pinned_image();
    let image = setup.inspect("inspecti", &pinned);
    assert_eq!(image["status"]["pinned"], json!(true), "{image}");
    assert!(
        image["status"]["repoDigests"].to_string().contains(&pinned),
        "{pinned} not among the image's repo digests: {image}"
    );
    let busybox = setup.inspect("inspecti", &setup.busybox());
    assert_eq!(busybox["status"]["pinned"], json!(false), "{busybox}");

    // With no pod left, prune removes every image no container uses, except the pinned one.
    setup.crio.crictl_out(&["rmp", "--all", "--force"]);
    setup.crio.crictl_out(&["rmi", "--prune"]);
    let left = setup.crio.crictl_out(&["images", "--digests"]);
    assert!(
        !left.contains("busybox"),
        "busybox survived the prune:\n{left}"
    );
    let image = setup.inspect("inspecti", &pinned);
    assert_eq!(
        image["status"]["pinned"],
        json!(true),
        "after the prune: {image}"
    );
}

#[test]
fn with_an_empty_pause_command_crio_runs_the_images_entrypoint() {
    let setup = Setup::start(Some("[crio.image]\npause_command = \"\"\n"));
    // The drop-in is in effect: CRI-O logs its whole configuration at start.
    assert!(
        setup.crio.log().contains(r#"pause_command = \"\""#),
        "CRI-O's configuration has no empty pause_command:\n{}",
        setup.crio.log_tail()
    );
    let (sandbox, pause) = setup.pause_reaps_orphans("shared");
    // The image's own Entrypoint and Cmd, as its config gives them.
    let image = setup.inspect("inspecti", &setup.pinned_image());
    let config = &image["info"]["imageSpec"]["config"];
    let mut wanted: Vec<Value> = Vec::new();
    for field in ["Entrypoint", "Cmd"] {
        wanted.extend(config[field].as_array().cloned().unwrap_or_default());
    }
    assert!(
        !wanted.is_empty(),
        "the image has no Entrypoint or Cmd: {config}"
    );
    let info = setup.inspect("inspectp", &sandbox);
    assert_eq!(
        info["info"]["runtimeSpec"]["process"]["args"],
        Value::Array(wanted.clone()),
        "the infra container's command"
    );
    let wanted: Vec<&str> = wanted.iter().filter_map(Value::as_str).collect();
    assert_eq!(Setup::cmdline(pause), wanted.join(" "));
}

/// The PIDs whose parent is `pid`.
fn children_of(pid: i32) -> Vec<i32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if proc_stat(child).is_some_and(|s| s.ppid == pid) {
            children.push(child);
        }
    }
    children
}
