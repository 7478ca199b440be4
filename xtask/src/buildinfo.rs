//! What went into a `cargo xtask dist` build, gathered once for the SBOM and the provenance:
//! the crates compiled into each architecture's binary, the toolchain and its library sources,
//! the lock file and the source commit. Nothing here depends on where the sources or the
//! toolchain sit on disk, so two clones of one commit gather the same facts.

use crate::command::{cargo, output};
use crate::oci::sha256_hex;
use crate::{ARCHES, Arch};
use anyhow::{Context, Result, bail};
use fs_err as fs;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// One crate compiled into the binary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Crate {
    pub name: String,
    pub version: String,
    /// SPDX license expression, as the crate declares it.
    pub license: String,
    /// Where it came from: `crates.io`, `workspace` (this repository), or `rust-src` (the
    /// toolchain's library sources, through build-std).
    pub origin: Origin,
    /// The sha256 of the `.crate` file, from Cargo.lock (crates.io crates only).
    pub checksum: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    Workspace,
    CratesIo,
    RustSrc,
}

/// The toolchain the binaries were built with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    /// `rustc 1.95.0 (hash date)`.
    pub rustc: String,
    /// `1.95.0`.
    pub release: String,
    /// rustc's commit, from `rustc -vV`.
    pub commit: String,
    pub llvm: String,
    /// The digest of every file of the rust-src component (see [`rust_src_digest`]).
    pub rust_src_sha256: String,
}

/// Everything the SBOM and the provenance say about a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// The pause package's version and repository.
    pub version: String,
    pub repository: String,
    /// The commit checked out, when the sources are a git work tree.
    pub commit: Option<String>,
    pub cargo_lock_sha256: String,
    pub toolchain: Toolchain,
    /// Per architecture (OCI name), the crates linked into its binary, sorted.
    pub crates: BTreeMap<&'static str, Vec<Crate>>,
    pub source_date_epoch: Option<u64>,
}

/// Gathers the build facts for the sources at `root`, with `sysroot` the active toolchain's.
pub fn gather(root: &Path, sysroot: &Path, rustc_verbose: &str) -> Result<BuildInfo> {
    let lock = fs::read(root.join("Cargo.lock"))?;
    let checksums = lock_checksums(&String::from_utf8_lossy(&lock))?;
    let field = |name: &str| {
        rustc_verbose
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::to_string)
            .with_context(|| format!("rustc -vV printed no {name:?} line"))
    };
    let library = sysroot.join("lib/rustlib/src/rust/library");
    let toolchain = Toolchain {
        rustc: rustc_verbose.lines().next().unwrap_or_default().to_string(),
        release: field("release: ")?,
        commit: field("commit-hash: ")?,
        llvm: field("LLVM version: ")?,
        rust_src_sha256: rust_src_digest(sysroot)?,
    };
    // build-std compiles these two from rust-src into every binary (.cargo/pause.toml). core
    // says 0.0.0 in its manifest: it is versioned with the compiler, so it carries rustc's.
    let mut std_crates = Vec::new();
    for (manifest, version) in [
        ("core/Cargo.toml", Some(&toolchain.release)),
        ("compiler-builtins/compiler-builtins/Cargo.toml", None),
    ] {
        let package = manifest_package(&library.join(manifest))?;
        std_crates.push(Crate {
            version: version.cloned().unwrap_or(package.version),
            name: package.name,
            license: package.license.unwrap_or_default(),
            origin: Origin::RustSrc,
            checksum: None,
        });
    }

    let mut crates = BTreeMap::new();
    let mut version = String::new();
    let mut repository = String::new();
    for arch in ARCHES {
        let (pause, mut linked) = linked_crates(root, arch, &checksums)?;
        version = pause.version.clone();
        repository = pause.repository.clone().unwrap_or_default();
        linked.extend(std_crates.iter().cloned());
        linked.sort();
        crates.insert(arch.name, linked);
    }
    let source_date_epoch = crate::source_date_epoch()?;
    Ok(BuildInfo {
        version,
        repository,
        commit: git_commit(root),
        cargo_lock_sha256: sha256_hex(&lock),
        toolchain,
        crates,
        source_date_epoch,
    })
}

/// The digest of the rust-src component: sha256 of the `sha256sum` listing of every file its
/// rustup manifest names, sorted by path relative to the sysroot. Anyone can redo it:
/// `cd $(rustc --print sysroot) && sed -n 's/^file://p' lib/rustlib/manifest-rust-src |
/// LC_ALL=C sort | xargs sha256sum | sha256sum`.
pub fn rust_src_digest(sysroot: &Path) -> Result<String> {
    let manifest_path = sysroot.join("lib/rustlib/manifest-rust-src");
    let manifest = fs::read_to_string(&manifest_path).context("rustup component add rust-src")?;
    let mut files: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("file:"))
        .collect();
    files.sort_unstable();
    let mut listing = String::new();
    for file in files {
        let bytes = fs::read(sysroot.join(file))?;
        listing.push_str(&format!("{}  {file}\n", sha256_hex(&bytes)));
    }
    Ok(sha256_hex(listing.as_bytes()))
}

#[derive(Deserialize)]
struct Lock {
    package: Vec<LockPackage>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    checksum: Option<String>,
}

