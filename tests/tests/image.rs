//! The image: the OCI archive `cargo xtask dist` writes, read back by hand and by skopeo, and
//! the Dockerfile built by podman (the image as the sandbox of runc and podman pods is in
//! sandbox.rs).

use flate2::read::GzDecoder;
use fs_err as fs;
use pause_tests::containers::{Podman, archive_ref, output_of, run_ok, stdout_of};
use pause_tests::registry::archive_files;
use pause_tests::{ARCHES, require_tool};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::process::Command;

/// The budget for one platform's manifest + config + layer.
const PULLED_BUDGET: usize = 1536;

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The blob a descriptor names, checked against the descriptor's size and digest.
fn blob<'a>(files: &'a BTreeMap<String, Vec<u8>>, descriptor: &Value) -> &'a [u8] {
    let digest = descriptor["digest"].as_str().unwrap();
    let hex = digest.strip_prefix("sha256:").expect("sha256 digests");
    let bytes = &files[&format!("blobs/sha256/{hex}")];
    assert_eq!(
        sha256_hex(bytes),
        hex,
        "blob content does not match its digest"
    );
    assert_eq!(
        descriptor["size"],
        json!(bytes.len()),
        "descriptor size of {digest}"
    );
    bytes
}

#[test]
fn archive_is_a_valid_multi_arch_layout_within_budget() {
    let files = archive_files();
    assert_eq!(files["oci-layout"], br#"{"imageLayoutVersion":"1.0.0"}"#);
    let top: Value = serde_json::from_slice(&files["index.json"]).unwrap();
    let tops = top["manifests"].as_array().unwrap();
    // The other entries are the attached SBOM and provenance (tests/attest.rs).
    let images = tops.iter().filter(|t| t.get("artifactType").is_none());
    assert_eq!(images.count(), 1, "index.json names one image index");
    assert_eq!(
        tops[0]["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        tops[0]["annotations"]["org.opencontainers.image.ref.name"],
        version
    );

    let index: Value = serde_json::from_slice(blob(&files, &tops[0])).unwrap();
    let annotations = &index["annotations"];
    assert_eq!(annotations["org.opencontainers.image.version"], version);
    assert_eq!(annotations["org.opencontainers.image.title"], "pause");
    assert_eq!(
        annotations["org.opencontainers.image.licenses"],
        "Apache-2.0"
    );
    for key in ["description", "source"] {
        let value = annotations[format!("org.opencontainers.image.{key}")].as_str();
        assert!(value.is_some_and(|v| !v.is_empty()), "annotation {key}");
    }
    let epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    assert_eq!(
        annotations
            .get("org.opencontainers.image.created")
            .is_some(),
        epoch.is_some()
    );

    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), ARCHES.len());
    for (arch, descriptor) in ARCHES.iter().zip(manifests) {
        let platform = &descriptor["platform"];
        assert_eq!(platform["os"], "linux");
        assert_eq!(platform["architecture"], arch.goarch);
        assert_eq!(
            platform.get("variant").and_then(Value::as_str),
            arch.variant
        );

        let manifest_bytes = blob(&files, descriptor);
        let manifest: Value = serde_json::from_slice(manifest_bytes).unwrap();
        assert_eq!(
            manifest["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        let config_bytes = blob(&files, &manifest["config"]);
        let config: Value = serde_json::from_slice(config_bytes).unwrap();
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1, "{}: one layer", arch.name);
        assert_eq!(
            layers[0]["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
        let layer_gz = blob(&files, &layers[0]);

        let pulled = manifest_bytes.len() + config_bytes.len() + layer_gz.len();
        assert!(
            pulled <= PULLED_BUDGET,
            "{}: {pulled} bytes to pull",
            arch.name
        );

        assert_eq!(config["os"], "linux");
        assert_eq!(config["architecture"], arch.goarch);
        assert_eq!(config.get("variant").and_then(Value::as_str), arch.variant);
        assert_eq!(config["config"]["User"], "65535:65535");
        assert_eq!(config["config"]["Entrypoint"], json!(["/pause"]));
        assert_eq!(config.get("created").is_some(), epoch.is_some());

        let mut layer = Vec::new();
        GzDecoder::new(layer_gz).read_to_end(&mut layer).unwrap();
        assert_eq!(config["rootfs"]["type"], "layers");
        assert_eq!(
            config["rootfs"]["diff_ids"],
            json!([format!("sha256:{}", sha256_hex(&layer))])
        );
        // (path, header, content) of every entry; tar entries stream, so read each in turn.
        let mut entries = Vec::new();
        for entry in tar::Archive::new(&layer[..]).entries().unwrap() {
            let mut entry = entry.unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            entries.push((path, entry.header().clone(), content));
        }
        let [(path, header, binary)] = &entries[..] else {
            panic!(
                "{}: the layer must hold only /pause, not {} entries",
                arch.name,
                entries.len()
            );
        };
        assert_eq!(path, "pause");
        assert_eq!(header.entry_type(), tar::EntryType::Regular);
        assert_eq!(header.mode().unwrap(), 0o755);
        assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
        let fixed = epoch.as_deref().map_or(0, |e| e.parse().unwrap());
        assert_eq!(header.mtime().unwrap(), fixed);
        assert!(
            *binary == fs::read(arch.dist_binary()).unwrap(),
            "{}: /pause differs",
            arch.name
        );
    }
}

/// The platform flags that make skopeo pick one architecture's image.
fn platform_flags(arch: &xtask::Arch) -> Vec<String> {
    let mut flags = vec![
        "--override-os".into(),
        "linux".into(),
        "--override-arch".into(),
    ];
    flags.push(arch.goarch.into());
    if let Some(variant) = arch.variant {
        flags.extend(["--override-variant".into(), variant.into()]);
    }
    flags
}

#[test]
fn skopeo_inspects_and_copies_every_platform() {
    require_tool("skopeo", "skopeo");
    let archive = archive_ref();
    let dir = tempfile::tempdir().unwrap();
    for arch in ARCHES {
        let config = stdout_of(
            Command::new("skopeo")
                .arg("inspect")
                .args(platform_flags(arch))
                .arg("--config")
                .arg(&archive),
        );
        let config: Value = serde_json::from_str(&config).unwrap();
        assert_eq!(config["architecture"], arch.goarch);
        assert_eq!(config["config"]["User"], "65535:65535");

        let copy = dir.path().join(arch.name);
        run_ok(
            Command::new("skopeo")
                .args(["copy", "--quiet"])
                .args(platform_flags(arch))
                .arg(&archive)
                .arg(format!("oci:{}:pause", copy.display())),
        );
        let copied: Value =
            serde_json::from_slice(&fs::read(copy.join("index.json")).unwrap()).unwrap();
        let manifest_digest = copied["manifests"][0]["digest"]
            .as_str()
            .unwrap()
            .to_string();
        // The copy is the very manifest the archive lists for this platform, not a rewrite.
        let files = archive_files();
        let hex = manifest_digest.strip_prefix("sha256:").unwrap();
        assert!(
            files.contains_key(&format!("blobs/sha256/{hex}")),
            "{}: rewritten",
            arch.name
        );
    }

    let all = dir.path().join("all");
    run_ok(
        Command::new("skopeo")
            .args(["copy", "--quiet", "--all"])
            .arg(&archive)
            .arg(format!("oci:{}:pause", all.display())),
    );
    let copied: Value = serde_json::from_slice(&fs::read(all.join("index.json")).unwrap()).unwrap();
    let ours: Value = serde_json::from_slice(&archive_files()["index.json"]).unwrap();
    assert_eq!(
        copied["manifests"][0]["digest"],
        ours["manifests"][0]["digest"]
    );
}

#[test]
fn dockerfile_builds_every_platform_with_podman() {
    let podman = Podman::isolated();
    // A build context with the Dockerfile's layout, wherever the target directory is.
    let context = podman.dir.path().join("context");
    fs::create_dir_all(context.join("target/dist")).unwrap();
    let root = xtask::workspace_root();
    for file in ["Dockerfile", ".dockerignore"] {
        fs::copy(root.join(file), context.join(file)).unwrap();
    }
    for arch in ARCHES {
        let name = arch.dist_file_name();
        fs::copy(arch.dist_binary(), context.join("target/dist").join(&name)).unwrap();
    }
    for arch in ARCHES {
        let platform = arch.platform();
        let tag = format!("localhost/pause-dockerfile:{}", arch.name);
        run_ok(
            podman
                .cmd()
                .args(["build", "--quiet", "--platform", &platform, "-t", &tag])
                .arg(&context),
        );
        let inspect = stdout_of(podman.cmd().args(["image", "inspect", &tag]));
        let image: Value = serde_json::from_str(&inspect).unwrap();
        let image = &image[0];
        assert_eq!(image["Os"], "linux", "{platform}");
        assert_eq!(image["Architecture"], arch.goarch, "{platform}");
        assert_eq!(image["Config"]["User"], "65535:65535", "{platform}");
        assert_eq!(
            image["Config"]["Entrypoint"],
            json!(["/pause"]),
            "{platform}"
        );
        // The binary inside is the one for this platform. (By tag alone: podman 4.3's build
        // records no variant, and its platform lookup then takes arm images for v7.)
        let ctr = stdout_of(podman.cmd().args(["create", &tag]));
        let copied = podman.dir.path().join(format!("copied-{}", arch.name));
        run_ok(
            podman
                .cmd()
                .arg("cp")
                .arg(format!("{}:/pause", ctr.trim()))
                .arg(&copied),
        );
        assert!(
            fs::read(&copied).unwrap() == fs::read(arch.dist_binary()).unwrap(),
            "{platform}"
        );
    }
    // No binary for big-endian ppc64: the build must fail, naming the stage it has no binary
    // for, rather than ship one that cannot run there.
    let unshipped = output_of(
        podman
            .cmd()
            .args(["build", "--platform", "linux/ppc64"])
            .arg(&context),
    );
    assert!(!unshipped.status.success(), "a linux/ppc64 build succeeded");
    let stderr = String::from_utf8_lossy(&unshipped.stderr);
    assert!(stderr.contains("linux-ppc64"), "{stderr}");
}
