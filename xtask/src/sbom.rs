//! The SBOM: an SPDX 2.3 JSON document naming each shipped file (path, sha256, size), every
//! crate compiled into it (version, license, source, checksum) and the toolchain that built it.
//! Written through `serde-spdx`'s types; the bytes depend on the build's inputs alone.

use crate::buildinfo::{BuildInfo, Crate, Origin};
use crate::oci::{canonical_json, rfc3339, sha256_hex};
use serde_spdx::spdx::v_2_3::{
    Spdx, SpdxBuilder, SpdxCreationInfoBuilder, SpdxItemFiles, SpdxItemFilesBuilder,
    SpdxItemFilesItemChecksumsBuilder, SpdxItemPackages, SpdxItemPackagesBuilder,
    SpdxItemPackagesItemChecksumsBuilder, SpdxItemPackagesItemExternalRefsBuilder,
    SpdxItemRelationships, SpdxItemRelationshipsBuilder,
};
use std::collections::BTreeMap;

/// The media type of an SPDX JSON document (the artifactType it is attached with).
pub const MEDIA_TYPE: &str = "application/spdx+json";

/// One shipped file: `arch` is its OCI architecture name.
pub struct ShippedFile<'a> {
    pub arch: &'static str,
    pub platform: String,
    pub name: String,
    pub bytes: &'a [u8],
}

const NOASSERTION: &str = "NOASSERTION";

/// The SPDX document for `files`, built as `info` says.
pub fn spdx(info: &BuildInfo, files: &[ShippedFile]) -> Vec<u8> {
    let mut packages: BTreeMap<String, SpdxItemPackages> = BTreeMap::new();
    let mut relationships = Vec::new();
    let mut spdx_files = Vec::new();

    let rustc = package_id("rustc", &info.toolchain.release);
    packages.insert(rustc.clone(), toolchain_package(info, &rustc));
    let pause = package_id("pause", &info.version);

    for file in files {
        let file_id = format!("SPDXRef-File-pause-linux-{}", spdx_id_part(file.arch));
        spdx_files.push(shipped_file(&file_id, file));
        relationships.push(relationship(&rustc, "BUILD_TOOL_OF", &file_id));
        relationships.push(relationship(&file_id, "GENERATED_FROM", &pause));
        for krate in info.crates.get(file.arch).into_iter().flatten() {
            let id = package_id(&krate.name, &krate.version);
            packages
                .entry(id.clone())
                .or_insert_with(|| crate_package(info, krate, &id));
            if id != pause {
                relationships.push(relationship(&file_id, "STATIC_LINK", &id));
            }
        }
    }
    relationships.insert(0, relationship("SPDXRef-DOCUMENT", "DESCRIBES", &pause));

    // A namespace unique to this content and the same for every build of it.
    let mut listing = String::new();
    for file in files {
        listing.push_str(&format!("{}  {}\n", sha256_hex(file.bytes), file.name));
    }
    let namespace = format!(
        "{}/spdx/pause-{}-{}",
        info.repository.trim_end_matches('/'),
        info.version,
        sha256_hex(listing.as_bytes())
    );
    let creation = SpdxCreationInfoBuilder::default()
        // SPDX requires a creation time; with no SOURCE_DATE_EPOCH there is no time to give,
        // and the epoch stands for "none" rather than the moment of the build.
        .created(rfc3339(info.source_date_epoch.unwrap_or(0)))
        .creators(vec![format!("Tool: cargo-xtask-dist-{}", info.version)])
        .build()
        .expect("created and creators are set");
    let document: Spdx = SpdxBuilder::default()
        .spdxid("SPDXRef-DOCUMENT")
        .spdx_version("SPDX-2.3")
        .data_license("CC0-1.0")
        .name(format!("pause-{}", info.version))
        .document_namespace(namespace)
        .creation_info(creation)
        .document_describes(vec![pause])
        .packages(packages.into_values().collect::<Vec<_>>())
        .files(spdx_files)
        .relationships(relationships)
        .build()
        .expect("every required document field is set");
    canonical_json(&document)
}

fn shipped_file(id: &str, file: &ShippedFile) -> SpdxItemFiles {
    SpdxItemFilesBuilder::default()
        .spdxid(id)
        .file_name(format!("./{}", file.name))
        // SPDX 2.3 makes SHA1 mandatory for a file; SHA256 is the one worth checking.
        .checksums(vec![
            SpdxItemFilesItemChecksumsBuilder::default()
                .algorithm("SHA1")
                .checksum_value(sha1_hex(file.bytes))
                .build()
                .expect("both fields set"),
            SpdxItemFilesItemChecksumsBuilder::default()
                .algorithm("SHA256")
                .checksum_value(sha256_hex(file.bytes))
                .build()
                .expect("both fields set"),
        ])
        .file_types(vec!["BINARY".to_string()])
        // SPDX 2.3 has no size field for a file: it goes in the comment, in a fixed form.
        .comment(format!(
            "size: {} bytes; platform: {}; in the image as /pause",
            file.bytes.len(),
            file.platform
        ))
        .license_concluded(NOASSERTION)
        .copyright_text(NOASSERTION)
        .build()
        .expect("every required file field is set")
}

