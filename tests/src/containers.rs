//! Real container tooling for the image tests: the tools' versions, the image archive, an app
//! rootfs from busybox-static, commands run to their end; podman with its own storage
//! (`podman.rs`), runc with its own state (`runc.rs`), orphans held in a sandbox's PID
//! namespace (`orphans.rs`). The private containerd is in containerd.rs. Each piece lives in
//! its own temporary directory and is torn down on drop.

mod orphans;
mod podman;
mod runc;

pub use orphans::{
    HELD_ORPHANS, RELEASE_SIGNALS, assert_pid_1_of_its_namespace, held_orphans_script,
    holds_exactly_then_reaps, made_orphans, nspid,
};
pub use podman::Podman;
pub use runc::Runc;

use crate::{PATIENCE, wait_bounded};
use fs_err as fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use xtask::elf::ElfFacts;

/// The runc the README's matrix states for the host (Debian bookworm's `runc`): what runs the
/// runc sandboxes, podman's containers and containerd's.
pub const RUNC_VERSION: &str = "1.1.5";

/// The podman the README's matrix states (Debian bookworm's `podman`).
pub const PODMAN_VERSION: &str = "4.3.1";

/// The version `program --version` reports: the first word that is a number (a leading `v`
/// dropped), as runc (`runc version 1.1.5+ds1`), podman (`podman version 4.3.1`), containerd
/// (`containerd github.com/containerd/containerd 1.6.20~ds1 ...`) and runsc (`runsc version
/// 0.0~20221219.0`) print it.
pub fn reported_version(program: &Path) -> String {
    reported_version_by(program, &["--version"])
}

/// The same for a program that tells its version otherwise (`oras version`, `cosign version`).
pub fn reported_version_by(program: &Path, args: &[&str]) -> String {
    let out = stdout_of(Command::new(program).args(args));
    out.split_whitespace()
        .map(|w| {
            w.strip_prefix('v')
                .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or(w)
        })
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("{} {args:?} names no version:\n{out}", program.display()))
        .to_string()
}

/// Fails unless `program` reports version `expected`, naming both: exactly that, or with only a
/// packaging suffix after it (Debian's `+ds1` or `~ds1`; gVisor's release number `.0`), never
/// another number (1.1.15 is not 1.1.1).
pub fn assert_version(program: &Path, expected: &str) {
    assert_version_by(program, &["--version"], expected);
}

/// `assert_version` for a program that tells its version otherwise (`oras version`).
pub fn assert_version_by(program: &Path, args: &[&str], expected: &str) {
    let found = reported_version_by(program, args);
    let same = found.strip_prefix(expected).is_some_and(|rest| {
        rest.is_empty()
            || rest == ".0"
            || (rest.starts_with(['+', '~']) && rest[1..].starts_with(|c: char| c.is_alphabetic()))
    });
    assert!(
        same,
        "{}: expected version {expected}, found {found}",
        program.display()
    );
}

/// The image archive `cargo xtask dist` wrote.
pub fn image_archive() -> PathBuf {
    let path = xtask::dist_dir().join("pause-oci.tar");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask dist`",
        path.display()
    );
    path
}

/// The archive's image index for containers/image tools (skopeo, podman): `index.json` also
/// lists the attached SBOM and provenance, so the image is chosen by its tag, the version.
pub fn archive_ref() -> String {
    format!(
        "oci-archive:{}:{}",
        image_archive().display(),
        env!("CARGO_PKG_VERSION")
    )
}

/// Runs `cmd` to completion within PATIENCE and returns its output; fails on a non-zero exit.
pub fn run_ok(cmd: &mut Command) -> Output {
    let output = output_of(cmd);
    assert!(
        output.status.success(),
        "{cmd:?}: {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `cmd` to completion within PATIENCE, whatever its exit status.
pub fn output_of(cmd: &mut Command) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(crate::output_file(&out))
        .stderr(crate::output_file(&err))
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let status = wait_bounded(&mut child, PATIENCE);
    Output {
        status,
        stdout: fs::read(out).unwrap(),
        stderr: fs::read(err).unwrap(),
    }
}

pub fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(run_ok(cmd).stdout).unwrap()
}

/// A throwaway "app" root filesystem: static busybox and a link for each of its applets, and
/// a one-line web page for its httpd to serve.
pub fn busybox_rootfs(dir: &Path) -> PathBuf {
    let busybox = Path::new("/bin/busybox");
    let bytes = fs::read(busybox).unwrap_or_else(|_| {
        panic!("/bin/busybox missing: install the Debian package busybox-static")
    });
    let facts = ElfFacts::parse(&bytes).unwrap();
    assert!(
        !facts
            .segments
            .iter()
            .any(|s| s.p_type == object::elf::PT_INTERP),
        "/bin/busybox is dynamically linked: install the Debian package busybox-static"
    );
    let rootfs = dir.join("rootfs");
    for sub in ["bin", "proc", "dev", "sys", "tmp", "etc", "www"] {
        fs::create_dir_all(rootfs.join(sub)).unwrap();
    }
    fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
    let applets = stdout_of(Command::new(busybox).arg("--list"));
    for applet in applets.lines().filter(|a| *a != "busybox") {
        fs::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    fs::write(rootfs.join("www/index.html"), "hello from the app\n").unwrap();
    rootfs
}
