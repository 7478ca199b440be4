//! Build provenance: an in-toto Statement v1 whose predicate is SLSA provenance v1, saying
//! what `cargo xtask dist` made (the image index and each binary), from which source commit,
//! with which lock file, compiler and library sources. No time unless SOURCE_DATE_EPOCH.

use crate::buildinfo::{BuildInfo, Origin};
use crate::oci::{canonical_json, rfc3339, sha256_hex};
use serde_json::{Value, json};

/// The in-toto media type (the artifactType the statement is attached with).
pub const MEDIA_TYPE: &str = "application/vnd.in-toto+json";
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Where `buildType` points, under the repository: the README section that defines this build.
pub const BUILD_TYPE_PATH: &str = "/blob/main/README.md#supply-chain-sbom-provenance-signatures";

/// The statement for the image index `index_sha256` and the binaries `files` (name, bytes).
pub fn statement(
    info: &BuildInfo,
    index_name: &str,
    index_sha256: &str,
    files: &[(String, &[u8])],
) -> Vec<u8> {
    let mut subjects = vec![json!({"name": index_name, "digest": {"sha256": index_sha256}})];
    for (name, bytes) in files {
        subjects.push(json!({"name": name, "digest": {"sha256": sha256_hex(bytes)}}));
    }

    let source_uri = format!("git+{}", info.repository);
    let mut source = json!({"uri": source_uri});
    if let Some(commit) = &info.commit {
        source["digest"] = json!({"gitCommit": commit});
    }
    let t = &info.toolchain;
    let mut resolved = vec![
        source.clone(),
        json!({"name": "Cargo.lock", "digest": {"sha256": info.cargo_lock_sha256}}),
        json!({
            "name": "rustc",
            "uri": format!("pkg:generic/rustc@{}", t.release),
            "digest": {"gitCommit": t.commit},
            "annotations": {"version": t.rustc, "llvm": t.llvm},
        }),
        json!({
            "name": "rust-src",
            "uri": format!("pkg:generic/rust-src@{}", t.release),
            // The digest of the component's sha256sum listing (buildinfo::rust_src_digest).
            "digest": {"sha256": t.rust_src_sha256},
        }),
    ];
    // Every registry crate in any binary, once, with the checksum Cargo.lock pins.
    let mut crates: Vec<_> = info
        .crates
        .values()
        .flatten()
        .filter(|c| c.origin == Origin::CratesIo)
        .collect();
    crates.sort();
    crates.dedup();
    for krate in crates {
        let mut dependency = json!({"uri": format!("pkg:cargo/{}@{}", krate.name, krate.version)});
        if let Some(checksum) = &krate.checksum {
            dependency["digest"] = json!({"sha256": checksum});
        }
        resolved.push(dependency);
    }

    let mut environment = json!({});
    let mut metadata = json!({});
    if let Some(epoch) = info.source_date_epoch {
        environment["SOURCE_DATE_EPOCH"] = json!(epoch.to_string());
        metadata["startedOn"] = json!(rfc3339(epoch));
        metadata["finishedOn"] = json!(rfc3339(epoch));
    }
    let statement: Value = json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": format!("{}{BUILD_TYPE_PATH}", info.repository),
                "externalParameters": {
                    "invocation": "cargo xtask dist",
                    "source": source,
                    "environment": environment,
                },
                "internalParameters": {
                    "targets": info.crates.keys().collect::<Vec<_>>(),
                    "profile": "release",
                },
                "resolvedDependencies": resolved,
            },
            "runDetails": {
                // Whoever runs `cargo xtask dist`; CI can name itself through SLSA_BUILDER_ID.
                "builder": {"id": builder_id(&info.repository)},
                "metadata": metadata,
            },
        },
    });
    canonical_json(&statement)
}

fn builder_id(repository: &str) -> String {
    std::env::var("SLSA_BUILDER_ID").unwrap_or_else(|_| format!("{repository}/blob/main/xtask"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buildinfo::tests::build_info;

    #[test]
    fn time_only_with_source_date_epoch() {
        let files = [("pause-linux-amd64".to_string(), &b"x"[..])];
        let without: Value =
            serde_json::from_slice(&statement(&build_info(None), "p:1", "ab", &files)).unwrap();
        let run = &without["predicate"]["runDetails"];
        assert_eq!(run["metadata"], json!({}));
        let with: Value = serde_json::from_slice(&statement(
            &build_info(Some(1_700_000_000)),
            "p:1",
            "ab",
            &files,
        ))
        .unwrap();
        let run = &with["predicate"]["runDetails"];
        assert_eq!(run["metadata"]["startedOn"], "2023-11-14T22:13:20Z");
        let parameters = &with["predicate"]["buildDefinition"]["externalParameters"];
        assert_eq!(parameters["environment"]["SOURCE_DATE_EPOCH"], "1700000000");
    }

    #[test]
    fn no_commit_no_source_digest() {
        let mut info = build_info(None);
        info.commit = None;
        let statement: Value = serde_json::from_slice(&statement(&info, "p:1", "ab", &[])).unwrap();
        let source = &statement["predicate"]["buildDefinition"]["externalParameters"]["source"];
        assert!(source.get("digest").is_none(), "{source}");
    }
}
