//! The multi-arch image as an OCI image layout archive (target/dist/pause-oci.tar), written
//! without any container engine and byte-for-byte reproducible.
//!
//! Layout: `index.json` names one image index (tagged with the version) which lists one image
//! manifest per platform; each manifest has a config and one gzip layer holding only `/pause`.
//! With a single entry in `index.json`, tools that take `oci-archive:FILE` without a tag pick
//! the index and then the platform they run on.

mod artifact;
mod blob;

pub use artifact::Attachment;
pub use blob::{Blob, canonical_json, sha256_hex};

use crate::Arch;
use artifact::EMPTY_JSON;
use flate2::{Compression, GzBuilder};
use oci_spec::image::{
    self as oci, ANNOTATION_CREATED, ANNOTATION_DESCRIPTION, ANNOTATION_LICENSES,
    ANNOTATION_REF_NAME, ANNOTATION_SOURCE, ANNOTATION_TITLE, ANNOTATION_VERSION, MediaType,
};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, UNIX_EPOCH};

/// What the image says about itself, from the pause package's Cargo.toml.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    pub version: String,
    pub title: String,
    pub description: String,
    pub source: String,
    pub licenses: String,
    /// SOURCE_DATE_EPOCH, when set: the only time that goes into the image.
    pub source_date_epoch: Option<u64>,
}

/// One platform's image: its manifest and the two blobs it names.
#[derive(Debug, Clone)]
pub struct PlatformImage {
    pub arch: &'static Arch,
    pub manifest: Blob,
    pub config: Blob,
    pub layer: Blob,
}

impl PlatformImage {
    /// Bytes a runtime pulls for this platform (the budget covers these three).
    pub fn pulled_bytes(&self) -> usize {
        self.manifest.bytes.len() + self.config.bytes.len() + self.layer.bytes.len()
    }
}

/// The multi-arch image: one image per platform and the index that lists them.
pub struct Image {
    pub images: Vec<PlatformImage>,
    pub index: Blob,
}

/// The archive and what went into it.
pub struct Archive {
    pub tar: Vec<u8>,
    pub images: Vec<PlatformImage>,
    pub index: Blob,
    /// The OCI 1.1 artifacts whose subject is the index (SBOM, provenance): their manifests.
    pub referrers: Vec<Blob>,
}