fn toolchain_package(info: &BuildInfo, id: &str) -> SpdxItemPackages {
    let t = &info.toolchain;
    SpdxItemPackagesBuilder::default()
        .spdxid(id)
        .name("rustc")
        .version_info(t.release.clone())
        .download_location(NOASSERTION)
        .files_analyzed(false)
        .license_concluded(NOASSERTION)
        .license_declared("MIT OR Apache-2.0")
        .copyright_text(NOASSERTION)
        .primary_package_purpose("APPLICATION")
        .comment(format!(
            "{}; commit-hash {}; LLVM {}; rust-src component sha256:{} (digest of its sha256sum listing)",
            t.rustc, t.commit, t.llvm, t.rust_src_sha256
        ))
        .build()
        .expect("every required package field is set")
}

fn crate_package(info: &BuildInfo, krate: &Crate, id: &str) -> SpdxItemPackages {
    let mut builder = SpdxItemPackagesBuilder::default();
    builder
        .spdxid(id)
        .name(krate.name.clone())
        .version_info(krate.version.clone())
        .files_analyzed(false)
        .license_concluded(NOASSERTION)
        .license_declared(spdx_license(&krate.license))
        .copyright_text(NOASSERTION)
        .primary_package_purpose("LIBRARY");
    match krate.origin {
        Origin::CratesIo => {
            builder
                .download_location(format!(
                    "https://crates.io/api/v1/crates/{}/{}/download",
                    krate.name, krate.version
                ))
                .external_refs(vec![
                    SpdxItemPackagesItemExternalRefsBuilder::default()
                        .reference_category("PACKAGE-MANAGER")
                        .reference_type("purl")
                        .reference_locator(format!("pkg:cargo/{}@{}", krate.name, krate.version))
                        .build()
                        .expect("all fields set"),
                ]);
        }
        Origin::Workspace => {
            let location = match &info.commit {
                Some(commit) => format!("git+{}@{commit}", info.repository),
                None => NOASSERTION.to_string(),
            };
            builder
                .download_location(location)
                .primary_package_purpose("APPLICATION");
        }
        Origin::RustSrc => {
            builder.download_location(NOASSERTION).source_info(format!(
                "library/ of the rust-src component of {} (sha256:{}), compiled by build-std",
                info.toolchain.rustc, info.toolchain.rust_src_sha256
            ));
        }
    }
    if let Some(checksum) = &krate.checksum {
        builder.checksums(vec![
            SpdxItemPackagesItemChecksumsBuilder::default()
                .algorithm("SHA256")
                .checksum_value(checksum.clone())
                .build()
                .expect("both fields set"),
        ]);
    }
    builder
        .build()
        .expect("every required package field is set")
}

fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn relationship(from: &str, kind: &str, to: &str) -> SpdxItemRelationships {
    SpdxItemRelationshipsBuilder::default()
        .spdx_element_id(from)
        .relationship_type(kind)
        .related_spdx_element(to)
        .build()
        .expect("all fields set")
}

/// `SPDXRef-Package-<name>-<version>` with only the characters SPDX IDs allow.
fn package_id(name: &str, version: &str) -> String {
    format!(
        "SPDXRef-Package-{}-{}",
        spdx_id_part(name),
        spdx_id_part(version)
    )
}

fn spdx_id_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Cargo still accepts the old `A/B` form; SPDX says `A OR B`.
fn spdx_license(license: &str) -> String {
    if license.is_empty() {
        NOASSERTION.to_string()
    } else {
        license.replace('/', " OR ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buildinfo::tests::build_info;
    use serde_json::Value;

    fn document(epoch: Option<u64>) -> Value {
        let files = [ShippedFile {
            arch: "amd64",
            platform: "linux/amd64".into(),
            name: "pause-linux-amd64".into(),
            bytes: b"binary",
        }];
        serde_json::from_slice(&spdx(&build_info(epoch), &files)).unwrap()
    }

    #[test]
    fn created_is_the_epoch_unless_source_date_epoch() {
        assert_eq!(
            document(None)["creationInfo"]["created"],
            "1970-01-01T00:00:00Z"
        );
        let dated = document(Some(1_700_000_000));
        assert_eq!(dated["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    }

    #[test]
    fn ids_are_valid_spdx_ids_and_every_relationship_resolves() {
        let doc = document(None);
        let mut ids: Vec<&str> = vec!["SPDXRef-DOCUMENT"];
        for list in ["packages", "files"] {
            for item in doc[list].as_array().unwrap() {
                let id = item["SPDXID"].as_str().unwrap();
                let rest = id.strip_prefix("SPDXRef-").unwrap();
                assert!(
                    rest.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
                    "{id}"
                );
                ids.push(id);
            }
        }
        for r in doc["relationships"].as_array().unwrap() {
            for end in ["spdxElementId", "relatedSpdxElement"] {
                assert!(ids.contains(&r[end].as_str().unwrap()), "{r}");
            }
        }
    }
}