/// (name, version) -> checksum of every registry crate in Cargo.lock.
fn lock_checksums(lock: &str) -> Result<BTreeMap<(String, String), String>> {
    let lock: Lock = toml::from_str(lock).context("Cargo.lock")?;
    Ok(lock
        .package
        .into_iter()
        .filter_map(|p| Some(((p.name, p.version), p.checksum?)))
        .collect())
}

#[derive(Deserialize)]
struct Manifest {
    package: ManifestPackage,
}

#[derive(Deserialize)]
struct ManifestPackage {
    name: String,
    version: String,
    license: Option<String>,
}

fn manifest_package(path: &Path) -> Result<ManifestPackage> {
    let text = fs::read_to_string(path)?;
    let manifest: Manifest = toml::from_str(&text).with_context(|| path.display().to_string())?;
    Ok(manifest.package)
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetaPackage>,
    resolve: Resolve,
}

#[derive(Deserialize, Clone)]
struct MetaPackage {
    id: String,
    name: String,
    version: String,
    license: Option<String>,
    source: Option<String>,
    repository: Option<String>,
}

#[derive(Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    deps: Vec<NodeDep>,
}

#[derive(Deserialize)]
struct NodeDep {
    pkg: String,
    dep_kinds: Vec<DepKind>,
}

#[derive(Deserialize)]
struct DepKind {
    kind: Option<String>,
}

/// The pause package and the crates linked into its binary for `arch`: Cargo resolves the
/// target-specific dependencies for that triple, and only normal dependencies (not build
/// scripts' or tests') end up in the file.
fn linked_crates(
    root: &Path,
    arch: &Arch,
    checksums: &BTreeMap<(String, String), String>,
) -> Result<(MetaPackage, Vec<Crate>)> {
    let out = output(
        cargo()
            .current_dir(root)
            .args(["metadata", "--format-version", "1", "--locked"])
            .args(["--filter-platform", arch.triple]),
    )?;
    let metadata: Metadata = serde_json::from_str(&out).context("cargo metadata's JSON")?;
    let packages: BTreeMap<&str, &MetaPackage> = metadata
        .packages
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let nodes: BTreeMap<&str, &Node> = metadata
        .resolve
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n))
        .collect();
    let pause = metadata
        .packages
        .iter()
        .find(|p| p.name == "pause" && p.source.is_none())
        .context("cargo metadata lists no pause package")?;

    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![pause.id.as_str()];
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        let node = nodes
            .get(id)
            .with_context(|| format!("cargo metadata: no resolve node {id}"))?;
        for dep in &node.deps {
            if dep.dep_kinds.iter().any(|k| k.kind.is_none()) {
                todo.push(&dep.pkg);
            }
        }
    }
    let crates = seen
        .into_iter()
        .map(|id| {
            let p = packages[id];
            let origin = match &p.source {
                None => Origin::Workspace,
                Some(s)
                    if s.starts_with("registry+https://github.com/rust-lang/crates.io-index") =>
                {
                    Origin::CratesIo
                }
                Some(s) => bail!("{}: a source SBOM cannot name yet: {s}", p.name),
            };
            Ok(Crate {
                name: p.name.clone(),
                version: p.version.clone(),
                license: p.license.clone().unwrap_or_default(),
                origin,
                checksum: checksums.get(&(p.name.clone(), p.version.clone())).cloned(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((pause.clone(), crates))
}

/// HEAD's commit, when `root` is a git work tree (a source tarball has none).
fn git_commit(root: &Path) -> Option<String> {
    // Only this tree's own repository: git would otherwise answer for any enclosing one.
    if !root.join(".git").exists() {
        return None;
    }
    let out = Command::new("git")
        .current_dir(root)
        .args(["rev-parse", "--verify", "HEAD"])
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && commit.len() == 40).then_some(commit)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A build of one arch linking one registry crate, core and compiler_builtins.
    pub(crate) fn build_info(source_date_epoch: Option<u64>) -> BuildInfo {
        let krate = |name: &str, origin, checksum: Option<&str>| Crate {
            name: name.into(),
            version: "1.0.0".into(),
            license: "MIT/Apache-2.0".into(),
            origin,
            checksum: checksum.map(str::to_string),
        };
        BuildInfo {
            version: "1.0.0".into(),
            repository: "https://example.invalid/pause".into(),
            commit: Some("c".repeat(40)),
            cargo_lock_sha256: "aa".repeat(32),
            toolchain: Toolchain {
                rustc: "rustc 1.0.0 (abc 2020-01-01)".into(),
                release: "1.0.0".into(),
                commit: "d".repeat(40),
                llvm: "20.0".into(),
                rust_src_sha256: "bb".repeat(32),
            },
            crates: BTreeMap::from([(
                "amd64",
                vec![
                    krate("pause", Origin::Workspace, None),
                    krate("sc", Origin::CratesIo, Some(&"ee".repeat(32))),
                    krate("compiler_builtins", Origin::RustSrc, None),
                ],
            )]),
            source_date_epoch,
        }
    }

    #[test]
    fn lock_checksums_reads_registry_crates_only() {
        let lock = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n\
                    [[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"registry+x\"\nchecksum = \"ff\"\n";
        let sums = lock_checksums(lock).unwrap();
        assert_eq!(sums.len(), 1);
        assert_eq!(sums[&("b".to_string(), "2.0.0".to_string())], "ff");
    }
}
