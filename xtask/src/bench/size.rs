//! Bytes on disk and over the wire: every shipped binary, the peers', and the image a runtime
//! pulls per platform.

use super::peers::Peer;
use crate::elf::ElfFacts;
use crate::{ARCHES, Arch, oci};
use anyhow::{Context, Result};
use fs_err as fs;

/// One binary's size, as stored and as gzip -9 would send it.
#[derive(Debug, Clone)]
pub struct Binary {
    pub name: String,
    pub bytes: u64,
    pub gzip: u64,
    /// Dynamically linked: its size leaves out the shared libc it loads.
    pub shared_libc: bool,
}

#[derive(Debug, Clone)]
pub struct Sizes {
    /// `pause-linux-<arch>` for every row of the architecture table, in its order.
    pub ours: Vec<(&'static Arch, Binary)>,
    /// The peers' binaries, in the bench's order.
    pub peers: Vec<Binary>,
    /// Manifest + config + layer bytes, per platform of the image.
    pub image_pulled: Vec<(&'static Arch, u64)>,
}

/// Every shipped binary and image, and the binaries of `others` (the peers but ours).
pub fn measure(others: &[Peer], image: &oci::ImageInfo) -> Result<Sizes> {
    let mut shipped = Vec::new();
    for arch in ARCHES {
        shipped.push((arch, fs::read(arch.dist_binary())?));
    }
    let ours = shipped
        .iter()
        .map(|(arch, bytes)| Ok((*arch, binary(&arch.dist_file_name(), bytes)?)))
        .collect::<Result<_>>()?;
    let peers = others
        .iter()
        .map(|peer| binary(peer.name, &fs::read(&peer.path)?))
        .collect::<Result<_>>()?;
    let image_pulled = oci::image(image, &shipped)
        .images
        .iter()
        .map(|platform| (platform.arch, platform.pulled_bytes() as u64))
        .collect();
    Ok(Sizes {
        ours,
        peers,
        image_pulled,
    })
}

fn binary(name: &str, bytes: &[u8]) -> Result<Binary> {
    let facts = ElfFacts::parse(bytes).context(name.to_string())?;
    Ok(Binary {
        name: name.to_string(),
        bytes: bytes.len() as u64,
        gzip: gzip_len(bytes),
        shared_libc: facts
            .segments
            .iter()
            .any(|s| s.p_type == object::elf::PT_INTERP),
    })
}

fn gzip_len(bytes: &[u8]) -> u64 {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, bytes).expect("writing to memory");
    gz.finish().expect("writing to memory").len() as u64
}
