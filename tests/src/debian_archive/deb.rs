//! Reading files out of a downloaded `.deb`, without installing it.

use anyhow::{Context, Result, anyhow};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// For each pattern, the contents of the first file in `deb` whose path matches it. dpkg-deb
/// unpacks the data member whatever its compression; we stop reading once we have them all,
/// so a kernel's modules are never written out.
pub fn extract(deb: &Path, patterns: &[&str]) -> Result<Vec<Vec<u8>>> {
    let mut child = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("dpkg-deb (Debian package dpkg)")?;
    let stdout = child.stdout.take().expect("piped");
    let mut found: Vec<Option<Vec<u8>>> = vec![None; patterns.len()];
    let mut archive = tar::Archive::new(stdout);
    let unreadable = || format!("reading {}", deb.display());
    for entry in archive.entries().with_context(unreadable)? {
        let mut entry = entry.with_context(unreadable)?;
        let path = entry
            .path()
            .with_context(unreadable)?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let wanted = patterns
            .iter()
            .zip(&found)
            .position(|(pattern, got)| got.is_none() && glob_match(pattern, &path));
        if let Some(i) = wanted {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).with_context(unreadable)?;
            found[i] = Some(bytes);
            if found.iter().all(Option::is_some) {
                break;
            }
        }
    }
    drop(archive);
    // Killed (or ended by the closed pipe) once we have what we came for.
    let _ = child.kill();
    let _ = child.wait();
    patterns
        .iter()
        .zip(found)
        .map(|(pattern, got)| {
            got.ok_or_else(|| {
                anyhow!(
                    "{} holds no file matching {pattern}",
                    deb.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect()
}

/// `*` matches any run of characters, `/` included; everything else matches itself.
fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| glob_match(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("boot/vmlinu*", "boot/vmlinuz-6.1.0-50-686"));
        assert!(glob_match("*bin/busybox", "bin/busybox"));
        assert!(glob_match("*bin/busybox", "usr/bin/busybox"));
        assert!(!glob_match("*bin/busybox", "usr/bin/busybox.sig"));
        assert!(glob_match(
            "usr/lib/modules/*/vmlinuz",
            "usr/lib/modules/7.2.13+deb14-loong64/vmlinuz"
        ));
        assert!(!glob_match("boot/vmlinu*", "usr/boot/vmlinuz"));
    }
}
