//! Tools from Debian trixie (cosign, oras, distribution, containerd 1.7, runc 1.1.15, runsc)
//! on a bookworm machine: downloaded as `.deb` files through [`DebianArchive`]'s private apt
//! state for trixie (the host's sources stay bookworm-only, see platform notes; the real
//! kernels' fetcher uses the same states) and unpacked under target/debian/, once. Tests running
//! at the same time share one download through the state's lock.

use crate::debian_archive::DebianArchive;
use fs_err as fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// patchelf is bounded too, as everything the suite runs.
const PATCHELF_PATIENCE: Duration = Duration::from_secs(300);

/// The suite the packages come from.
const SUITE: &str = "trixie";

/// trixie's runc, as the README's matrix states it.
pub const TRIXIE_RUNC_VERSION: &str = "1.1.15";

/// trixie's oras, cosign and distribution (`docker-registry`), as the README states them.
pub const TRIXIE_ORAS_VERSION: &str = "1.2.0";
pub const TRIXIE_COSIGN_VERSION: &str = "2.5.0";
pub const TRIXIE_DISTRIBUTION_VERSION: &str = "2.8.3";

/// Where `package` from trixie is unpacked (its files under `usr/...`), fetching it first if
/// this machine has not yet: `target/debian/trixie-<arch>/root/<package>/`.
pub fn trixie(package: &str) -> PathBuf {
    let arch = crate::Arch::host()
        .expect("the host is a shipped architecture")
        .debian;
    DebianArchive::open(SUITE, arch)
        .and_then(|archive| archive.unpacked(package))
        .map(|(root, _downloaded)| root)
        .unwrap_or_else(|e| panic!("{package} from {SUITE}: {e:#}"))
}

/// The unpacked trixie `binary` (a path under the package root, as `usr/bin/oras`).
pub fn trixie_tool(package: &str, binary: &str) -> PathBuf {
    let path = trixie(package).join(binary);
    assert!(path.is_file(), "{package} from {SUITE} has no {binary}");
    path
}

/// The directory of trixie's `oras`, once it reports TRIXIE_ORAS_VERSION.
pub fn trixie_oras_dir() -> PathBuf {
    let oras = trixie_tool("oras", "usr/bin/oras");
    crate::containers::assert_version_by(&oras, &["version"], TRIXIE_ORAS_VERSION);
    oras.parent().unwrap().to_path_buf()
}

/// The directory of trixie's `cosign`, once it is TRIXIE_COSIGN_VERSION. Debian's build tells
/// no version of its own (`cosign version` says `GitVersion: devel`), so the package's record
/// is read: the top entry of its Debian changelog, `cosign (2.5.0-2) unstable; ...`.
pub fn trixie_cosign_dir() -> PathBuf {
    let cosign = trixie_tool("cosign", "usr/bin/cosign");
    let changelog = trixie("cosign").join("usr/share/doc/cosign/changelog.Debian.gz");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(fs::File::open(&changelog).unwrap()),
        &mut text,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", changelog.display()));
    let top = text.lines().next().unwrap_or_default();
    let found = top
        .strip_prefix("cosign (")
        .and_then(|rest| rest.split_once(')'))
        .map(|(version, _)| version)
        .unwrap_or_else(|| panic!("{}: no version in {top:?}", changelog.display()));
    // Debian's revision (`-2`) is the packaging's, not cosign's.
    let upstream = found
        .rsplit_once('-')
        .map_or(found, |(upstream, _)| upstream);
    assert_eq!(
        upstream,
        TRIXIE_COSIGN_VERSION,
        "{}: expected version {TRIXIE_COSIGN_VERSION}, found {found}",
        cosign.display()
    );
    cosign.parent().unwrap().to_path_buf()
}

fn run(cmd: &mut Command) {
    crate::run_bounded(cmd, PATCHELF_PATIENCE);
}

/// `dir` prepended to PATH, for running a README command whose tool lives in `dir`.
pub fn path_with(dirs: &[&Path]) -> std::ffi::OsString {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let mut all: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    all.extend(std::env::split_paths(&current));
    std::env::join_paths(all).unwrap()
}

/// trixie's runc 1.1.15 (fails unless it reports TRIXIE_RUNC_VERSION). It is linked against
/// glibc 2.38 or later, newer than bookworm's, so it is given trixie's own loader and libraries
/// (libc6, libseccomp2) by patchelf: the binary keeps running as itself, which runc needs to
/// re-exec /proc/self/exe as its init.
pub fn trixie_runc() -> PathBuf {
    // The loader's name and the multiarch directory below are amd64's.
    let host = crate::Arch::host().map(|a| a.name);
    assert_eq!(
        host,
        Some("amd64"),
        "trixie's runc is set up for amd64 hosts only"
    );
    let runc = trixie_tool("runc", "usr/sbin/runc");
    let libc = trixie("libc6").join("usr/lib/x86_64-linux-gnu");
    let seccomp = trixie("libseccomp2").join("usr/lib/x86_64-linux-gnu");
    let patched = runc.parent().unwrap().join("runc-trixie-libs");
    if !patched.exists() {
        let patchelf = crate::require_tool("patchelf", "patchelf");
        let partial = patched.with_extension("partial");
        fs::copy(&runc, &partial).unwrap();
        let rpath = std::env::join_paths([&libc, &seccomp]).unwrap();
        run(Command::new(patchelf)
            .arg("--set-interpreter")
            .arg(libc.join("ld-linux-x86-64.so.2"))
            .arg("--set-rpath")
            .arg(rpath)
            .arg(&partial));
        fs::rename(&partial, &patched).unwrap();
    }
    crate::containers::assert_version(&patched, TRIXIE_RUNC_VERSION);
    patched
}
