//! Content-addressed blobs and the canonical JSON that makes their digests stable.

use oci_spec::image::{self as oci, Descriptor, MediaType};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A content-addressed blob.
#[derive(Debug, Clone)]
pub struct Blob {
    pub media_type: MediaType,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub(crate) fn new(media_type: MediaType, bytes: Vec<u8>) -> Blob {
        Blob { media_type, bytes }
    }

    pub fn hex_digest(&self) -> String {
        sha256_hex(&self.bytes)
    }

    pub(crate) fn descriptor(&self) -> Descriptor {
        let digest: oci::Digest = format!("sha256:{}", self.hex_digest())
            .parse()
            .expect("a sha256 digest is a valid digest");
        Descriptor::new(self.media_type.clone(), self.bytes.len() as u64, digest)
    }
}

/// Compact JSON with object keys in sorted order. oci-spec keeps annotations in a HashMap,
/// whose order changes from run to run; going through serde_json's (BTreeMap-backed) Value
/// makes the bytes, and so the digests, stable.
pub fn canonical_json(value: &impl Serialize) -> Vec<u8> {
    let value = serde_json::to_value(value).expect("OCI types serialize");
    serde_json::to_vec(&value).expect("a Value serializes")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
