//! The SBOM and the provenance `cargo xtask dist` writes and attaches: what they say checked
//! against the build's real inputs, each found by another route than the one xtask took
//! (`cargo tree` for the crates, `rustc -V`, a shell recomputation of the rust-src digest, git),
//! and their attachment to the image index as OCI 1.1 artifacts.

use fs_err as fs;
use pause_tests::registry::{archive_blob, archive_entries};
use pause_tests::{ARCHES, require_tool};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::process::Command;

fn hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn dist_json(file: &str) -> Value {
    serde_json::from_slice(&fs::read(xtask::dist_dir().join(file)).unwrap()).unwrap()
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(xtask::workspace_root());
    cmd
}

fn sysroot() -> String {
    output(Command::new("rustc").args(["--print", "sysroot"]))
        .trim()
        .to_string()
}

/// `rustc 1.95.0 (...)` -> `1.95.0`.
fn rustc_release() -> String {
    let version = output(Command::new("rustc").arg("-V"));
    version.split_whitespace().nth(1).unwrap().to_string()
}

/// The crates `cargo tree` says the pause binary links for `triple`: "name version" and the
/// license each declares.
fn cargo_tree(triple: &str) -> Vec<(String, String)> {
    let tree = output(cargo().args([
        "tree", "--locked", "-p", "pause", "-e", "normal", "--prefix", "none", "--format",
        "{p}|{l}", "--target", triple,
    ]));
    let mut crates: Vec<(String, String)> = tree
        .lines()
        .filter_map(|l| {
            let (package, license) = l.split_once('|')?;
            let mut words = package.split_whitespace();
            let name = format!(
                "{} {}",
                words.next()?,
                words.next()?.trim_start_matches('v')
            );
            Some((name, license.to_string()))
        })
        .collect();
    crates.sort();
    crates.dedup();
    crates
}

/// The version the rust-src library's own lock file gives a crate.
fn library_lock_version(name: &str) -> String {
    let lock = fs::read_to_string(format!(
        "{}/lib/rustlib/src/rust/library/Cargo.lock",
        sysroot()
    ))
    .unwrap();
    let block = lock
        .split("[[package]]")
        .find(|b| b.contains(&format!("name = \"{name}\"\n")))
        .unwrap_or_else(|| panic!("{name} not in rust-src's Cargo.lock"));
    block
        .lines()
        .find_map(|l| l.strip_prefix("version = "))
        .unwrap()
        .trim_matches('"')
        .to_string()
}

