//! Finding the programs the suite, the bench and the build run, and naming the Debian package
//! that provides one when it is missing: one place, so every missing tool reads the same.

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
    ("unshare", "util-linux"),
    ("nsenter", "util-linux"),
    ("git", "git"),
    ("protoc", "protobuf-compiler"),
    ("busybox", "busybox-static"),
    ("runc", "runc"),
    ("podman", "podman"),
    ("skopeo", "skopeo"),
    ("umoci", "umoci"),
    ("containerd", "containerd"),
    ("ctr", "containerd"),
    ("runsc", "runsc"),
    ("patchelf", "patchelf"),
    ("apt-get", "apt"),
    ("dpkg-deb", "dpkg"),
];

/// Every Debian package the suite needs and this machine lacks, each named once.
pub fn missing_for_suite() -> Vec<String> {
    // Every row's emulator, the host's own too: the seccomp test reads each binary's calls
    // from qemu-user's -strace, whatever the host runs natively.
    let emulators = crate::ARCHES
        .iter()
        .map(|arch| (arch.qemu, "qemu-user-static"));
    // The real-kernel tests' qemu-system programs (loong64's is fetched, not installed).
    let machines = crate::ARCHES
        .iter()
        .flat_map(|arch| arch.kernels)
        .filter_map(|kernel| match kernel.qemu {
            crate::Qemu::Host { program, package } => Some((program, package)),
            crate::Qemu::Unpacked(_) => None,
        });
    let mut missing: Vec<String> = Vec::new();
    for (tool, package) in SUITE.iter().copied().chain(emulators).chain(machines) {
        if find(tool).is_none() && !missing.iter().any(|p| p == package) {
            missing.push(package.to_string());
        }
    }
    if !links("seccomp") {
        missing.push("libseccomp-dev".to_string());
    }
    missing
}

/// Whether the C toolchain finds `lib<name>.so` to link against (what a -dev package adds).
pub fn links(name: &str) -> bool {
    let file = format!("lib{name}.so");
    std::process::Command::new("cc")
        .arg(format!("-print-file-name={file}"))
        .output()
        .is_ok_and(|out| {
            // cc echoes the bare name back when it finds no such file.
            let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
            out.status.success() && path != file && std::path::Path::new(&path).exists()
        })
}

/// The absolute path of `tool`, or an error that names the Debian package providing it.
pub fn require(tool: &str, package: &str) -> Result<PathBuf, String> {
    find(tool).ok_or_else(|| format!("`{tool}` not found: install the Debian package {package}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_finds_a_tool_and_names_the_package_of_a_missing_one() {
        let sh = require("sh", "dash").unwrap();
        assert!(sh.is_absolute() && sh.is_file(), "{}", sh.display());
        let missing = require("no-such-tool-anywhere", "some-package").unwrap_err();
        assert!(
            missing.contains("install the Debian package some-package"),
            "{missing}"
        );
    }
}
