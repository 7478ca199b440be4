//! seccomp/pause.json: it allows what pause calls on each architecture and nothing it does not,
//! and the hardened sandbox really runs under it (runc: uid 65535, no capabilities, read-only
//! rootfs, no_new_privs, this profile), while a profile without rt_sigaction makes pause exit 1
//! as upstream does when it cannot install its SIGINT handler.

use fs_err as fs;
use pause_tests::containers::{
    HELD_ORPHANS, Podman, Runc, archive_ref, assert_pid_1_of_its_namespace, busybox_rootfs,
    held_orphans_script, holds_exactly_then_reaps, made_orphans, run_ok, stdout_of,
};
use pause_tests::hardened::{hardened_bundle, profile, rules_for};
use pause_tests::{
    ARCHES, Arch, GOT_SIGTERM, PATIENCE, Runner, assert_shut_down, native_sleep_syscall,
    observed_syscalls, poll, status_field, wait_bounded, wait_until_in_syscall,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Command;

/// The committed profile is what `cargo xtask seccomp` writes from the architecture table: a
/// new row, or a new call in pause, cannot leave it behind.
#[test]
fn committed_profile_is_generated_from_the_arch_table() {
    let path = xtask::workspace_root().join(xtask::seccomp::PATH);
    assert!(
        fs::read_to_string(&path).unwrap() == xtask::seccomp::profile_json(),
        "{} differs from the generator's output: run `cargo xtask generate`",
        path.display()
    );
}

fn names(rules: &[&Value], runtime: bool) -> BTreeSet<String> {
    rules
        .iter()
        .filter(|rule| rule["comment"].as_str().unwrap().starts_with("runtime:") == runtime)
        .flat_map(|rule| rule["names"].as_array().unwrap())
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn profile_allows_exactly_what_pause_calls_on_each_arch() {
    let profile = profile();
    assert_eq!(profile["defaultAction"], "SCMP_ACT_ERRNO");
    let observed: Vec<(&Arch, BTreeSet<String>)> = ARCHES
        .iter()
        .map(|a| (a, observed_syscalls(&Runner::new(a.name))))
        .collect();
    // The table's account of each binary (which the profile is generated from) is what the
    // binary really does under emulation, call for call.
    for (arch, calls) in &observed {
        let table: BTreeSet<String> = xtask::seccomp::calls(arch)
            .into_iter()
            .map(str::to_string)
            .collect();
        assert_eq!(
            calls, &table,
            "{}: observed calls against the table",
            arch.name
        );
    }
    for node in ARCHES {
        let rules = rules_for(&profile, node.goarch);
        let allowed_for_pause = names(&rules, false);
        let mut needed = BTreeSet::new();
        for binary in node.runs_on_node() {
            let calls = &observed
                .iter()
                .find(|(a, _)| a.name == binary.name)
                .unwrap()
                .1;
            let missing: Vec<_> = calls.difference(&allowed_for_pause).collect();
            assert!(
                missing.is_empty(),
                "{} node, {} binary calls {missing:?}, not allowed",
                node.name,
                binary.name
            );
            needed.extend(calls.iter().cloned());
        }
        let unused: Vec<_> = allowed_for_pause.difference(&needed).collect();
        assert!(
            unused.is_empty(),
            "{} node: {unused:?} allowed but never called",
            node.name
        );
    }
}

#[test]
fn hardened_sandbox_reaps_and_exits_0() {
    let runc = Runc::isolated();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let bundle = hardened_bundle(work, &[]);
    let mut sandbox = runc.spawn_run(&bundle, "hardened", work);
    let pause = runc.pid("hardened");
    wait_until_in_syscall(pause, native_sleep_syscall());
    assert_eq!(status_field(pause, "Seccomp"), "2");
    assert_eq!(status_field(pause, "NoNewPrivs"), "1");
    assert_eq!(status_field(pause, "CapEff"), "0000000000000000");
    assert_pid_1_of_its_namespace(pause);

    // An app container (not under the profile) in the sandbox's PID namespace leaves orphans
    // that live until released, and says when it has made them all: pause holds exactly those.
    let rootfs = busybox_rootfs(work);
    let app = work.join("app");
    fs::create_dir_all(&app).unwrap();
    run_ok(Command::new("runc").args(["spec", "--bundle"]).arg(&app));
    let path = app.join("config.json");
    let mut config: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    config["process"]["terminal"] = json!(false);
    config["process"]["args"] = json!([
        "sh",
        "-c",
        format!(
            "{}; exec sleep 3600",
            held_orphans_script(HELD_ORPHANS, "sleep")
        )
    ]);
    config["root"] = json!({"path": rootfs, "readonly": true});
    for namespace in config["linux"]["namespaces"].as_array_mut().unwrap() {
        if namespace["type"] == "pid" {
            namespace["path"] = json!(format!("/proc/{pause}/ns/pid"));
        }
    }
    fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    let mut app_run = runc.spawn_run(&app, "app", work);
    let made = poll("the app to make its orphans", || {
        made_orphans(&fs::read_to_string(work.join("app.out")).ok()?)
    });
    // Released from the host; pause, under the profile, reaps every one.
    holds_exactly_then_reaps(pause, &made, HELD_ORPHANS);

    assert_shut_down!(
        runc.stop_with_sigterm(&mut sandbox, "hardened", work),
        GOT_SIGTERM,
    );
    wait_bounded(&mut app_run, PATIENCE);
}

/// What pause does when the profile takes one more call away.
fn run_without(without: &[&str]) -> (Option<i32>, String) {
    let runc = Runc::isolated();
    let dir = tempfile::tempdir().unwrap();
    let bundle = hardened_bundle(dir.path(), without);
    let mut run = runc.spawn_run(&bundle, "bitten", dir.path());
    let status = wait_bounded(&mut run, PATIENCE);
    (
        status.code(),
        fs::read_to_string(dir.path().join("bitten.err")).unwrap(),
    )
}

#[test]
fn without_rt_sigaction_pause_exits_1() {
    assert_eq!(run_without(&["rt_sigaction"]), (Some(1), String::new()));
}

#[test]
fn without_its_sleep_pause_exits_42_instead_of_spinning() {
    assert_eq!(
        run_without(&["pause"]),
        (Some(42), "Error: infinite loop terminated\n".to_string())
    );
}

/// podman: the profile on a pod's infra container, with no_new_privs so that the filter is
/// loaded last (without it runc itself would need far more than pause does). The pod shares
/// its PID namespace: pause is its PID 1 and reaps what an app container of the pod leaves.
#[test]
fn podman_infra_container_under_the_profile() {
    let podman = Podman::isolated();
    let pulled = stdout_of(podman.cmd().args(["pull", "--quiet"]).arg(archive_ref()));
    podman.import_busybox();
    let profile = xtask::workspace_root().join("seccomp/pause.json");
    run_ok(
        podman
            .cmd()
            .args(["pod", "create", "--name", "hardened", "--network", "none"])
            .args(["--share", "pid,ipc,net,uts"])
            .args(["--infra-image", pulled.trim()])
            .args(["--security-opt", "no-new-privileges", "--security-opt"])
            .arg(format!("seccomp={}", profile.display())),
    );
    run_ok(podman.cmd().args(["pod", "start", "hardened"]));
    let pid = podman.pid(&podman.infra_id("hardened"));
    wait_until_in_syscall(pid, native_sleep_syscall());
    assert_eq!(status_field(pid, "Seccomp"), "2");
    assert_eq!(status_field(pid, "NoNewPrivs"), "1");
    assert_pid_1_of_its_namespace(pid);

    // The app container runs under podman's default profile (pause's would not let its shell
    // fork): the pod's --security-opt is the infra container's.
    let made = podman.hold_orphans("hardened", HELD_ORPHANS);
    holds_exactly_then_reaps(pid, &made, HELD_ORPHANS);

    assert_shut_down!(podman.stop_pod("hardened"), GOT_SIGTERM);
}
