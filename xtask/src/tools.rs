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
