//! Documents attached to the image index as OCI 1.1 artifacts (image-spec 1.1 "artifacts
//! guidance"): a manifest with `artifactType`, the empty config, the document as its one layer
//! and the index as `subject`.

use super::blob::{Blob, canonical_json};
use oci_spec::image::{self as oci, ANNOTATION_TITLE, MediaType};
use std::collections::HashMap;

/// A document to attach to the image index as an OCI 1.1 artifact: a manifest with
/// `artifactType`, the empty config, the document as its one layer, and the index as subject.
pub struct Attachment {
    pub artifact_type: String,
    pub bytes: Vec<u8>,
    /// The document's file name, on its layer: what `oras pull` saves it as.
    pub title: String,
    /// The artifact manifest's own annotations.
    pub annotations: HashMap<String, String>,
}

/// The empty JSON config of OCI 1.1 artifacts (image-spec `application/vnd.oci.empty.v1+json`).
pub(crate) const EMPTY_JSON: &[u8] = b"{}";

/// An attachment as an OCI 1.1 artifact of `subject`: its manifest and the document blob.
pub(crate) fn artifact(subject: &Blob, empty: &Blob, attachment: Attachment) -> (Blob, Blob) {
    let mut config = empty.descriptor();
    config.set_data(Some("e30=".to_string())); // base64 of `{}`: no fetch needed
    let artifact_type = MediaType::Other(attachment.artifact_type);
    let document = Blob::new(artifact_type.clone(), attachment.bytes);
    let mut layer = document.descriptor();
    layer.set_annotations(Some(HashMap::from([(
        ANNOTATION_TITLE.to_string(),
        attachment.title,
    )])));
    let mut manifest = oci::ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .artifact_type(artifact_type)
        .config(config)
        .layers(vec![layer])
        .subject(subject.descriptor())
        .build()
        .expect("config, layers and subject are set");
    let annotations = attachment.annotations;
    manifest.set_annotations((!annotations.is_empty()).then_some(annotations));
    let manifest = Blob::new(MediaType::ImageManifest, canonical_json(&manifest));
    (manifest, document)
}