#[test]
fn sbom_names_every_file_and_every_linked_crate() {
    let sbom = dist_json("pause.spdx.json");
    assert_eq!(sbom["spdxVersion"], "SPDX-2.3");
    assert_eq!(sbom["dataLicense"], "CC0-1.0");
    let created = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(_) => sbom["creationInfo"]["created"] != "1970-01-01T00:00:00Z",
        Err(_) => sbom["creationInfo"]["created"] == "1970-01-01T00:00:00Z",
    };
    assert!(created, "created: {}", sbom["creationInfo"]["created"]);

    let packages = sbom["packages"].as_array().unwrap();
    let package = |id: &str| {
        packages
            .iter()
            .find(|p| p["SPDXID"] == id)
            .unwrap_or_else(|| panic!("no {id}"))
    };
    let relations = sbom["relationships"].as_array().unwrap();
    let release = rustc_release();
    for arch in ARCHES.iter() {
        let bytes = fs::read(arch.dist_binary()).unwrap();
        let file = sbom["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["fileName"] == format!("./{}", arch.dist_file_name()))
            .unwrap_or_else(|| panic!("{}: no file entry", arch.name));
        let sha1 = output(Command::new("sha1sum").arg(arch.dist_binary()));
        assert_eq!(file["checksums"][0]["algorithm"], "SHA1");
        assert_eq!(
            file["checksums"][0]["checksumValue"],
            sha1.split_whitespace().next().unwrap()
        );
        assert_eq!(file["checksums"][1]["algorithm"], "SHA256");
        assert_eq!(file["checksums"][1]["checksumValue"], hex(&bytes));
        let comment = file["comment"].as_str().unwrap();
        assert!(
            comment.starts_with(&format!(
                "size: {} bytes; platform: {};",
                bytes.len(),
                arch.platform()
            )),
            "{comment}"
        );

        // What the file links, by the SBOM: pause itself and its static links.
        let id = file["SPDXID"].as_str().unwrap();
        let mut linked: Vec<String> = relations
            .iter()
            .filter(|r| {
                r["spdxElementId"] == id
                    && ["STATIC_LINK", "GENERATED_FROM"]
                        .contains(&r["relationshipType"].as_str().unwrap())
            })
            .map(|r| name_and_version(package(r["relatedSpdxElement"].as_str().unwrap())))
            .collect();
        linked.sort();
        let tree = cargo_tree(arch.triple);
        let mut expected: Vec<String> = tree.iter().map(|(c, _)| c.clone()).collect();
        expected.push(format!("core {release}"));
        expected.push(format!(
            "compiler_builtins {}",
            library_lock_version("compiler_builtins")
        ));
        expected.sort();
        assert_eq!(linked, expected, "{}", arch.name);
        for (krate, license) in &tree {
            let (name, version) = krate.split_once(' ').unwrap();
            let p = packages
                .iter()
                .find(|p| p["name"] == name && p["versionInfo"] == version)
                .unwrap();
            let declared = license.replace('/', " OR ");
            assert_eq!(p["licenseDeclared"].as_str().unwrap(), declared, "{krate}");
        }
        let built_by: Vec<&Value> = relations
            .iter()
            .filter(|r| r["relatedSpdxElement"] == id && r["relationshipType"] == "BUILD_TOOL_OF")
            .collect();
        assert_eq!(built_by.len(), 1);
        assert_eq!(
            package(built_by[0]["spdxElementId"].as_str().unwrap())["versionInfo"],
            release
        );
    }

    // Registry crates: every crate `cargo tree` finds linked on some architecture that
    // Cargo.lock says comes from crates.io, and only those, carry a purl, and the checksum
    // Cargo.lock pins. There is at least one (linux-raw-sys, sc, syscalls): none would mean the
    // SBOM had lost them, not that there is nothing to check.
    let lock = fs::read_to_string(xtask::workspace_root().join("Cargo.lock")).unwrap();
    let from_crates_io = |name: &str, version: &str| {
        lock.split("[[package]]").any(|block| {
            block.contains(&format!("name = \"{name}\"\nversion = \"{version}\"\n"))
                && block
                    .contains("source = \"registry+https://github.com/rust-lang/crates.io-index\"")
        })
    };
    let mut registry_crates: Vec<String> = ARCHES
        .iter()
        .flat_map(|arch| cargo_tree(arch.triple))
        .map(|(krate, _)| krate)
        .filter(|krate| {
            let (name, version) = krate.split_once(' ').unwrap();
            from_crates_io(name, version)
        })
        .collect();
    registry_crates.sort();
    registry_crates.dedup();
    assert!(
        !registry_crates.is_empty(),
        "cargo tree finds no crates.io crate linked into pause"
    );
    let mut with_refs: Vec<String> = packages
        .iter()
        .filter(|p| p.get("externalRefs").is_some())
        .map(name_and_version)
        .collect();
    with_refs.sort();
    assert_eq!(
        with_refs, registry_crates,
        "packages with externalRefs against the crates.io crates linked"
    );
    for krate in &registry_crates {
        let (name, version) = krate.split_once(' ').unwrap();
        let p = packages
            .iter()
            .find(|p| p["name"] == name && p["versionInfo"] == version)
            .unwrap();
        let checksum = p["checksums"][0]["checksumValue"].as_str().unwrap();
        assert!(lock.contains(&format!("name = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{checksum}\"")), "{name} {version}: checksum");
        assert_eq!(
            p["externalRefs"],
            serde_json::json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": format!("pkg:cargo/{name}@{version}"),
            }]),
            "{krate}: externalRefs"
        );
    }
}

