//! `cargo xtask dist` builds every architecture into target/dist; `cargo xtask test` builds and
//! then runs the whole suite; `cargo xtask generate` writes the files derived from the
//! architecture table (seccomp/pause.json, Dockerfile).

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use fs_err as fs;
use std::path::PathBuf;
use std::process::ExitCode;
use xtask::bench::{self, zombies};
use xtask::build::{all, clippy, dist, image_info, test_builds};
use xtask::command::{cargo, output, run};
use xtask::{ARCHES, Arch, dockerfile, seccomp, tools, workspace_root};

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
        /// Static pods on the kubelet node (kubelet, containerd 2.x, runc 1.3 from their
        /// pinned Go modules).
        #[arg(long, default_value_t = 50)]
        pods: usize,
        /// Where results.md and bench.svg go.
        #[arg(long, default_value = "target/bench")]
        out: PathBuf,
    },
    /// (internal) Fork N children that exit at once, and exit when they all have.
    #[command(hide = true)]
    Zombies { count: usize },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Dist { arches } => selected(&arches).and_then(|arches| dist(&arches)),
        Task::Generate => generate(),
        Task::Clippy => clippy(),
        Task::Test { args } => test_prerequisites()
            .and_then(|()| dist(&all()))
            .and_then(|()| test_builds())
            .and_then(|()| test(&args)),
        // Root and the peers are checked before the minutes of building, not after them.
        Task::Bench {
            rounds,
            sandboxes,
            spawns,
            idle_seconds,
            pods,
            out,
        } => bench::preflight()
            .and_then(|()| dist(&all()))
            .and_then(|()| {
                let options = bench::Options {
                    rounds: rounds.max(1),
                    sandboxes: sandboxes.max(1),
                    spawns: spawns.max(1),
                    idle_seconds,
                    pods: pods.max(1),
                    out: workspace_root().join(out),
                    helper: std::env::current_exe().context("finding our own executable")?,
                };
                bench::run(&options, &image_info(&workspace_root())?)
            }),
        Task::Zombies { count } => zombies::make_zombies(count),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain on one line: what failed, and each thing it was part of.
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The rows named on the command line, or all of them when none is.
fn selected(names: &[String]) -> Result<Vec<&'static Arch>> {
    if names.is_empty() {
        return Ok(all());
    }
    names
        .iter()
        .map(|name| {
            Arch::named(name).with_context(|| {
                let known: Vec<&str> = ARCHES.iter().map(|a| a.name).collect();
                format!("no architecture {name:?}; there are {}", known.join(", "))
            })
        })
        .collect()
}

/// Writes the files derived from the architecture table.
fn generate() -> Result<()> {
    for (file, text) in [
        (seccomp::PATH, seccomp::profile_json()),
        (dockerfile::PATH, dockerfile::dockerfile()),
    ] {
        fs::write(workspace_root().join(file), text)?;
        println!("wrote {file}");
    }
    Ok(())
}

/// Before any building: the suite needs root (PID namespaces, seccomp, containers), a set of
/// Debian packages and cargo-nextest. As root where apt-get exists, installs whatever is
/// missing, so that on a fresh machine the README's two commands are all there is to run;
/// otherwise says everything that is missing at once.
fn test_prerequisites() -> Result<()> {
    let root = tools::is_root();
    let missing = tools::missing_for_suite();
    let nextest = || output(cargo().args(["nextest", "--version"])).is_ok();
    let has_nextest = nextest();
    if root && missing.is_empty() && has_nextest {
        return Ok(());
    }
    if !root || tools::find("apt-get").is_none() {
        let mut problems = Vec::new();
        if !root {
            problems.push(
                "run as root: the suite makes PID namespaces, seccomp filters and containers"
                    .to_string(),
            );
        }
        if !missing.is_empty() {
            problems.push(format!("apt-get install {}", missing.join(" ")));
        }
        if !has_nextest {
            problems.push("cargo install --locked cargo-nextest".to_string());
        }
        let hint = if !root && problems.len() > 1 {
            "\n(as root where apt-get exists, cargo xtask test installs them itself)"
        } else {
            ""
        };
        bail!("cargo xtask test needs:\n  {}{hint}", problems.join("\n  "));
    }
    tools::apt_install("test", &missing)?;
    if !has_nextest {
        eprintln!("test: installing cargo-nextest (cargo install --locked cargo-nextest)");
        run(cargo().args(["install", "--quiet", "--locked", "cargo-nextest"]))?;
    }
    // What an install did not bring (a program under another package's name on this release,
    // a python3 that is not Debian's) fails here, not halfway through the suite.
    let still = tools::missing_for_suite();
    if !still.is_empty() {
        bail!("installed, yet still missing: {}", still.join(" "));
    }
    if !nextest() {
        bail!("installed cargo-nextest, yet `cargo nextest` does not run");
    }
    Ok(())
}

fn test(args: &[String]) -> Result<()> {
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
    run(&mut nextest)
        .context("the suite, under cargo-nextest (`cargo install --locked cargo-nextest`)")
}
