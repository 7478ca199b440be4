//! `cargo xtask bench`: pause beside the sandbox inits operators actually choose between, on
//! this machine and for its architecture, in one run. Timed runs are interleaved across the
//! inits and reported with ratios to ours, because absolute times drift on shared machines.
//!
//! Each measurement module returns its figures as data; `report` alone turns them into
//! `results.md` and `bench.svg`.

mod chart;
mod exec;
mod idle;
mod memory;
mod node;
mod peers;
pub mod procfs;
mod reaping;
mod report;
mod sandboxes;
mod scale;
mod size;
mod statistics;
mod syscalls;
pub mod zombies;

pub use peers::preflight;

use crate::{Arch, oci};
use anyhow::Result;
use std::path::PathBuf;

pub struct Options {
    pub rounds: usize,
    pub sandboxes: usize,
    pub spawns: usize,
    pub idle_seconds: u64,
    /// Static pods on the kubelet node.
    pub pods: usize,
    pub out: PathBuf,
    /// An executable whose `zombies N` subcommand runs [`zombies::make_zombies`].
    pub helper: PathBuf,
}

/// Everything one run measured, with what it ran on: the renderer's whole input.
pub struct Figures {
    pub date: String,
    pub machine: String,
    /// The architecture the figures are for: ours is its binary, the peers are its builds.
    pub arch: &'static Arch,
    pub rounds: usize,
    pub sizes: size::Sizes,
    pub one_sandbox: Vec<memory::MemoryRow>,
    pub scale: scale::Scale,
    pub syscalls: Vec<syscalls::SyscallsRow>,
    pub spawns: usize,
    pub exec: Vec<exec::ExecRow>,
    pub reaping: Vec<reaping::ReapRow>,
    pub idle: idle::Idle,
    pub node: node::NodePods,
}

/// Measures everything (ours first in every table), then writes the report and the chart.
pub fn run(options: &Options, image: &oci::ImageInfo) -> Result<()> {
    preflight()?;
    let peers = peers::Peer::all()?;
    let arch = peers::host_arch()?;
    // The two long steps, scale and orphan storms, pit ours against catatonit alone: the
    // closest peer (podman's infra pause), and one that needs no `sleep` child to count.
    let pod_inits = &peers[..2];
    let steps = 8;
    progress::step(1, steps, "sizes");
    let sizes = size::measure(&peers[1..], image)?;
    progress::step(2, steps, "memory of one idle sandbox");
    let one_sandbox = memory::measure(&peers, options)?;
    let what = format!("{} concurrent idle sandboxes", options.sandboxes);
    progress::step(3, steps, &what);
    let scale = scale::measure(pod_inits, options)?;
    progress::step(4, steps, "syscalls to the first sleep");
    let syscalls = syscalls::measure(&peers)?;
    let what = format!(
        "exec to exit of the version flag, {} spawns",
        options.spawns
    );
    progress::step(5, steps, &what);
    let exec = exec::measure(&peers, options)?;
    progress::step(6, steps, "reaping orphan storms");
    let reaping = reaping::measure(pod_inits, options)?;
    progress::step(7, steps, &format!("idle for {} s", options.idle_seconds));
    let idle = idle::measure(&peers, options)?;
    let what = format!("{} static pods on a kubelet node", options.pods);
    progress::step(8, steps, &what);
    let node = node::measure(options.pods)?;

    let figures = Figures {
        date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        machine: machine(arch),
        arch,
        rounds: options.rounds,
        sizes,
        one_sandbox,
        scale,
        syscalls,
        spawns: options.spawns,
        exec,
        reaping,
        idle,
        node,
    };
    let markdown = report::markdown(&figures);
    let (results, svg) = report::write(&figures, &markdown, &options.out)?;
    print!("{markdown}");
    println!("\nwritten: {} and {}", results.display(), svg.display());
    Ok(())
}

/// Cores, CPU, memory and kernel, as the report's header names the machine.
fn machine(arch: &Arch) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    // x86 says "model name"; arm64 and others have no such line, and say less.
    let cpu = ["model name", "Hardware", "cpu model", "cpu"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                (name.trim() == *key).then(|| value.trim().to_string())
            })
        })
        .unwrap_or_else(|| format!("{} CPU", arch.name));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mem = memory::proc_kb("/proc/meminfo", "MemTotal").unwrap_or(0);
    format!(
        "{} x {cpu}, {} MiB, Linux {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        mem / 1024,
        kernel.trim()
    )
}

/// Progress on stderr, so that a run of many minutes shows where it is; stdout gets the report.
mod progress {
    pub fn step(step: usize, steps: usize, what: &str) {
        eprintln!("bench [{step}/{steps}] {what}");
    }

    pub fn round(what: &str, round: usize, rounds: usize) {
        eprintln!("bench        {what}round {}/{rounds}", round + 1);
    }
}
