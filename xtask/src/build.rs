//! Building what we ship: the pause binary for each architecture through build-std, its
//! trimming and checks, the image archive with its attachments, the test-only builds, and the
//! clippy run over all of it. `cargo xtask` (src/main.rs) is the command line over these.

use crate::command::{cargo, output, run};
use crate::elf::ElfFacts;
use crate::{ARCHES, Arch, buildinfo, dist_dir, oci, release, target_dir, tools, workspace_root};
use anyhow::{Context, Result, bail};
use fs_err as fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every row of the architecture table.
pub fn all() -> Vec<&'static Arch> {
    ARCHES.iter().collect()
}

pub fn dist(arches: &[&'static Arch]) -> Result<()> {
    let root = workspace_root();
    let tools = ensure_toolchain()?;
    eprintln!(
        "dist: building pause for {} architecture(s): {}",
        arches.len(),
        arches.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
    );
    build_pause(&[], arches)?;

    let dist = dist_dir();
    fs::create_dir_all(&dist)?;
    println!("{:<8} {:>6} {:>7}  file", "arch", "bytes", "budget");
    let mut over = Vec::new();
    for &arch in arches {
        let linked = linked_binary(arch);
        let shipped = arch.dist_binary();
        // Section headers are for linkers and debuggers; the kernel and qemu load by program
        // headers alone. Dropping them (and the section name table) is a fifth of the file.
        run(Command::new(&tools.objcopy)
            .arg("--strip-sections")
            .arg(&linked)
            .arg(&shipped))?;
        let bytes = fs::read(&shipped)?;
        ElfFacts::parse(&bytes)
            .and_then(|facts| facts.check_shipped_shape(arch.elf_machine, bytes.len() as u64))
            .with_context(|| shipped.display().to_string())?;
        let size = bytes.len() as u64;
        println!(
            "{:<8} {:>6} {:>7}  {}{}",
            arch.name,
            size,
            arch.budget,
            relative(&shipped, &root).display(),
            if size > arch.budget {
                "  OVER BUDGET"
            } else {
                ""
            }
        );
        if size > arch.budget {
            over.push(format!("{} ({size} > {} bytes)", arch.name, arch.budget));
        }
    }
    println!("{}", tools.rustc_version);
    if !over.is_empty() {
        bail!("over budget: {}", over.join(", "));
    }
    image_archive(&root, &tools, arches)
}

/// `cargo build` of the pause binary for these architectures, with these features.
pub fn build_pause(features: &[&str], arches: &[&'static Arch]) -> Result<()> {
    let mut build = pause_cargo("build", arches);
    if !features.is_empty() {
        build.args(["--features", &features.join(",")]);
    }
    run(&mut build)
}

/// clippy over everything we write, warnings as errors.
pub fn clippy() -> Result<()> {
    // The CRI client's build script runs protoc. Checking links nothing, so libseccomp-dev is
    // not needed here (its crate's build script only asks pkg-config for the version).
    if tools::find("protoc").is_none() {
        if tools::is_root() && tools::find("apt-get").is_some() {
            tools::apt_install("clippy", &["protobuf-compiler"])?;
        } else {
            bail!(
                "cargo xtask clippy needs:\n  apt-get install protobuf-compiler \
                 (protoc, for the CRI client's build)"
            );
        }
    }
    ensure_toolchain()?;
    run(Command::new("rustup").args(["--quiet", "component", "add", "clippy"]))?;
    run(pause_cargo("clippy", &all()).args(["--", "-D", "warnings"]))?;
    // The host crates as cargo alone builds them, then with the tests that need more tools.
    for features in ["", "pause-tests/cri,pause-tests/libseccomp"] {
        run(cargo()
            .current_dir(workspace_root())
            .args([
                "clippy",
                "--locked",
                "--package",
                "xtask",
                "--package",
                "pause-tests",
            ])
            .args([
                "--features",
                features,
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))?;
    }
    Ok(())
}

/// `cargo <subcommand>` on the pause binary for these architectures, with the settings of
/// .cargo/pause.toml.
fn pause_cargo(subcommand: &str, arches: &[&'static Arch]) -> Command {
    let mut build = cargo();
    build
        .current_dir(workspace_root())
        .args([subcommand, "--release", "--locked", "--package", "pause"])
        .args(["--config", ".cargo/pause.toml"])
        // build-std and asm on powerpc64/s390x are unstable: the same switch the Linux kernel
        // uses to build its Rust code with a stable compiler.
        .env("RUSTC_BOOTSTRAP", "1")
        // The flags in .cargo/pause.toml are part of what makes the bytes reproducible; a
        // RUSTFLAGS from the caller's environment would silently replace them.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    for arch in arches {
        build.args(["--target", arch.triple]);
    }
    build
}

/// The binaries only the suite uses, in target/test-builds: today the one variant, handlers
/// installed with SA_SIGINFO. Built after `dist` into the same target directory (only the
/// pause crate itself recompiles), copied out, and never shipped.
pub fn test_builds() -> Result<()> {
    let tools = ensure_toolchain()?;
    eprintln!("test builds: pause with SA_SIGINFO handlers, every architecture");
    build_pause(&["siginfo-handlers"], &all())?;
    for arch in ARCHES {
        let shipped_like = arch.test_binary("siginfo");
        let dir = shipped_like.parent().expect("a file in a directory");
        fs::create_dir_all(dir)?;
        run(Command::new(&tools.objcopy)
            .arg("--strip-sections")
            .arg(linked_binary(arch))
            .arg(&shipped_like))?;
    }
    Ok(())
}

/// Where cargo leaves the pause binary it linked for `arch`.
fn linked_binary(arch: &Arch) -> PathBuf {
    target_dir().join(arch.triple).join("release/pause")
}

/// Writes target/dist/pause-oci.tar from the binaries `dist` just shipped, with the SBOM and
/// the provenance attached (and beside it), and the runtime snippets pinning its digest.
fn image_archive(root: &Path, tools: &Toolchain, arches: &[&'static Arch]) -> Result<()> {
    let info = image_info(root)?;
    let build = buildinfo::gather(root, &tools.sysroot, &tools.rustc_verbose)?;
    let mut binaries = Vec::new();
    for &arch in arches {
        binaries.push((arch, fs::read(arch.dist_binary())?));
    }
    let release = release::release(&info, &build, &binaries);
    let dist = dist_dir();
    for (file, bytes) in &release.files {
        let file = dist.join(file);
        fs::create_dir_all(file.parent().expect("under dist"))?;
        fs::write(&file, bytes)?;
    }
    let archive = &release.archive;
    let path = dist.join("pause-oci.tar");
    println!();
    println!(
        "{:<12} {:>8} {:>6} {:>5} {:>7}",
        "platform", "manifest", "config", "layer", "pulled"
    );
    for image in &archive.images {
        let platform = match image.arch.variant {
            Some(variant) => format!("{}/{variant}", image.arch.goarch),
            None => image.arch.goarch.to_string(),
        };
        println!(
            "{platform:<12} {:>8} {:>6} {:>5} {:>7}",
            image.manifest.bytes.len(),
            image.config.bytes.len(),
            image.layer.bytes.len(),
            image.pulled_bytes()
        );
    }
    let blobs: usize = archive
        .images
        .iter()
        .map(|i| i.pulled_bytes())
        .sum::<usize>()
        + archive.index.bytes.len();
    println!(
        "{:<12} {blobs:>29}  (all blobs, with the image index)",
        "all"
    );
    println!(
        "{} ({} bytes, index sha256:{})",
        relative(&path, root).display(),
        archive.tar.len(),
        archive.index.hex_digest()
    );
    println!(
        "attached: pause.spdx.json, pause.provenance.json; pinned snippets in {}",
        relative(&dist.join("pins"), root).display()
    );
    Ok(())
}

/// Version, description, source and license of the pause package, as Cargo reads them.
pub fn image_info(root: &Path) -> Result<oci::ImageInfo> {
    let metadata = output(cargo().current_dir(root).args([
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
        "--locked",
    ]))?;
    let metadata: serde_json::Value =
        serde_json::from_str(&metadata).context("cargo metadata's JSON")?;
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "pause"))
        .context("cargo metadata lists no pause package")?;
    let field = |name: &str| {
        package[name]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("Cargo.toml of pause has no {name}"))
    };
    let source_date_epoch = crate::source_date_epoch()?;
    Ok(oci::ImageInfo {
        version: field("version")?,
        title: field("name")?,
        description: field("description")?,
        source: field("repository")?,
        licenses: field("license")?,
        source_date_epoch,
    })
}

pub struct Toolchain {
    objcopy: PathBuf,
    rustc_version: String,
    rustc_verbose: String,
    sysroot: PathBuf,
}

/// Makes sure the active toolchain has what the build needs: a fresh machine has the compiler
/// and nothing else, and RUSTUP_AUTO_INSTALL=0 means nobody installs it for us.
pub fn ensure_toolchain() -> Result<Toolchain> {
    run(Command::new("rustup").args(["--quiet", "component", "add", "rust-src", "llvm-tools"]))
        .context("adding rust-src (for build-std) and llvm-tools (for llvm-objcopy)")?;
    let sysroot = output(Command::new("rustc").args(["--print", "sysroot"]))?;
    let verbose = output(Command::new("rustc").arg("-vV"))?;
    let host = verbose
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .context("rustc -vV printed no host line")?;
    let sysroot = PathBuf::from(sysroot.trim());
    let objcopy = sysroot
        .join("lib/rustlib")
        .join(host)
        .join("bin/llvm-objcopy");
    let rustc_version = verbose.lines().next().unwrap_or_default().to_string();
    Ok(Toolchain {
        objcopy,
        rustc_version,
        rustc_verbose: verbose,
        sysroot,
    })
}

pub fn relative<'a>(path: &'a Path, root: &Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}
