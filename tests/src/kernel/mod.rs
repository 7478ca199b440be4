//! Real kernels for the binaries: fetch a Debian kernel, busybox-static and (where the host's
//! qemu cannot boot it) qemu and firmware from Debian's archive, build an initramfs, and boot it
//! under qemu-system with a bounded wait.
//!
//! Packages come through [`DebianArchive`]'s private apt states (under `target/debian/`), each
//! downloaded once per target directory; a kernel's image and device tree are cached under
//! `target/kernels/<name>/`.

mod boot;

pub use boot::{Boot, boot, initramfs, qemu_command};

use crate::debian_archive::{DebianArchive, extract, write_file};
use anyhow::{Result, anyhow};
use fs_err as fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use xtask::{Arch, DebFile, Kernel, Qemu, target_dir};

/// What a kernel boots with, all of it on disk.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The versioned package the image came from (`linux-image-6.12.117+deb13-arm64`).
    pub package: String,
    pub image: PathBuf,
    /// The device tree, where the kernel's machine needs one.
    pub dtb: Option<PathBuf>,
    pub busybox: PathBuf,
    pub qemu: PathBuf,
    pub firmware: Option<PathBuf>,
    /// Bytes downloaded by this call (0 when everything was cached).
    pub downloaded: u64,
}

/// Fetches everything `kernel` (one of `arch`'s) needs, from the cache or Debian's archive.
/// Errors name the package and suite that could not be had.
pub fn fetch(arch: &Arch, kernel: &Kernel) -> Result<Fetched> {
    let mut downloaded = 0;
    let archive = DebianArchive::open(kernel.suite, arch.debian)?;
    let (package, image) = {
        let _lock = archive.lock()?;
        let dir = kernels_dir().join(kernel.name);
        let (package, got) = cached_kernel(&archive, kernel, &dir)?;
        downloaded += got;
        (package, dir)
    };
    let (image, dtb) = (image.join("image"), kernel.dtb.map(|_| image.join("dtb")));
    let (busybox, got) = archive.file("busybox-static", "*bin/busybox")?;
    downloaded += got;
    let qemu = match kernel.qemu {
        Qemu::Host { program, package } => xtask::tools::require(program, package)?,
        Qemu::Unpacked(file) => {
            let (path, got) = host_file(&file)?;
            downloaded += got;
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            path
        }
    };
    let firmware = match kernel.firmware {
        Some(file) => {
            let (path, got) = host_file(&file)?;
            downloaded += got;
            Some(path)
        }
        None => None,
    };
    Ok(Fetched {
        package,
        image,
        dtb,
        busybox,
        qemu,
        firmware,
        downloaded,
    })
}

/// `target/kernels`.
pub fn kernels_dir() -> PathBuf {
    target_dir().join("kernels")
}

/// The kernel image in `dir` (and the name of its package), downloading it first if need be.
/// Exactly the release the table pins, never another: when the suite no longer serves it, the
/// error names it and the version the flavour's metapackage depends on now, so that the row
/// and the README change together rather than a test silently booting something else.
fn cached_kernel(archive: &DebianArchive, kernel: &Kernel, dir: &Path) -> Result<(String, u64)> {
    let versioned = format!("{}{}", kernel.image_package, kernel.release);
    let name_file = dir.join("package");
    if fs::read_to_string(&name_file).is_ok_and(|name| name == versioned)
        && dir.join("image").is_file()
        && (kernel.dtb.is_none() || dir.join("dtb").is_file())
    {
        return Ok((versioned, 0));
    }
    let (deb, size) = archive.download(&versioned).map_err(|e| {
        let now = archive
            .depends_on(kernel.package, "linux-image-")
            .unwrap_or_else(|e| format!("unknown ({e:#})"));
        anyhow!(
            "{versioned} ({}, {}), the kernel xtask::ARCHES pins for {}, cannot be downloaded: \
             {e:#}; {} now depends on {now}: move the row and the README to a release the \
             suite serves",
            kernel.suite,
            archive.arch(),
            kernel.name,
            kernel.package
        )
    })?;
    let patterns: Vec<&str> = [Some(kernel.image), kernel.dtb]
        .into_iter()
        .flatten()
        .collect();
    let files = extract(&deb, &patterns);
    let _ = fs::remove_file(&deb);
    let files = files?;
    fs::create_dir_all(dir)?;
    for (name, bytes) in ["image", "dtb"].into_iter().zip(&files) {
        write_file(&dir.join(name), bytes)?;
    }
    write_file(&name_file, versioned.as_bytes())?;
    Ok((versioned, size))
}

/// A file of a package for the host's architecture (or for all), from the cache or the archive.
fn host_file(file: &DebFile) -> Result<(PathBuf, u64)> {
    let arch = host_debian_arch()?;
    DebianArchive::open(file.suite, &arch)?.file(file.package, file.path)
}

/// The host's Debian architecture, as dpkg names it.
fn host_debian_arch() -> Result<String> {
    let out = xtask::command::output(Command::new("dpkg").arg("--print-architecture"))?;
    Ok(out.trim().to_string())
}
