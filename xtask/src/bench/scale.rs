//! Many idle sandboxes at once: what each costs the node, kernel structures included.

use super::memory::{memory_of, proc_kb};
use super::peers::Peer;
use super::sandboxes::Sandbox;
use super::statistics::{Spread, spread};
use super::{Options, progress};
use anyhow::Result;
use std::time::Duration;

/// One init's figures per sandbox, in kB.
#[derive(Debug, Clone)]
pub struct ScaleRow {
    pub init: &'static str,
    pub pss: Spread,
    pub rss_anon: Spread,
    /// What the node lost: MemAvailable before minus after, over the count.
    pub mem_available_drop: Spread,
}

#[derive(Debug, Clone)]
pub struct Scale {
    pub sandboxes: usize,
    pub rows: Vec<ScaleRow>,
}

pub fn measure(peers: &[Peer], options: &Options) -> Result<Scale> {
    let n = options.sandboxes;
    let mut samples = vec![[vec![], vec![], vec![]]; peers.len()];
    // Rounds alternate between the inits, so slow drift in the machine's memory hits all.
    for round in 0..options.rounds {
        progress::round("", round, options.rounds);
        for (peer, [pss, anon, available]) in peers.iter().zip(&mut samples) {
            let before = steady_mem_available_kb()?;
            let mut sandboxes = Vec::with_capacity(n);
            for _ in 0..n {
                sandboxes.push(Sandbox::start(peer)?);
            }
            for sandbox in &sandboxes {
                sandbox.wait_until_idle()?;
            }
            let after = steady_mem_available_kb()?;
            let (mut pss_kb, mut anon_kb) = (0, 0);
            for sandbox in &sandboxes {
                let m = memory_of(sandbox.pid)?;
                pss_kb += m.pss;
                anon_kb += m.rss_anon;
            }
            drop(sandboxes);
            pss.push(pss_kb as f64 / n as f64);
            anon.push(anon_kb as f64 / n as f64);
            available.push((before - after) / n as f64);
        }
    }
    let rows = peers
        .iter()
        .zip(&samples)
        .map(|(peer, [pss, anon, available])| ScaleRow {
            init: peer.name,
            pss: spread(pss),
            rss_anon: spread(anon),
            mem_available_drop: spread(available),
        })
        .collect();
    Ok(Scale { sandboxes: n, rows })
}

/// MemAvailable once the memory of processes that just ended has been given back (the kernel
/// frees some of it lazily): the median of five readings a second after the last change.
fn steady_mem_available_kb() -> Result<f64> {
    std::thread::sleep(Duration::from_secs(1));
    let mut readings = Vec::new();
    for _ in 0..5 {
        readings.push(proc_kb("/proc/meminfo", "MemAvailable")? as f64);
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(spread(&readings).median)
}
