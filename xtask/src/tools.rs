//! Finding the programs the suite, the bench and the build run, and naming the Debian package
//! that provides one when it is missing: one place, so every missing tool reads the same.

use crate::command::output;
use anyhow::{Context, Result};
use std::path::PathBuf;

/// The absolute path of `tool`: on PATH, or in the sbin directories a non-login root shell
/// may leave off it.
pub fn find(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
}

/// Programs the test suite runs, with the Debian package of each (beyond what the
/// architecture table adds: every architecture's qemu-user emulator, each kernel's
/// qemu-system).
pub const SUITE: &[(&str, &str)] = &[
    // PID namespaces, and entering them to make orphans.
    ("unshare", "util-linux"),
    ("nsenter", "util-linux"),
    // The reproducibility test lists the sources.
    ("git", "git"),
    // The CRI client's build.
    ("protoc", "protobuf-compiler"),
    // A static shell and tools for the throwaway "app" containers.
    ("busybox", "busybox-static"),
    // The image tests' real tools; runsc is gVisor in the runtime matrix.
    ("runc", "runc"),
    ("podman", "podman"),
    ("skopeo", "skopeo"),
    ("umoci", "umoci"),
    ("containerd", "containerd"),
    ("ctr", "containerd"),
    ("runsc", "runsc"),
    // Gives trixie's runc trixie's glibc.
    ("patchelf", "patchelf"),
    // The tests fetch trixie's tools (oras, cosign, distribution, containerd 1.7, runc 1.1.15,
    // a newer runsc), the kernels, busybox-static and loong64's qemu 10 and firmware as .debs
    // through a private apt state, and unpack them.
    ("apt-get", "apt"),
    ("dpkg-deb", "dpkg"),
    // The kubelet node: runc's cgo build finds libseccomp through pkg-config; the node's
    // teardown deletes its pods' bridge. (Go itself comes with the machine: Debian's is too
    // old for the pinned releases.)
    ("pkg-config", "pkg-config"),
    ("gcc", "gcc"),
    ("ip", "iproute2"),
    // CNI's portmap plugin maps host ports with iptables (critest's port-mapping specs).
    ("iptables", "iptables"),
    // CRI-O's container monitor; CRI-O's runc wrapper edits the bundle's config.json.
    ("conmon", "conmon"),
    ("jq", "jq"),
    // What critest's busybox stand-in adds to Debian's busybox (which lacks these applets).
    ("pgrep", "procps"),
    ("ipcs", "util-linux"),
    ("ldd", "libc-bin"),
];

/// Debian packages the suite needs for their files rather than a program: the C library the
/// refused-call tests link, the container runtimes' network plugins, x86's BIOS and riscv64's
/// firmware (`-bios default`) for the real-kernel tests.
pub const SUITE_FILES: &[&str] = &[
    "libseccomp-dev",
    // CRI-O's build links SQLite (its `libsqlite3` tag).
    "libsqlite3-dev",
    "containernetworking-plugins",
    "seabios",
    "opensbi",
];

/// Every Debian package the suite needs, each with a program it must provide (`None`: files
/// only), in the order of the tables.
pub fn suite_needs() -> Vec<(&'static str, Option<&'static str>)> {
    // Every row's emulator, the host's own too: the seccomp test reads each binary's calls
    // from qemu-user's -strace, whatever the host runs natively.
    let emulators = crate::ARCHES
        .iter()
        .map(|arch| ("qemu-user-static", Some(arch.qemu)));
    // The real-kernel tests' qemu-system programs (loong64's is fetched, not installed).
    let machines = crate::ARCHES
        .iter()
        .flat_map(|arch| arch.kernels)
        .filter_map(|kernel| match kernel.qemu {
            crate::Qemu::Host { program, package } => Some((package, Some(program))),
            crate::Qemu::Unpacked(_) => None,
        });
    SUITE
        .iter()
        .map(|&(program, package)| (package, Some(program)))
        .chain(SUITE_FILES.iter().map(|&package| (package, None)))
        .chain(emulators)
        .chain(machines)
        .collect()
}

