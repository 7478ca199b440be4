//! Start-up cost: exec to exit of the version flag, spawned many times.

use super::peers::Peer;
use super::statistics::{Spread, spread};
use super::{Options, progress};
use anyhow::{Context, Result, bail};
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct ExecRow {
    pub init: &'static str,
    /// Per round, the median spawn; then their spread over the rounds.
    pub micros: Spread,
}

pub fn measure(peers: &[Peer], options: &Options) -> Result<Vec<ExecRow>> {
    let mut per_round: Vec<Vec<f64>> = vec![vec![]; peers.len()];
    for round in 0..options.rounds {
        progress::round("", round, options.rounds);
        let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(options.spawns); peers.len()];
        // Every peer spawned in turn, starting one further each time, so that drift in the
        // machine's speed hits all of them alike.
        for i in 0..options.spawns {
            for k in 0..peers.len() {
                let j = (k + i + round) % peers.len();
                let peer = &peers[j];
                let start = Instant::now();
                let status = Command::new(&peer.path)
                    .args(&peer.version_args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .with_context(|| peer.name)?;
                times[j].push(start.elapsed().as_secs_f64() * 1e6);
                if !status.success() {
                    bail!("{} {:?}: {status}", peer.name, peer.version_args);
                }
            }
        }
        for (j, t) in times.iter().enumerate() {
            per_round[j].push(spread(t).median);
        }
    }
    Ok(peers
        .iter()
        .zip(&per_round)
        .map(|(peer, rounds)| ExecRow {
            init: peer.name,
            micros: spread(rounds),
        })
        .collect())
}
