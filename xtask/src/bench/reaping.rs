//! Orphan storms: N zombies handed to the init at once, and how long until none is left.

use super::peers::Peer;
use super::sandboxes::Sandbox;
use super::statistics::{Spread, spread};
use super::{Options, progress};
use anyhow::{Context, Result, bail};
use fs_err as fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The storm sizes the README's reaping goal is stated for.
pub const ORPHANS: [usize; 2] = [1_000, 10_000];

#[derive(Debug, Clone)]
pub struct ReapRow {
    pub orphans: usize,
    pub init: &'static str,
    pub millis: Spread,
    /// Summed over the rounds: any is a leak.
    pub zombies_left: usize,
}

pub fn measure(peers: &[Peer], options: &Options) -> Result<Vec<ReapRow>> {
    let mut rows = Vec::new();
    for n in ORPHANS {
        let mut times: Vec<Vec<f64>> = vec![vec![]; peers.len()];
        let mut left = vec![0usize; peers.len()];
        for round in 0..options.rounds {
            progress::round(&format!("{n} orphans, "), round, options.rounds);
            for (j, peer) in peers.iter().enumerate() {
                let (elapsed, zombies) = reap_once(peer, n, &options.helper)?;
                times[j].push(elapsed.as_secs_f64() * 1e3);
                left[j] += zombies;
            }
        }
        rows.extend(peers.iter().enumerate().map(|(j, peer)| ReapRow {
            orphans: n,
            init: peer.name,
            millis: spread(&times[j]),
            zombies_left: left[j],
        }));
    }
    Ok(rows)
}

/// One reaping run: `n` zombies handed to `peer` (PID 1) at once; the time until it has no
/// children, and how many zombies remain a moment later.
fn reap_once(peer: &Peer, n: usize, helper: &Path) -> Result<(Duration, usize)> {
    let sandbox = Sandbox::start(peer)?;
    sandbox.wait_until_idle()?;
    let children = format!("/proc/{0}/task/{0}/children", sandbox.pid);
    // The helper (zombies::make_zombies) forks n children that exit at once, says "ready" once they
    // all have, and exits: the kernel then hands the n zombies to PID 1 together. The clock
    // starts at "ready", so it covers the hand-over and the reaping.
    let mut helper_run = Command::new("nsenter")
        .args(["--target", &sandbox.pid.to_string(), "--pid", "--"])
        .arg(helper)
        .args(["zombies", &n.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .context("nsenter")?;
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(helper_run.stdout.take().expect("piped")),
        &mut ready,
    )
    .context("zombie helper")?;
    let start = Instant::now();
    if ready.trim() != "ready" {
        bail!("zombie helper said {ready:?}");
    }
    let deadline = start + Duration::from_secs(60);
    // Done once the helper is gone (so the zombies have been handed over) and the init has no
    // children left.
    let mut handed_over = false;
    loop {
        if !handed_over {
            handed_over = helper_run.try_wait()?.is_some();
        }
        if handed_over && fs::read_to_string(&children)?.trim().is_empty() {
            break;
        }
        if Instant::now() > deadline {
            bail!("{}: {n} orphans not reaped within 60 s", peer.name);
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let elapsed = start.elapsed();
    let status = helper_run.wait()?;
    if !status.success() {
        bail!("zombie helper: {status}");
    }
    std::thread::sleep(Duration::from_millis(100));
    let zombies = fs::read_to_string(&children)?.split_whitespace().count();
    Ok((elapsed, zombies))
}
