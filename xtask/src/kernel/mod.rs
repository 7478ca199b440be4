//! Real kernels for the binaries: fetch a Debian kernel, busybox-static and (where the host's
//! qemu cannot boot it) qemu and firmware from Debian's archive, build an initramfs, and boot it
//! under qemu-system with a bounded wait.
//!
//! Packages come through the private apt states of [`apt`] (under `target/debian/`), each
//! downloaded once per target directory; a kernel's image and device tree are cached under
//! `target/kernels/<name>/`.

pub mod apt;
mod boot;
mod deb;

pub use boot::{Boot, boot, initramfs, qemu_command};

use crate::{Arch, DebFile, Kernel, Qemu, target_dir};
use apt::{Apt, write_file};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

type Result<T> = std::result::Result<T, String>;

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
    let apt = Apt::open(kernel.suite, arch.debian)?;
    let (package, image) = {
        let _lock = apt.lock()?;
        let dir = kernels_dir().join(kernel.name);
        let (package, got) = cached_kernel(&apt, kernel, &dir)?;
        downloaded += got;
        (package, dir)
    };
    let (image, dtb) = (image.join("image"), kernel.dtb.map(|_| image.join("dtb")));
    let (busybox, got) = apt.file("busybox-static", "*bin/busybox")?;
    downloaded += got;
    let qemu = match kernel.qemu {
        Qemu::Host { program, package } => crate::tools::require(program, package)?,
        Qemu::Unpacked(file) => {
            let (path, got) = host_file(&file)?;
            downloaded += got;
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("chmod {}: {e}", path.display()))?;
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
/// The metapackage names the current version; when the archive's pool does not serve that
/// one (it answers 404 for trixie's ppc64el and s390x 6.12.117 here), older versions of the
/// same flavour still in the suite's index are tried, newest first.
fn cached_kernel(apt: &Apt, kernel: &Kernel, dir: &Path) -> Result<(String, u64)> {
    let name_file = dir.join("package");
    if let Ok(name) = fs::read_to_string(&name_file)
        && dir.join("image").is_file()
        && (kernel.dtb.is_none() || dir.join("dtb").is_file())
    {
        return Ok((name, 0));
    }
    let current = apt.depends_on(kernel.package, "linux-image-")?;
    let flavour = kernel
        .package
        .strip_prefix("linux-image-")
        .ok_or_else(|| format!("{} is not a linux-image-* metapackage", kernel.package))?;
    let mut candidates = vec![current.clone()];
    let mut older: Vec<String> = apt
        .package_names("linux-image-")?
        .into_iter()
        .filter(|name| name != &current && same_flavour(name, flavour))
        .collect();
    older.sort_by(|a, b| natural_cmp(b, a));
    candidates.extend(older);
    let mut errors = Vec::new();
    for versioned in candidates {
        let holder = format!(
            "{}{}",
            kernel.image_package,
            versioned.strip_prefix("linux-image-").unwrap_or(&versioned)
        );
        match apt.download(&holder) {
            Ok((deb, size)) => {
                let patterns: Vec<&str> = [Some(kernel.image), kernel.dtb]
                    .into_iter()
                    .flatten()
                    .collect();
                let files = deb::extract(&deb, &patterns);
                let _ = fs::remove_file(&deb);
                let files = files?;
                fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                for (name, bytes) in ["image", "dtb"].into_iter().zip(&files) {
                    write_file(&dir.join(name), bytes)?;
                }
                write_file(&name_file, holder.as_bytes())?;
                return Ok((holder, size));
            }
            Err(e) => errors.push(e),
        }
    }
    Err(format!(
        "no kernel of {} ({}, {}) could be downloaded: {}",
        kernel.package,
        kernel.suite,
        apt.arch(),
        errors.join("; ")
    ))
}

/// Whether `name` is `linux-image-<version>-<flavour>` for exactly this flavour: the part
/// between is a version (digits, dots, `+debNN`, a `-NN` ABI), not another flavour such as
/// `-cloud` or `-rt` that shares the suffix.
fn same_flavour(name: &str, flavour: &str) -> bool {
    let Some(version) = name
        .strip_prefix("linux-image-")
        .and_then(|rest| rest.strip_suffix(flavour))
        .and_then(|rest| rest.strip_suffix('-'))
    else {
        return false;
    };
    version.starts_with(|c: char| c.is_ascii_digit())
        && !version
            .split('-')
            .skip(1)
            .any(|part| part.starts_with(|c: char| !c.is_ascii_digit()))
        && !version.ends_with("-dbg")
}

/// Compares digit runs as numbers (`6.12.117` after `6.12.99`).
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits > 0 {
                out.push((rest[..digits].parse().unwrap_or(u64::MAX), String::new()));
                rest = &rest[digits..];
            } else {
                let text = rest
                    .find(|c: char| c.is_ascii_digit())
                    .unwrap_or(rest.len());
                out.push((0, rest[..text].to_string()));
                rest = &rest[text..];
            }
        }
        out
    }
    chunks(a).cmp(&chunks(b))
}

/// A file of a package for the host's architecture (or for all), from the cache or the archive.
fn host_file(file: &DebFile) -> Result<(PathBuf, u64)> {
    let arch = host_debian_arch()?;
    Apt::open(file.suite, &arch)?.file(file.package, file.path)
}

/// The host's Debian architecture, as dpkg names it.
fn host_debian_arch() -> Result<String> {
    let out = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .map_err(|e| format!("dpkg --print-architecture: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavours() {
        assert!(same_flavour("linux-image-6.12.117+deb13-arm64", "arm64"));
        assert!(same_flavour("linux-image-6.1.0-50-686", "686"));
        assert!(!same_flavour(
            "linux-image-6.12.117+deb13-cloud-arm64",
            "arm64"
        ));
        assert!(!same_flavour(
            "linux-image-6.12.117+deb13-arm64-16k",
            "arm64"
        ));
        assert!(!same_flavour("linux-image-6.12.117+deb13-686-pae", "686"));
        assert!(!same_flavour("linux-image-arm64", "arm64"));
    }

    #[test]
    fn versions_newest_first() {
        let mut v = ["6.12.99+deb13", "6.12.117+deb13", "6.12.107+deb13"];
        v.sort_by(|a, b| natural_cmp(b, a));
        assert_eq!(v, ["6.12.117+deb13", "6.12.107+deb13", "6.12.99+deb13"]);
    }
}
