//! The publish path against a real registry: distribution 2.8.3 on loopback receives the
//! README's publish commands verbatim; what it serves is then checked byte for byte against
//! the archive, the attachments are found from the index, containerd pulls two platforms by
//! tag, and a CRI sandbox runs from the image pulled by its pinned digest.

use fs_err as fs;
use pause_tests::containerd::{Containerd, ContainerdSetup};
use pause_tests::containers::{output_of, run_ok, stdout_of};
use pause_tests::cri::{connect, run_sandbox, runtime, sandbox_config, stop_and_remove};
use pause_tests::registry::{
    ACCEPT_MANIFESTS, Registry, archive_blob, archive_entries, published, readme_commands,
    readme_cwd, run_readme_command,
};
use pause_tests::{Arch, poll, proc_stat, status_field};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The GET of a manifest or blob, checked: 200, the bytes the archive has, the digest header.
fn served_as_in_archive(registry: &Registry, kind: &str, digest: &str) {
    let answer = registry.get(&format!("/v2/pause/{kind}/{digest}"), ACCEPT_MANIFESTS);
    assert_eq!(answer.status, 200, "{kind} {digest}\n{}", registry.log());
    assert!(
        answer.body == archive_blob(digest),
        "{kind} {digest}: other bytes"
    );
    assert_eq!(answer.header("docker-content-digest"), Some(digest));
}

