//! What the build and the test suite share: the architectures we ship and where things live.

mod arches;
pub mod bench;
pub mod build;
pub mod buildinfo;
pub mod dockerfile;
pub mod elf;
pub mod kernel;
pub mod oci;
pub mod pins;
pub mod procfs;
pub mod provenance;
pub mod release;
pub mod sbom;
pub mod seccomp;
pub mod tools;
pub mod zombies;

pub use arches::{ARCHES, Arch, DebFile, Kernel, Qemu, SignalReturn, Syscall};
use std::path::PathBuf;

/// `SOURCE_DATE_EPOCH`, the one time reproducible artifacts may carry, if it is set.
pub fn source_date_epoch() -> Result<Option<u64>, String> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| format!("SOURCE_DATE_EPOCH={value:?}: {e}")),
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