/// Every Debian package the suite needs and this machine lacks, each named once.
pub fn missing_for_suite() -> Vec<&'static str> {
    let mut missing = missing_packages(&suite_needs());
    // The SPDX validator goes into a virtualenv with pip (tests/src/pypi.rs probes the same
    // way). Debian's python3 makes one only with python3-venv, which adds `ensurepip`
    // (`python3 -m venv --help` works without it: the venv module itself is in the standard
    // library package); a python3 of its own (pyenv, say) has both built in.
    let venv = find("python3").is_some_and(|python| {
        std::process::Command::new(python)
            .args(["-c", "import venv, ensurepip"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    if !venv && !missing.contains(&"python3-venv") {
        missing.push("python3-venv");
    }
    missing
}

/// The packages of `needs` this machine lacks, each named once. A package that provides a
/// program is there when the program is on PATH (however it came; `qemu-system-s390x` is only a
/// name bookworm's qemu-system-misc provides, which dpkg never lists as installed); one that
/// provides only files is there when dpkg lists it as installed (never where there is no dpkg
/// to ask: the suite needs a Debian system).
pub fn missing_packages(needs: &[(&'static str, Option<&'static str>)]) -> Vec<&'static str> {
    let files_only: Vec<&str> = needs
        .iter()
        .filter(|(_, program)| program.is_none())
        .map(|&(package, _)| package)
        .collect();
    // One query for all: a line per installed instance (`libseccomp-dev installed`); a package
    // dpkg has never heard of prints nothing and makes the exit status 1.
    let listed = if files_only.is_empty() {
        String::new()
    } else {
        std::process::Command::new("dpkg-query")
            .args([
                "--show",
                "--showformat",
                "${Package} ${db:Status-Status}\\n",
            ])
            .args(&files_only)
            .stderr(std::process::Stdio::null())
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
            .unwrap_or_default()
    };
    let installed: Vec<&str> = listed
        .lines()
        .filter_map(|line| line.strip_suffix(" installed"))
        .collect();
    let mut missing: Vec<&'static str> = Vec::new();
    for &(package, program) in needs {
        let there = match program {
            Some(program) => find(program).is_some(),
            None => installed.contains(&package),
        };
        if !there && !missing.contains(&package) {
            missing.push(package);
        }
    }
    missing
}

/// Installs these Debian packages, one at a time with a line each (`<task>: installing P
/// (i/n)`), after one `apt-get update`; apt's own chatter is shown only when it fails. Needs
/// root and apt-get.
pub fn apt_install(task: &str, packages: &[&str]) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    let apt_get = require("apt-get", "apt")?;
    let apt = |args: &[&str]| {
        let mut cmd = std::process::Command::new(&apt_get);
        cmd.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(std::process::Stdio::null());
        output(&mut cmd).map(drop)
    };
    eprintln!(
        "{task}: installing {} Debian package(s): apt-get update",
        packages.len()
    );
    apt(&["update", "-qq"])?;
    for (i, package) in packages.iter().enumerate() {
        eprintln!(
            "{task}: installing {package} ({}/{})",
            i + 1,
            packages.len()
        );
        apt(&["install", "-y", "-qq", "--no-install-recommends", package])?;
    }
    Ok(())
}

/// Whether we run as root, who alone may install packages (and the suite needs anyway).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The absolute path of `tool`, or an error that names the Debian package providing it.
pub fn require(tool: &str, package: &str) -> Result<PathBuf> {
    find(tool).with_context(|| format!("`{tool}` not found: install the Debian package {package}"))
}

/// An exclusive flock(2) on a file, released when dropped: processes that would fetch or build
/// the same thing at once take turns.
pub struct FileLock {
    _held: fs_err::File,
}

impl FileLock {
    pub fn take(path: &std::path::Path) -> Result<FileLock> {
        let file = fs_err::File::create(path)?;
        file.lock()
            .with_context(|| format!("flock {}", path.display()))?;
        Ok(FileLock { _held: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_finds_a_tool_and_names_the_package_of_a_missing_one() {
        let sh = require("sh", "dash").unwrap();
        assert!(sh.is_absolute() && sh.is_file(), "{}", sh.display());
        let missing = require("no-such-tool-anywhere", "some-package")
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("install the Debian package some-package"),
            "{missing}"
        );
    }
}
