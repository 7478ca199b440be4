//! `cargo xtask dist` builds every architecture into target/dist; `cargo xtask test` builds and
//! then runs the whole suite; `cargo xtask generate` writes the files derived from the
//! architecture table (seccomp/pause.json, Dockerfile).

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use xtask::elf::ElfFacts;
use xtask::{
    ARCHES, Arch, bench, buildinfo, dist_dir, dockerfile, oci, release, seccomp, target_dir, tools,
    workspace_root, zombies,
};

#[derive(Parser)]
#[command(about = "Build, package and test pause")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build pause for every architecture into target/dist, with the multi-arch OCI image
    /// archive target/dist/pause-oci.tar, and print their sizes. A binary over its budget is
    /// an error.
    Dist {
        /// Only this architecture (a row name: amd64, arm64, arm, armv6, ...); repeatable.
        /// The image archive then holds only these platforms.
        #[arg(long = "arch", value_name = "NAME")]
        arches: Vec<String>,
    },
    /// Write the files derived from the architecture table: seccomp/pause.json, Dockerfile.
    Generate,
    /// clippy with warnings as errors: the pause binary for every architecture in the table,
    /// then the host crates (xtask, the tests) with all their targets.
    Clippy,
    /// Build (as `dist`) and the test-only variants, then run the whole test suite; extra
    /// arguments go to `cargo nextest run`.
    Test {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Build (as `dist`), then measure pause beside catatonit, tini-static and dumb-init
    /// (needs root and the Debian packages catatonit, tini, dumb-init, strace).
    Bench {
        /// Rounds of each measurement; figures are their median, min and max.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Concurrent idle sandboxes in the scale measurement.
        #[arg(long, default_value_t = 1000)]
        sandboxes: usize,
        /// Version-flag spawns per init per round.
        #[arg(long, default_value_t = 1000)]
        spawns: usize,
        /// Seconds of the idle measurement.
        #[arg(long, default_value_t = 10)]
        idle_seconds: u64,
        /// Where results.md and bench.svg go.
        #[arg(long, default_value = "target/bench")]
        out: PathBuf,
    },
    /// (internal) Fork N children that exit at once, and exit when they all have.
    #[command(hide = true)]
    Zombies { count: usize },
}

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Dist { arches } => selected(&arches).and_then(|arches| dist(&arches)),
        Task::Generate => generate(),
        Task::Clippy => clippy(),
        Task::Test { args } => check_test_prerequisites()
            .and_then(|()| dist(&all()))
            .and_then(|()| test_builds())
            .and_then(|()| test(&args)),
        // Root and the peers are checked before the minutes of building, not after them.
        Task::Bench {
            rounds,
            sandboxes,
            spawns,
            idle_seconds,
            out,
        } => bench::preflight()
            .and_then(|()| dist(&all()))
            .and_then(|()| {
                let options = bench::Options {
                    rounds: rounds.max(1),
                    sandboxes: sandboxes.max(1),
                    spawns: spawns.max(1),
                    idle_seconds,
                    out: workspace_root().join(out),
                    helper: std::env::current_exe().map_err(|e| e.to_string())?,
                };
                bench::run(&options, &image_info(&workspace_root())?)
            }),
        Task::Zombies { count } => zombies::make_zombies(count),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Every row of the architecture table.
fn all() -> Vec<&'static Arch> {
    ARCHES.iter().collect()
}

/// The rows named on the command line, or all of them when none is.
fn selected(names: &[String]) -> Result<Vec<&'static Arch>> {
    if names.is_empty() {
        return Ok(all());
    }
    names
        .iter()
        .map(|name| {
            Arch::named(name).ok_or_else(|| {
                let known: Vec<&str> = ARCHES.iter().map(|a| a.name).collect();
                format!("no architecture {name:?}; there are {}", known.join(", "))
            })
        })
        .collect()
}

fn dist(arches: &[&'static Arch]) -> Result {
    let root = workspace_root();
    let tools = ensure_toolchain()?;
    eprintln!(
        "dist: building pause for {} architecture(s): {}",
        arches.len(),
        arches.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
    );
    build_pause(&[], arches)?;

    let dist = dist_dir();
    std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
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
        let bytes = std::fs::read(&shipped).map_err(|e| format!("{}: {e}", shipped.display()))?;
        ElfFacts::parse(&bytes)
            .and_then(|facts| facts.check_shipped_shape(arch.elf_machine, bytes.len() as u64))
            .map_err(|e| format!("{}: {e}", shipped.display()))?;
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
        return Err(format!("over budget: {}", over.join(", ")));
    }
    image_archive(&root, &tools, arches)
}

