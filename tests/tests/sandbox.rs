//! The image as the sandbox of real pods: unpacked by umoci and run by runc with app
//! containers joining its namespaces, and as podman's infra container (the CRI path through
//! containerd is in cri.rs; the archive itself is in image.rs).

use fs_err as fs;
use pause_tests::containers::{
    HELD_ORPHANS, Podman, Runc, archive_ref, assert_pid_1_of_its_namespace, busybox_rootfs,
    held_orphans_script, holds_exactly_then_reaps, made_orphans, run_ok, stdout_of,
};
use pause_tests::{
    GOT_SIGTERM, PATIENCE, assert_shut_down, native_sleep_syscall, poll, require_tool,
    wait_bounded, wait_until_in_syscall,
};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// The seed article's demonstration, with runc: the image (unpacked by umoci) is the sandbox;
/// app containers join its net, ipc, uts and pid namespaces, as
/// `docker run --net=container:pause --ipc=container:pause --pid=container:pause` does.
#[test]
fn runc_sandbox_shared_with_app_containers() {
    require_tool("umoci", "umoci");
    require_tool("skopeo", "skopeo");
    let runc = Runc::isolated();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();

    // The sandbox bundle: the host's platform from the archive, unpacked by umoci.
    let layout = format!("oci:{}:pause", work.join("layout").display());
    run_ok(
        Command::new("skopeo")
            .args(["copy", "--quiet"])
            .arg(archive_ref())
            .arg(&layout),
    );
    let sandbox = work.join("sandbox");
    run_ok(
        Command::new("umoci")
            .args(["unpack", "--image"])
            .arg(&layout[4..])
            .arg(&sandbox),
    );
    edit_json(&sandbox.join("config.json"), |config| {
        assert_eq!(
            config["process"]["user"],
            json!({"uid": 65535, "gid": 65535})
        );
        assert_eq!(config["process"]["args"], json!(["/pause"]));
        config["process"]["terminal"] = json!(false);
        config["hostname"] = json!("pod-sandbox");
    });
    let mut sandbox_run = runc.spawn_run(&sandbox, "sandbox", work);
    let pause = runc.pid("sandbox");
    wait_until_in_syscall(pause, native_sleep_syscall()); // the (native) pause asleep
    assert_pid_1_of_its_namespace(pause);

    // Two app containers from one busybox rootfs: a web server, and a client that looks around.
    let rootfs = busybox_rootfs(work);
    let server = app_bundle(
        work,
        "server",
        &rootfs,
        pause,
        &["httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/www"],
    );
    let mut server_run = runc.spawn_run(&server, "server", work);
    // The client looks around, then leaves orphans that live until the test releases them,
    // and prints their PIDs once it has made them all.
    let client_script = format!(
        "ps -o pid,user,comm; echo host=$(hostname); \
         for i in $(seq 100); do wget -qO- http://127.0.0.1:8080/ && break; sleep 0.1; done; \
         {}; exec sleep 3600",
        held_orphans_script(HELD_ORPHANS, "sleep")
    );
    let client = app_bundle(
        work,
        "client",
        &rootfs,
        pause,
        &["sh", "-c", &client_script],
    );
    let mut client_run = runc.spawn_run(&client, "client", work);
    let (out, made) = poll("the client to report", || {
        let out = fs::read_to_string(work.join("client.out")).ok()?;
        let made = made_orphans(&out)?;
        Some((out, made))
    });
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        lines.contains(&vec!["1", "65535", "pause"]),
        "pause is not PID 1 as 65535:\n{out}"
    );
    assert!(
        lines.contains(&vec!["host=pod-sandbox"]),
        "not the sandbox's hostname:\n{out}"
    );
    assert!(
        lines.contains(&vec!["hello", "from", "the", "app"]),
        "no answer on 127.0.0.1:\n{out}"
    );

    // The client's orphans are pause's now, exactly those and all alive; released from the
    // host, pause reaps every one.
    holds_exactly_then_reaps(pause, &made, HELD_ORPHANS);

    assert_shut_down!(
        runc.stop_with_sigterm(&mut sandbox_run, "sandbox", work),
        GOT_SIGTERM,
    );
    // Its PID namespace went with it, and so did both apps.
    wait_bounded(&mut server_run, PATIENCE);
    wait_bounded(&mut client_run, PATIENCE);
}

/// An app bundle whose process joins the sandbox's net, ipc, uts and pid namespaces.
fn app_bundle(
    work: &Path,
    name: &str,
    rootfs: &Path,
    sandbox_pid: i32,
    args: &[&str],
) -> std::path::PathBuf {
    let bundle = work.join(name);
    fs::create_dir_all(&bundle).unwrap();
    run_ok(Command::new("runc").args(["spec", "--bundle"]).arg(&bundle));
    edit_json(&bundle.join("config.json"), |config| {
        config["process"]["terminal"] = json!(false);
        config["process"]["args"] = json!(args);
        config["root"] = json!({"path": rootfs, "readonly": true});
        // Joining the sandbox's UTS namespace: the hostname is the sandbox's to set.
        config.as_object_mut().unwrap().remove("hostname");
        let namespaces = config["linux"]["namespaces"].as_array_mut().unwrap();
        for namespace in namespaces {
            let kind = namespace["type"].as_str().unwrap().to_string();
            let file = match kind.as_str() {
                "pid" => "pid",
                "network" => "net",
                "ipc" => "ipc",
                "uts" => "uts",
                _ => continue,
            };
            namespace["path"] = json!(format!("/proc/{sandbox_pid}/ns/{file}"));
        }
    });
    bundle
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut value: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    edit(&mut value);
    fs::write(path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
}

/// podman: a pod whose infra container is our image, sharing pid, ipc, net and uts.
#[test]
fn podman_pod_with_our_infra_image() {
    let podman = Podman::isolated();
    // The archive's index.json also lists the attached SBOM and provenance, which `podman load`
    // cannot choose between; `podman pull` of the tagged reference takes the image.
    let pulled = stdout_of(podman.cmd().args(["pull", "--quiet"]).arg(archive_ref()));
    run_ok(
        podman
            .cmd()
            .args(["tag", pulled.trim(), "localhost/pause:test"]),
    );
    podman.import_busybox();

    run_ok(podman.cmd().args([
        "pod",
        "create",
        "--name",
        "pod",
        "--network",
        "none",
        "--infra-image",
        "localhost/pause:test",
        "--share",
        "pid,ipc,net,uts",
    ]));
    let ps = stdout_of(podman.cmd().args([
        "run",
        "--rm",
        "--pod",
        "pod",
        "localhost/busybox:test",
        "ps",
        "-o",
        "pid,comm",
    ]));
    let lines: Vec<Vec<&str>> = ps.lines().map(|l| l.split_whitespace().collect()).collect();
    assert!(
        lines.contains(&vec!["1", "pause"]),
        "pause is not PID 1 of the pod:\n{ps}"
    );
    let pause = podman.pid(&podman.infra_id("pod"));
    assert_pid_1_of_its_namespace(pause);

    // An app container's orphans are pause's, exactly those and all alive, until released.
    let made = podman.hold_orphans("pod", HELD_ORPHANS);
    holds_exactly_then_reaps(pause, &made, HELD_ORPHANS);

    // A pause that exits on SIGTERM ends the infra container with status 0, not with the 137
    // of the SIGKILL that follows the grace period.
    assert_shut_down!(podman.stop_pod("pod"), GOT_SIGTERM);
}