#[test]
fn readme_publish_carries_image_sbom_and_provenance_to_a_registry() {
    let (registry, oras) = published();
    let entries = archive_entries();
    let index_digest = entries[0]["digest"].as_str().unwrap();
    let version = env!("CARGO_PKG_VERSION");

    // The tag resolves to the archive's image index, the same bytes.
    let tagged = registry.get(&format!("/v2/pause/manifests/{version}"), ACCEPT_MANIFESTS);
    assert_eq!(tagged.status, 200, "{}", registry.log());
    assert_eq!(sha256(&tagged.body), index_digest);
    served_as_in_archive(&registry, "manifests", index_digest);

    // Every platform: manifest, config and layer, byte for byte.
    let index: Value = serde_json::from_slice(&tagged.body).unwrap();
    let platforms = index["manifests"].as_array().unwrap();
    assert_eq!(platforms.len(), pause_tests::ARCHES.len());
    for platform in platforms {
        let digest = platform["digest"].as_str().unwrap();
        served_as_in_archive(&registry, "manifests", digest);
        let manifest: Value = serde_json::from_slice(&archive_blob(digest)).unwrap();
        for blob in
            std::iter::once(&manifest["config"]).chain(manifest["layers"].as_array().unwrap())
        {
            served_as_in_archive(&registry, "blobs", blob["digest"].as_str().unwrap());
        }
    }

    // The attachments: distribution 2.8 has no referrers API, so oras wrote the tag schema's
    // `sha256-<hex>` index, and `oras discover` finds both from the image index.
    let attachments = &entries[1..];
    assert_eq!(attachments.len(), 2, "SBOM and provenance");
    let tag = index_digest.replace(':', "-");
    let listing = registry.get(&format!("/v2/pause/manifests/{tag}"), ACCEPT_MANIFESTS);
    assert_eq!(listing.status, 200, "no referrers tag {tag}");
    let discovered = stdout_of(
        std::process::Command::new(oras.join("oras"))
            .args(["discover", "--format", "json"])
            .arg(format!("{}/pause:{version}", registry.host())),
    );
    let discovered: Value = serde_json::from_str(&discovered).unwrap();
    let mut found: Vec<(String, String)> = discovered["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["artifactType"].as_str().unwrap().into(),
                m["digest"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String)> = attachments
        .iter()
        .map(|a| {
            (
                a["artifactType"].as_str().unwrap().into(),
                a["digest"].as_str().unwrap().into(),
            )
        })
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(
        expected.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["application/spdx+json", "application/vnd.in-toto+json"]
    );

    // The README's commands that read them back save the files dist wrote.
    let cwd = readme_cwd();
    for command in readme_commands("read") {
        run_readme_command(&command, &registry.host(), &[&oras], cwd.path(), &[]);
    }
    for saved in ["sbom/pause.spdx.json", "provenance/pause.provenance.json"] {
        let file = saved.split('/').nth(1).unwrap();
        let ours = fs::read(xtask::dist_dir().join(file)).unwrap();
        assert!(fs::read(cwd.path().join(saved)).unwrap() == ours, "{saved}");
    }

    // Each attachment's document, fetched from the registry, is the file dist wrote.
    for (artifact_type, digest) in &expected {
        served_as_in_archive(&registry, "manifests", digest);
        let manifest: Value = serde_json::from_slice(&archive_blob(digest)).unwrap();
        assert_eq!(manifest["subject"]["digest"], index_digest);
        let layer = manifest["layers"][0]["digest"].as_str().unwrap();
        let document = registry.get(&format!("/v2/pause/blobs/{layer}"), "*/*");
        let file = match artifact_type.as_str() {
            "application/spdx+json" => "pause.spdx.json",
            _ => "pause.provenance.json",
        };
        assert!(
            document.body == fs::read(xtask::dist_dir().join(file)).unwrap(),
            "{file}"
        );
    }
}

/// hosts.toml for containerd: plain HTTP to the loopback registry.
fn registry_hosts(dir: &Path, registry: &Registry) -> PathBuf {
    let hosts = dir.join("certs.d");
    let host = registry.host();
    fs::create_dir_all(hosts.join(&host)).unwrap();
    fs::write(
        hosts.join(&host).join("hosts.toml"),
        format!(
            "server = \"http://{host}\"\n[host.\"http://{host}\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
        ),
    )
    .unwrap();
    hosts
}

/// `sandbox_image` as the pinned snippet dist wrote gives it, for this registry.
fn pinned_sandbox_image(registry: &Registry) -> String {
    xtask::pins::pinned_in("containerd-1.toml", "sandbox_image", &registry.host())
        .unwrap_or_else(|e| panic!("{e:#}"))
}

#[test]
fn containerd_1_6_pulls_platforms_and_runs_a_sandbox_from_the_registry() {
    pulls_platforms_and_runs_a_sandbox(ContainerdSetup::default());
}

#[test]
fn containerd_1_7_pulls_platforms_and_runs_a_sandbox_from_the_registry() {
    pulls_platforms_and_runs_a_sandbox(ContainerdSetup::trixie());
}

/// With the host's containerd (1.6), or trixie's (1.7); `Containerd::start_with` fails unless
/// containerd and runc are the versions the README states.
fn pulls_platforms_and_runs_a_sandbox(setup: ContainerdSetup) {
    let (registry, _) = published();
    let scratch = tempfile::tempdir().unwrap();
    let hosts = registry_hosts(scratch.path(), &registry);
    let image = pinned_sandbox_image(&registry);
    let index_digest = archive_entries()[0]["digest"].as_str().unwrap().to_string();
    assert!(
        image.ends_with(&format!("/pause@{index_digest}")),
        "{image}"
    );

    let containerd = Containerd::start_with(
        &image,
        ContainerdSetup {
            registry_hosts: Some(hosts.clone()),
            ..setup
        },
    );
    // Nothing imported: RunPodSandbox pulls the pinned digest through the registry config.
    let ours = fs::read(Arch::named("amd64").unwrap().dist_binary()).unwrap();
    let logs = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (mut cri, _) = connect(&containerd).await;
        let (id, pid) =
            run_sandbox(&mut cri, sandbox_config("from-registry", logs.path(), None)).await;
        poll("the sandbox to exec our binary", || {
            (fs::read(format!("/proc/{pid}/exe")).ok()? == ours).then_some(())
        });
        assert_eq!(status_field(pid, "Uid"), "65535");
        stop_and_remove(&mut cri, &id).await;
        poll("the sandbox process to end", || {
            proc_stat(pid).is_none_or(|s| s.state == 'Z').then_some(())
        });
    });
    let images = stdout_of(containerd.ctr().args(["images", "ls", "--quiet"]));
    assert!(
        images.lines().any(|l| l == image),
        "CRI did not pull {image}:\n{images}"
    );

    // ctr pulls by tag, one platform at a time, through the same hosts directory.
    let tagged = format!("{}/pause:{}", registry.host(), env!("CARGO_PKG_VERSION"));
    let index: Value = serde_json::from_slice(&archive_blob(&index_digest)).unwrap();
    for arch in ["arm64", "amd64"] {
        let arch = Arch::named(arch).unwrap();
        run_ok(
            containerd
                .ctr()
                .args(["images", "pull", "--snapshotter", "native", "--hosts-dir"])
                .arg(&hosts)
                .args(["--platform", &arch.platform(), &tagged]),
        );
        let descriptor = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["platform"]["architecture"] == arch.goarch
                    && m["platform"].get("variant").is_none()
            })
            .unwrap();
        let manifest: Value =
            serde_json::from_slice(&archive_blob(descriptor["digest"].as_str().unwrap())).unwrap();
        let layer = manifest["layers"][0]["digest"].as_str().unwrap();
        let got = output_of(containerd.ctr().args(["content", "get", layer]));
        assert!(
            got.status.success() && got.stdout == archive_blob(layer),
            "{}: layer",
            arch.name
        );
    }
    drop(containerd);
}
