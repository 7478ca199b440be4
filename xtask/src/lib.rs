//! The build tool (`cargo xtask`), and what the test suite reads from it: the architectures
//! we ship, where things live, and the bench's /proc readers and orphan maker, which the tests
//! reuse so that both sides read /proc one way and storm pause alike.
//!
//! - `arches`: the architecture table, with each row's Debian kernels: what both sides read.
//! - [`bench`]: `cargo xtask bench`, pause beside the other sandbox inits; `bench::procfs` and
//!   `bench::zombies` serve the tests too.
//! - [`build`]: `dist`, the test-only builds and `clippy`.
//! - [`buildinfo`]: the facts of a build (crates, toolchain, lock file, commit).
//! - [`command`]: running programs, with errors that name the command line.
//! - [`dockerfile`]: the Dockerfile, generated from the table.
//! - [`elf`]: the shape every shipped binary must have, read back from its headers.
//! - [`node`]: a standalone kubelet on containerd 2.x and runc 1.3, built from pinned Go
//!   modules: the suite's kubelet tests and the bench's pods per node.
//! - [`oci`]: the multi-arch image and its OCI layout archive.
//! - [`pins`]: the runtime snippets pinning the image index digest.
//! - [`provenance`]: the SLSA provenance statement.
//! - [`release`]: everything `dist` writes beside the binaries.
//! - [`sbom`]: the SPDX SBOM.
//! - [`seccomp`]: the seccomp profile, generated from the table.
//! - [`tools`]: finding programs, naming and installing the Debian packages that provide them.

mod arches;
pub mod bench;
pub mod build;
pub mod buildinfo;
pub mod command;
pub mod dockerfile;
pub mod elf;
pub mod node;
pub mod oci;
pub mod pins;
pub mod provenance;
pub mod release;
pub mod sbom;
pub mod seccomp;
pub mod tools;

use anyhow::Context;
pub use arches::{ARCHES, Arch, DebFile, Kernel, Qemu, SignalReturn, Syscall};
use std::path::PathBuf;

/// `SOURCE_DATE_EPOCH`, the one time reproducible artifacts may carry, if it is set.
pub fn source_date_epoch() -> anyhow::Result<Option<u64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value
            .trim()
            .parse()
            .map(Some)
            .with_context(|| format!("SOURCE_DATE_EPOCH={value:?}")),
        Err(_) => Ok(None),
    }
}

/// The workspace root (where the top-level Cargo.toml is).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// `dist` under cargo's target directory.
pub fn dist_dir() -> PathBuf {
    target_dir().join("dist")
}

/// Cargo's target directory for this workspace, as cargo itself resolves it: `target/`,
/// `CARGO_TARGET_DIR`, or `build.target-dir` from any cargo config that applies.
pub fn target_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = std::process::Command::new(cargo)
            .current_dir(workspace_root())
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .output()
            .expect("cargo metadata runs");
        assert!(
            out.status.success(),
            "cargo metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let metadata: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
        PathBuf::from(
            metadata["target_directory"]
                .as_str()
                .expect("cargo metadata names the target directory"),
        )
    })
    .clone()
}
