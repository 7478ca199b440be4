//! Tools from Debian trixie (cosign, oras, distribution, containerd 1.7, runc 1.1.15, runsc)
//! on a bookworm machine: downloaded as `.deb` files through a private apt state (the host's
//! sources stay bookworm-only, see platform notes) and unpacked under target/debian/, once.
//! Tests running at the same time share one download through a lock file.

use std::fs;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A download is bounded too: apt's own time-outs end a dead mirror well before this.
const DOWNLOAD_PATIENCE: Duration = Duration::from_secs(300);

/// The suite the packages come from.
const SUITE: &str = "trixie";

/// Where `package` from trixie is unpacked (its files under `usr/...`), fetching it first if
/// this machine has not yet. The apt state and the `.deb`s stay cached under target/debian/.
pub fn trixie(package: &str) -> PathBuf {
    let arch = crate::Arch::host()
        .expect("the host is a shipped architecture")
        .debian;
    let base = xtask::target_dir()
        .join("debian")
        .join(format!("{SUITE}-{arch}"));
    let root = base.join("root").join(package);
    let stamp = base.join(format!("{package}.unpacked"));
    fs::create_dir_all(&base).unwrap();
    let lock = fs::File::create(base.join("lock")).unwrap();
    // SAFETY: flock(2) on a file we hold open; released when `lock` is dropped.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    if stamp.exists() {
        return root;
    }
    let state = base.join("apt");
    for dir in ["lists/partial", "cache/archives/partial", "debs"] {
        fs::create_dir_all(state.join(dir)).unwrap();
    }
    fs::write(
        state.join("sources.list"),
        format!("deb [arch={arch}] http://deb.debian.org/debian {SUITE} main\n"),
    )
    .unwrap();
    let options = [
        format!(
            "Dir::Etc::SourceList={}",
            state.join("sources.list").display()
        ),
        "Dir::Etc::SourceParts=/dev/null".into(),
        format!("Dir::State::Lists={}", state.join("lists").display()),
        format!("Dir::Cache={}", state.join("cache").display()),
        "Dir::State::status=/dev/null".into(),
        format!("APT::Architectures::={arch}"),
        format!("APT::Architecture={arch}"),
        // Downloads land in a directory root owns; apt's sandbox user could not write there.
        "APT::Sandbox::User=root".into(),
    ];
    let apt = |tool: &str| {
        let mut cmd = Command::new(tool);
        for option in &options {
            cmd.arg("-o").arg(option);
        }
        cmd
    };
    if !state.join("updated").exists() {
        run(apt("apt-get").args(["-qq", "update"]));
        fs::write(state.join("updated"), "").unwrap();
    }
    let debs = state.join("debs");
    let download = || {
        let mut child = apt("apt-get")
            .current_dir(&debs)
            .args(["-qq", "download", package])
            .stdin(Stdio::null())
            .spawn()
            .expect("apt-get");
        crate::wait_bounded(&mut child, DOWNLOAD_PATIENCE).success()
    };
    // Lists cached by an earlier run can name a version the mirror has since replaced
    // (a point release): refresh them once and try again.
    if !download() {
        run(apt("apt-get").args(["-qq", "update"]));
        assert!(download(), "apt-get download {package} from {SUITE} failed");
    }
    let deb = fs::read_dir(&debs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{package}_"))
        })
        .unwrap_or_else(|| panic!("apt-get download {package} left no .deb"));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).unwrap();
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    fs::write(&stamp, deb.file_name().unwrap().as_encoded_bytes()).unwrap();
    root
}

/// The unpacked trixie `binary` (a path under the package root, as `usr/bin/oras`).
pub fn trixie_tool(package: &str, binary: &str) -> PathBuf {
    let path = trixie(package).join(binary);
    assert!(path.is_file(), "{package} from {SUITE} has no {binary}");
    path
}

fn run(cmd: &mut Command) {
    let mut child = cmd
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let status = crate::wait_bounded(&mut child, DOWNLOAD_PATIENCE);
    assert!(status.success(), "{cmd:?}: {status}");
}

/// `dir` prepended to PATH, for running a README command whose tool lives in `dir`.
pub fn path_with(dirs: &[&Path]) -> std::ffi::OsString {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let mut all: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    all.extend(std::env::split_paths(&current));
    std::env::join_paths(all).unwrap()
}

/// trixie's runc 1.1.15. It is linked against glibc 2.38 or later, newer than bookworm's, so it
/// is given trixie's own loader and libraries (libc6, libseccomp2) by patchelf: the binary
/// keeps running as itself, which runc needs to re-exec /proc/self/exe as its init.
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
    patched
}