/// The image of each architecture's shipped binary, and the index over them.
pub fn image(info: &ImageInfo, binaries: &[(&'static Arch, Vec<u8>)]) -> Image {
    let mtime = info.source_date_epoch.unwrap_or(0);
    let images: Vec<PlatformImage> = binaries
        .iter()
        .map(|(arch, binary)| platform_image(info, arch, binary, mtime))
        .collect();

    let manifests = images
        .iter()
        .map(|image| {
            let mut descriptor = image.manifest.descriptor();
            descriptor.set_platform(Some(platform(image.arch)));
            descriptor
        })
        .collect::<Vec<_>>();
    let index = oci::ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .annotations(image_annotations(info))
        .build()
        .expect("every required index field is set");
    let index = Blob::new(MediaType::ImageIndex, canonical_json(&index));
    Image { images, index }
}

/// The image layout archive of `image`, with `attachments` attached to its index.
pub fn archive(info: &ImageInfo, image: Image, attachments: Vec<Attachment>) -> Archive {
    let mtime = info.source_date_epoch.unwrap_or(0);
    let Image { images, index } = image;
    // Referrers live beside the tagged index in index.json, untagged, as `oras attach` leaves
    // them: layout readers (oras, skopeo with a tag) find them there and registries get them
    // with `oras cp --recursive`. A runtime pulling a platform never sees them: the image
    // index does not list them.
    let empty = Blob::new(MediaType::EmptyJSON, EMPTY_JSON.to_vec());
    let (referrers, documents): (Vec<Blob>, Vec<Blob>) = attachments
        .into_iter()
        .map(|attachment| artifact::artifact(&index, &empty, attachment))
        .unzip();

    let mut top = index.descriptor();
    top.set_annotations(Some(HashMap::from([(
        ANNOTATION_REF_NAME.to_string(),
        info.version.clone(),
    )])));
    let mut entries = vec![top];
    for (referrer, document) in referrers.iter().zip(&documents) {
        let mut descriptor = referrer.descriptor();
        descriptor.set_artifact_type(Some(document.media_type.clone()));
        entries.push(descriptor);
    }
    let top = oci::ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(entries)
        .build()
        .expect("every required index field is set");
    let layout = oci::OciLayoutBuilder::default()
        .image_layout_version("1.0.0")
        .build()
        .expect("the layout version is set");

    let mut blobs: BTreeMap<String, &[u8]> = BTreeMap::new();
    blobs.insert(index.hex_digest(), &index.bytes);
    for blob in referrers.iter().chain(&documents) {
        blobs.insert(blob.hex_digest(), &blob.bytes);
    }
    if !referrers.is_empty() {
        blobs.insert(empty.hex_digest(), &empty.bytes);
    }
    for image in &images {
        for blob in [&image.manifest, &image.config, &image.layer] {
            blobs.insert(blob.hex_digest(), &blob.bytes);
        }
    }
    let mut tar = tar::Builder::new(Vec::new());
    append_dir(&mut tar, "blobs/", mtime);
    append_dir(&mut tar, "blobs/sha256/", mtime);
    for (digest, bytes) in &blobs {
        append_file(
            &mut tar,
            &format!("blobs/sha256/{digest}"),
            bytes,
            0o644,
            mtime,
        );
    }
    append_file(&mut tar, "index.json", &canonical_json(&top), 0o644, mtime);
    append_file(
        &mut tar,
        "oci-layout",
        &canonical_json(&layout),
        0o644,
        mtime,
    );
    let tar = tar.into_inner().expect("writing to memory cannot fail");
    Archive {
        tar,
        images,
        index,
        referrers,
    }
}

fn platform_image(
    info: &ImageInfo,
    arch: &'static Arch,
    binary: &[u8],
    mtime: u64,
) -> PlatformImage {
    // The layer: a tar with the one file, owned by root, mode 0755, fixed time, no user or
    // group names; gzip with no name and time 0, so the bytes depend on the binary alone.
    let mut layer_tar = tar::Builder::new(Vec::new());
    append_file(&mut layer_tar, "pause", binary, 0o755, mtime);
    let layer_tar = layer_tar
        .into_inner()
        .expect("writing to memory cannot fail");
    let mut gz = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    std::io::Write::write_all(&mut gz, &layer_tar).expect("writing to memory cannot fail");
    let layer = Blob::new(MediaType::ImageLayerGzip, gz.finish().expect("in memory"));

    let runtime_config = oci::ConfigBuilder::default()
        // 65535 (nobody in most distros' numbering) as upstream's image: no root needed.
        .user("65535:65535".to_string())
        .entrypoint(vec!["/pause".to_string()])
        .build()
        .expect("all config fields are optional");
    let rootfs = oci::RootFsBuilder::default()
        .typ("layers")
        .diff_ids(vec![format!("sha256:{}", sha256_hex(&layer_tar))])
        .build()
        .expect("type and diff_ids are set");
    let mut config = oci::ImageConfigurationBuilder::default()
        .architecture(oci::Arch::from(arch.goarch))
        .os(oci::Os::Linux)
        .config(runtime_config)
        .rootfs(rootfs)
        .build()
        .expect("architecture, os and rootfs are set");
    config.set_variant(arch.variant.map(str::to_string));
    config.set_created(info.source_date_epoch.map(rfc3339));
    let config = Blob::new(MediaType::ImageConfig, canonical_json(&config));

    let manifest = oci::ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config.descriptor())
        .layers(vec![layer.descriptor()])
        .build()
        .expect("config and layers are set");
    let manifest = Blob::new(MediaType::ImageManifest, canonical_json(&manifest));
    PlatformImage {
        arch,
        manifest,
        config,
        layer,
    }
}

fn platform(arch: &Arch) -> oci::Platform {
    let mut platform = oci::PlatformBuilder::default()
        .architecture(oci::Arch::from(arch.goarch))
        .os(oci::Os::Linux)
        .build()
        .expect("architecture and os are set");
    platform.set_variant(arch.variant.map(str::to_string));
    platform
}

fn image_annotations(info: &ImageInfo) -> HashMap<String, String> {
    let mut annotations = HashMap::from([
        (ANNOTATION_VERSION.to_string(), info.version.clone()),
        (ANNOTATION_TITLE.to_string(), info.title.clone()),
        (ANNOTATION_DESCRIPTION.to_string(), info.description.clone()),
        (ANNOTATION_SOURCE.to_string(), info.source.clone()),
        (ANNOTATION_LICENSES.to_string(), info.licenses.clone()),
    ]);
    if let Some(epoch) = info.source_date_epoch {
        annotations.insert(ANNOTATION_CREATED.to_string(), rfc3339(epoch));
    }
    annotations
}

pub fn rfc3339(epoch: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(epoch)).to_string()
}

