//! Everything `cargo xtask dist` writes beside the binaries, from them and the build facts: the
//! image archive with the SBOM and the provenance attached to its index, the two documents on
//! their own, and the runtime snippets pinning the index digest.

use crate::buildinfo::BuildInfo;
use crate::oci::{self, Archive, Attachment, ImageInfo};
use crate::{Arch, pins, provenance, sbom};
use std::collections::HashMap;

/// The release: the archive, and every file to write under target/dist (relative path, bytes).
pub struct Release {
    pub archive: Archive,
    pub files: Vec<(String, Vec<u8>)>,
}

pub fn release(
    info: &ImageInfo,
    build: &BuildInfo,
    binaries: &[(&'static Arch, Vec<u8>)],
) -> Release {
    let shipped: Vec<sbom::ShippedFile> = binaries
        .iter()
        .map(|(arch, bytes)| sbom::ShippedFile {
            arch: arch.name,
            platform: arch.platform(),
            name: arch.dist_file_name(),
            bytes,
        })
        .collect();
    let spdx = sbom::spdx(build, &shipped);
    let image = oci::image(info, binaries);
    // The provenance names the index digest, so it is made once the index is.
    let named: Vec<(String, &[u8])> = shipped.iter().map(|f| (f.name.clone(), f.bytes)).collect();
    let index_name = format!("pause:{}", info.version);
    let statement = provenance::statement(build, &index_name, &image.index.hex_digest(), &named);
    let mut provenance_annotations = annotations(info);
    provenance_annotations.insert(
        "in-toto.io/predicate-type".to_string(),
        provenance::PREDICATE_TYPE.to_string(),
    );
    let attachments = vec![
        Attachment {
            artifact_type: sbom::MEDIA_TYPE.to_string(),
            bytes: spdx.clone(),
            title: "pause.spdx.json".to_string(),
            annotations: annotations(info),
        },
        Attachment {
            artifact_type: provenance::MEDIA_TYPE.to_string(),
            bytes: statement.clone(),
            title: "pause.provenance.json".to_string(),
            annotations: provenance_annotations,
        },
    ];
    let archive = oci::archive(info, image, attachments);
    let mut files = vec![
        ("pause-oci.tar".to_string(), archive.tar.clone()),
        ("pause.spdx.json".to_string(), spdx),
        ("pause.provenance.json".to_string(), statement),
    ];
    for snippet in pins::snippets(&archive.index.hex_digest(), &info.version) {
        files.push((format!("pins/{}", snippet.file), snippet.text.into_bytes()));
    }
    Release { archive, files }
}

/// An attachment's creation time, only when SOURCE_DATE_EPOCH gives one.
fn annotations(info: &ImageInfo) -> HashMap<String, String> {
    let mut annotations = HashMap::new();
    if let Some(epoch) = info.source_date_epoch {
        annotations.insert(
            oci_spec::image::ANNOTATION_CREATED.to_string(),
            oci::rfc3339(epoch),
        );
    }
    annotations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ARCHES;
    use crate::buildinfo::tests::build_info;

    #[test]
    fn provenance_names_the_index_it_is_attached_to() {
        let info = ImageInfo {
            version: "1.0.0".into(),
            title: "pause".into(),
            description: "d".into(),
            source: "s".into(),
            licenses: "Apache-2.0".into(),
            source_date_epoch: None,
        };
        let binaries = [(&ARCHES[0], b"binary".to_vec())];
        let release = release(&info, &build_info(None), &binaries);
        let file = |name: &str| &release.files.iter().find(|(n, _)| n == name).unwrap().1;
        let statement: serde_json::Value =
            serde_json::from_slice(file("pause.provenance.json")).unwrap();
        let index = release.archive.index.hex_digest();
        assert_eq!(statement["subject"][0]["digest"]["sha256"], index);
        assert_eq!(release.archive.referrers.len(), 2);
        assert!(file("pins/containerd-1.toml").starts_with(b"# containerd"));
        assert!(file("pause-oci.tar") == &release.archive.tar);
    }
}