/// The SPDX project's own validator (spdx-tools, pinned) accepts the document.
#[test]
fn sbom_passes_the_spdx_validator() {
    let validator = pause_tests::pypi::tool("spdx-tools", "0.8.5", "pyspdxtools");
    let out = pause_tests::containers::output_of(
        Command::new(validator)
            .arg("--infile")
            .arg(xtask::dist_dir().join("pause.spdx.json")),
    );
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn provenance_names_the_index_the_files_and_the_resolved_inputs() {
    let statement = dist_json("pause.provenance.json");
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    let subjects = statement["subject"].as_array().unwrap();
    let index = &archive_entries()[0];
    assert_eq!(
        format!(
            "sha256:{}",
            subjects[0]["digest"]["sha256"].as_str().unwrap()
        ),
        index["digest"].as_str().unwrap()
    );
    for arch in ARCHES.iter() {
        let name = arch.dist_file_name();
        let subject = subjects
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no subject {name}"));
        assert_eq!(
            subject["digest"]["sha256"],
            hex(&fs::read(arch.dist_binary()).unwrap())
        );
    }

    let build = &statement["predicate"]["buildDefinition"];
    assert_eq!(
        build["externalParameters"]["invocation"],
        "cargo xtask dist"
    );
    let git = require_tool("git", "git");
    let head = output(
        Command::new(git)
            .current_dir(xtask::workspace_root())
            .args(["rev-parse", "HEAD"]),
    );
    assert_eq!(
        build["externalParameters"]["source"]["digest"]["gitCommit"],
        head.trim()
    );
    let deps = build["resolvedDependencies"].as_array().unwrap();
    let dep = |name: &str| {
        deps.iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let lock = fs::read(xtask::workspace_root().join("Cargo.lock")).unwrap();
    assert_eq!(dep("Cargo.lock")["digest"]["sha256"], hex(&lock));
    let rustc = output(Command::new("rustc").arg("-V"));
    assert_eq!(dep("rustc")["annotations"]["version"], rustc.trim());
    // The digest the provenance gives for rust-src, recomputed the way its definition says.
    let recipe = "sed -n 's/^file://p' lib/rustlib/manifest-rust-src | LC_ALL=C sort | xargs sha256sum | sha256sum";
    let digest = output(
        Command::new("sh")
            .args(["-c", recipe])
            .current_dir(sysroot()),
    );
    assert_eq!(
        dep("rust-src")["digest"]["sha256"],
        digest.split_whitespace().next().unwrap()
    );
    let metadata = &statement["predicate"]["runDetails"]["metadata"];
    assert_eq!(
        metadata.get("startedOn").is_some(),
        std::env::var("SOURCE_DATE_EPOCH").is_ok()
    );
}

#[test]
fn both_are_oci_artifacts_whose_subject_is_the_image_index() {
    let entries = archive_entries();
    let index = &entries[0];
    let attached: Vec<(&str, &str)> = vec![
        ("application/spdx+json", "pause.spdx.json"),
        ("application/vnd.in-toto+json", "pause.provenance.json"),
    ];
    assert_eq!(entries.len(), 1 + attached.len());
    for (artifact_type, file) in attached {
        let entry = entries
            .iter()
            .find(|e| e["artifactType"] == artifact_type)
            .unwrap();
        assert!(
            entry["annotations"]
                .get("org.opencontainers.image.ref.name")
                .is_none(),
            "untagged"
        );
        let manifest: Value =
            serde_json::from_slice(&archive_blob(entry["digest"].as_str().unwrap())).unwrap();
        assert_eq!(
            manifest["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(manifest["artifactType"], artifact_type);
        let config = &manifest["config"];
        assert_eq!(config["mediaType"], "application/vnd.oci.empty.v1+json");
        assert_eq!(archive_blob(config["digest"].as_str().unwrap()), b"{}");
        assert_eq!(config["size"], 2);
        for key in ["mediaType", "digest", "size"] {
            assert_eq!(manifest["subject"][key], index[key], "subject {key}");
        }
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0]["mediaType"], artifact_type);
        let document = archive_blob(layers[0]["digest"].as_str().unwrap());
        assert!(
            document == fs::read(xtask::dist_dir().join(file)).unwrap(),
            "{file}"
        );
        assert_eq!(
            layers[0]["annotations"]["org.opencontainers.image.title"],
            file
        );
    }
    // The image index a runtime pulls lists the platforms alone, not the attachments.
    let image_index: Value =
        serde_json::from_slice(&archive_blob(index["digest"].as_str().unwrap())).unwrap();
    assert!(
        image_index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m.get("platform").is_some())
    );
}

/// An SPDX package as `cargo tree` names a crate: "name version".
fn name_and_version(package: &Value) -> String {
    format!(
        "{} {}",
        package["name"].as_str().unwrap(),
        package["versionInfo"].as_str().unwrap()
    )
}