fn header(path: &str, size: u64, mode: u32, mtime: u64, kind: tar::EntryType) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header
        .set_path(path)
        .expect("short ASCII paths fit a ustar header");
    header.set_size(size);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    header.set_entry_type(kind);
    header.set_cksum();
    header
}

fn append_file(tar: &mut tar::Builder<Vec<u8>>, path: &str, bytes: &[u8], mode: u32, mtime: u64) {
    let header = header(
        path,
        bytes.len() as u64,
        mode,
        mtime,
        tar::EntryType::Regular,
    );
    tar.append(&header, bytes)
        .expect("writing to memory cannot fail");
}

fn append_dir(tar: &mut tar::Builder<Vec<u8>>, path: &str, mtime: u64) {
    let header = header(path, 0, 0o755, mtime, tar::EntryType::Directory);
    tar.append(&header, std::io::empty())
        .expect("writing to memory cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ARCHES;

    fn info(epoch: Option<u64>) -> ImageInfo {
        ImageInfo {
            version: "1.2.3".into(),
            title: "pause".into(),
            description: "d".into(),
            source: "s".into(),
            licenses: "Apache-2.0".into(),
            source_date_epoch: epoch,
        }
    }

    fn binaries() -> Vec<(&'static Arch, Vec<u8>)> {
        ARCHES
            .iter()
            .map(|a| (a, a.name.as_bytes().repeat(50)))
            .collect()
    }

    fn plain(info: &ImageInfo) -> Archive {
        archive(info, image(info, &binaries()), Vec::new())
    }

    #[test]
    fn same_input_same_bytes() {
        let a = plain(&info(None));
        let b = plain(&info(None));
        assert!(a.tar == b.tar);
    }

    #[test]
    fn attachments_leave_the_image_index_alone() {
        let plain = plain(&info(None));
        let image = image(&info(None), &binaries());
        let attachment = Attachment {
            artifact_type: "application/x-test".into(),
            bytes: image.index.hex_digest().into_bytes(),
            title: "t".into(),
            annotations: HashMap::new(),
        };
        let attached = archive(&info(None), image, vec![attachment]);
        assert!(plain.index.bytes == attached.index.bytes);
        assert_eq!(attached.referrers.len(), 1);
        let manifest: serde_json::Value =
            serde_json::from_slice(&attached.referrers[0].bytes).unwrap();
        let subject = format!("sha256:{}", plain.index.hex_digest());
        assert_eq!(manifest["subject"]["digest"], subject);
        assert_eq!(manifest["artifactType"], "application/x-test");
        assert!(manifest.get("annotations").is_none(), "{manifest}");
    }

    #[test]
    fn no_time_without_source_date_epoch() {
        let archive = plain(&info(None));
        for image in &archive.images {
            let config: serde_json::Value = serde_json::from_slice(&image.config.bytes).unwrap();
            assert!(config.get("created").is_none(), "{config}");
        }
        let index: serde_json::Value = serde_json::from_slice(&archive.index.bytes).unwrap();
        assert!(index["annotations"].get(ANNOTATION_CREATED).is_none());
    }

    #[test]
    fn source_date_epoch_sets_created_and_mtimes() {
        let archive = plain(&info(Some(1_700_000_000)));
        for image in &archive.images {
            let config: serde_json::Value = serde_json::from_slice(&image.config.bytes).unwrap();
            assert_eq!(config["created"], "2023-11-14T22:13:20Z");
        }
        let index: serde_json::Value = serde_json::from_slice(&archive.index.bytes).unwrap();
        assert_eq!(
            index["annotations"][ANNOTATION_CREATED],
            "2023-11-14T22:13:20Z"
        );
        let mut outer = tar::Archive::new(&archive.tar[..]);
        for entry in outer.entries().unwrap() {
            assert_eq!(entry.unwrap().header().mtime().unwrap(), 1_700_000_000);
        }
    }
}