/// `cargo build` of the pause binary for these architectures, with these features.
fn build_pause(features: &[&str], arches: &[&'static Arch]) -> Result {
    let mut build = pause_cargo("build", arches);
    if !features.is_empty() {
        build.args(["--features", &features.join(",")]);
    }
    run(&mut build)
}

/// clippy over everything we write, warnings as errors.
fn clippy() -> Result {
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
fn test_builds() -> Result {
    let tools = ensure_toolchain()?;
    eprintln!("test builds: pause with SA_SIGINFO handlers, every architecture");
    build_pause(&["siginfo-handlers"], &all())?;
    for arch in &ARCHES {
        let shipped_like = arch.test_binary("siginfo");
        let dir = shipped_like.parent().expect("a file in a directory");
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
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

/// Writes the files derived from the architecture table.
fn generate() -> Result {
    for (file, text) in [
        (seccomp::PATH, seccomp::profile_json()),
        (dockerfile::PATH, dockerfile::dockerfile()),
    ] {
        let path = workspace_root().join(file);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {file}");
    }
    Ok(())
}

/// Writes target/dist/pause-oci.tar from the binaries `dist` just shipped, with the SBOM and
/// the provenance attached (and beside it), and the runtime snippets pinning its digest.
fn image_archive(root: &Path, tools: &Toolchain, arches: &[&'static Arch]) -> Result {
    let info = image_info(root)?;
    let build = buildinfo::gather(root, &tools.sysroot, &tools.rustc_verbose)?;
    let mut binaries = Vec::new();
    for &arch in arches {
        let path = arch.dist_binary();
        binaries.push((
            arch,
            std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
        ));
    }
    let release = release::release(&info, &build, &binaries);
    let dist = dist_dir();
    for (file, bytes) in &release.files {
        let file = dist.join(file);
        std::fs::create_dir_all(file.parent().expect("under dist"))
            .and_then(|()| std::fs::write(&file, bytes))
            .map_err(|e| format!("{}: {e}", file.display()))?;
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
fn image_info(root: &Path) -> Result<oci::ImageInfo> {
    let metadata = output(cargo().current_dir(root).args([
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
        "--locked",
    ]))?;
    let metadata: serde_json::Value =
        serde_json::from_str(&metadata).map_err(|e| format!("cargo metadata: {e}"))?;
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "pause"))
        .ok_or("cargo metadata lists no pause package")?;
    let field = |name: &str| {
        package[name]
            .as_str()
            .map(str::to_string)
            .ok_or(format!("Cargo.toml of pause has no {name}"))
    };
    let source_date_epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => Some(
            value
                .trim()
                .parse()
                .map_err(|e| format!("SOURCE_DATE_EPOCH={value:?}: {e}"))?,
        ),
        Err(_) => None,
    };
    Ok(oci::ImageInfo {
        version: field("version")?,
        title: field("name")?,
        description: field("description")?,
        source: field("repository")?,
        licenses: field("license")?,
        source_date_epoch,
    })
}

/// Before any building: the suite needs root (PID namespaces, seccomp, containers) and a set of
/// Debian packages; say everything that is missing at once.
fn check_test_prerequisites() -> Result {
    let mut problems = Vec::new();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        problems.push(
            "run as root: the suite makes PID namespaces, seccomp filters and containers"
                .to_string(),
        );
    }
    let missing = tools::missing_for_suite();
    if !missing.is_empty() {
        problems.push(format!("apt-get install {}", missing.join(" ")));
    }
    if output(cargo().args(["nextest", "--version"])).is_err() {
        problems.push("cargo install --locked cargo-nextest".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "cargo xtask test needs:\n  {}",
            problems.join("\n  ")
        ))
    }
}

fn test(args: &[String]) -> Result {
    // nextest: each test in its own process, and one summary for the whole suite at the end.
    let mut nextest = cargo();
    nextest
        .current_dir(workspace_root())
        .args([
            "nextest",
            "run",
            "--locked",
            "--package",
            "xtask",
            "--package",
            "pause-tests",
        ])
        // The tests that need protoc and libseccomp to build (checked up front).
        .args(["--features", "pause-tests/cri,pause-tests/libseccomp"])
        // Most tests wait on processes and the kernel, not on the CPU.
        .args(["--test-threads", "4", "--no-fail-fast"])
        .args(args);
    run(&mut nextest).map_err(|e| {
        format!(
            "{e}
(the suite runs under cargo-nextest: `cargo install --locked cargo-nextest`)"
        )
    })
}

struct Toolchain {
    objcopy: PathBuf,
    rustc_version: String,
    rustc_verbose: String,
    sysroot: PathBuf,
}

/// Makes sure the active toolchain has what the build needs: a fresh machine has the compiler
/// and nothing else, and RUSTUP_AUTO_INSTALL=0 means nobody installs it for us.
fn ensure_toolchain() -> Result<Toolchain> {
    run(Command::new("rustup").args(["--quiet", "component", "add", "rust-src", "llvm-tools"]))
        .map_err(|e| {
            format!("{e}\n(rust-src feeds build-std; llvm-tools provides llvm-objcopy)")
        })?;
    let sysroot = output(Command::new("rustc").args(["--print", "sysroot"]))?;
    let verbose = output(Command::new("rustc").arg("-vV"))?;
    let host = verbose
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or("rustc -vV printed no host line")?;
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

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn run(cmd: &mut Command) -> Result {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{cmd:?}: {e}"))
}

fn relative<'a>(path: &'a Path, root: &Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}
