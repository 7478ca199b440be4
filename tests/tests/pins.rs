//! The pinned runtime snippets `cargo xtask dist` writes (target/dist/pins/), used as an
//! operator would on an air-gapped node: the recipe's commands run verbatim (REGISTRY given a
//! name that can never resolve), then the runtime starts its sandbox from the digest alone,
//! and containerd's CRI reports the image pinned, so the kubelet's image GC leaves it.
//! containerd 1.6 (bookworm) and 1.7 (trixie) through CRI, podman through containers.conf.

use fs_err as fs;
use k8s_cri::v1::ListImagesRequest;
use pause_tests::containerd::{Containerd, ContainerdSetup};
use pause_tests::containers::{Podman, run_ok};
use pause_tests::cri::{bounded, connect, run_sandbox, runtime, sandbox_config, stop_and_remove};
use pause_tests::debian::path_with;
use pause_tests::{Arch, assert_exit_0, poll, proc_stat};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// `.invalid` never resolves (RFC 2606): a pull would fail, so only the local image can serve.
const OFFLINE_REGISTRY: &str = "registry.invalid";

fn snippet(file: &str) -> String {
    fs::read_to_string(xtask::dist_dir().join("pins").join(file))
        .unwrap()
        .replace(xtask::pins::REGISTRY, OFFLINE_REGISTRY)
}

/// The recipe's commands that start with `tool`, in order.
fn recipe(tool: &str) -> Vec<String> {
    snippet("airgap.sh")
        .lines()
        .filter(|l| l.starts_with(&format!("{tool} ")))
        .map(str::to_string)
        .collect()
}

/// Runs recipe lines with `sh` where `pause-oci.tar` is the archive and `tools` come first on
/// PATH.
fn run_recipe(lines: &[String], tools: &Path, env: &[(&str, &Path)]) {
    let cwd = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        pause_tests::containers::image_archive(),
        cwd.path().join("pause-oci.tar"),
    )
    .unwrap();
    for line in lines {
        let mut sh = Command::new("sh");
        sh.args(["-c", line])
            .current_dir(cwd.path())
            .env("PATH", path_with(&[tools]));
        for (name, value) in env {
            sh.env(name, value);
        }
        run_ok(&mut sh);
    }
}

/// The pinned `sandbox_image` from the containerd 1.x snippet.
fn containerd_1_image() -> String {
    let text = snippet("containerd-1.toml");
    let value = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("sandbox_image = "))
        .expect("the snippet sets sandbox_image");
    value.trim_matches('"').to_string()
}

/// Air-gapped: import, tag and label as the recipe says, then run a sandbox from the digest.
/// Returns whether CRI reports the image pinned.
fn airgapped_sandbox(setup: ContainerdSetup) -> bool {
    let image = containerd_1_image();
    let ctr_dir = setup.bin_dir.clone();
    let containerd = Containerd::start_with(&image, setup);
    // The recipe's `ctr` is this containerd's, through a wrapper that adds its socket and the
    // snapshotter this machine can use (a node's default, overlayfs, is refused here).
    let tools = tempfile::tempdir().unwrap();
    let real = match ctr_dir {
        Some(dir) => dir.join("ctr"),
        None => pause_tests::require_tool("ctr", "containerd"),
    };
    let wrapper = tools.path().join("ctr");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nCONTAINERD_SNAPSHOTTER=native exec {} --address {} \"$@\"\n",
            real.display(),
            containerd.socket().display()
        ),
    )
    .unwrap();
    fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_recipe(&recipe("ctr"), tools.path(), &[]);

    let ours = fs::read(Arch::named("amd64").unwrap().dist_binary()).unwrap();
    let logs = tempfile::tempdir().unwrap();
    let pinned = runtime().block_on(async {
        let (mut cri, mut images) = connect(&containerd).await;
        let (id, pid) = run_sandbox(&mut cri, sandbox_config("airgapped", logs.path(), None)).await;
        poll("the sandbox to exec our binary", || {
            (fs::read(format!("/proc/{pid}/exe")).ok()? == ours).then_some(())
        });
        let listed = bounded(
            "ListImages",
            images.list_images(ListImagesRequest::default()),
        )
        .await
        .into_inner()
        .images;
        let entry = listed
            .iter()
            .find(|i| i.repo_digests.contains(&image))
            .unwrap_or_else(|| panic!("CRI lists no {image}: {listed:?}"));
        stop_and_remove(&mut cri, &id).await;
        poll("the sandbox process to end", || {
            proc_stat(pid).is_none_or(|s| s.state == 'Z').then_some(())
        });
        entry.pinned
    });
    drop(containerd);
    pinned
}

#[test]
fn readme_shows_the_recipe_dist_writes() {
    let digest = containerd_1_image();
    let digest = digest
        .rsplit_once('@')
        .unwrap()
        .1
        .strip_prefix("sha256:")
        .unwrap();
    let written: Vec<String> = fs::read_to_string(xtask::dist_dir().join("pins/airgap.sh"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.replace(digest, "..."))
        .collect();
    let shown: Vec<String> = pause_tests::registry::readme_commands("airgap")
        .iter()
        // The README's lines carry a trailing comment where the script has one above them.
        .map(|l| l.split(" # ").next().unwrap().trim_end().to_string())
        .collect();
    assert_eq!(shown, written);
}

#[test]
fn containerd_1_7_runs_the_pinned_digest_air_gapped_and_reports_it_pinned() {
    // Containerd::start_with fails unless containerd and runc are the versions the README states.
    let pinned = airgapped_sandbox(ContainerdSetup::trixie());
    assert!(
        pinned,
        "containerd 1.7 does not report the labelled image pinned"
    );
}

#[test]
fn containerd_1_6_runs_the_pinned_digest_air_gapped() {
    let pinned = airgapped_sandbox(ContainerdSetup::default());
    // 1.6's CRI predates pinned images: it never reports one, label or not. There the
    // kubelet's --pod-infra-container-image keeps the sandbox image from image GC (README).
    assert!(
        !pinned,
        "containerd 1.6 now reports pinned images: update the README"
    );
}

#[test]
fn podman_infra_image_from_the_pinned_digest_air_gapped() {
    let podman = Podman::isolated();
    let dir = podman.dir.path();
    // skopeo writes where this podman reads: the same storage, through storage.conf.
    let storage = dir.join("storage.conf");
    fs::write(
        &storage,
        format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            dir.join("root").display(),
            dir.join("run").display()
        ),
    )
    .unwrap();
    let tools = tempfile::tempdir().unwrap();
    run_recipe(
        &recipe("skopeo"),
        tools.path(),
        &[("CONTAINERS_STORAGE_CONF", &storage)],
    );

    // The snippet's [engine] setting joins the [engine] table of this podman's configuration.
    let conf_path = dir.join("containers.conf");
    let conf = fs::read_to_string(&conf_path).unwrap();
    let setting: String = snippet("containers.conf")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(setting.starts_with("infra_image = "), "{setting}");
    fs::write(
        &conf_path,
        conf.replace("[engine]\n", &format!("[engine]\n{setting}")),
    )
    .unwrap();

    run_ok(podman.cmd().args(["pod", "create", "--name", "pinned"]));
    run_ok(podman.cmd().args(["pod", "start", "pinned"]));
    let infra = podman.infra_id("pinned");
    let pid = podman.pid(&infra);
    let ours = fs::read(Arch::named("amd64").unwrap().dist_binary()).unwrap();
    poll("the infra container to exec our binary", || {
        (fs::read(format!("/proc/{pid}/exe")).ok()? == ours).then_some(())
    });
    assert_exit_0(&podman.stop_pod("pinned"));
}
