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

/// The absolute path of `tool`, or an error that names the Debian package providing it.
pub fn require(tool: &str, package: &str) -> Result<PathBuf, String> {
    find(tool).ok_or_else(|| format!("`{tool}` not found: install the Debian package {package}"))
}
