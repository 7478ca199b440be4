//! The memory of one idle sandbox, and how memory is read from /proc.

use super::peers::Peer;
use super::procfs;
use super::sandboxes::Sandbox;
use super::statistics::{Spread, spread};
use super::{Options, progress};
use anyhow::{Context, Result};
use std::time::Duration;

/// What one process costs, in kB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub vm_rss: u64,
    pub rss_anon: u64,
    pub pss: u64,
}

/// One init's figures over the rounds, in kB.
#[derive(Debug, Clone)]
pub struct MemoryRow {
    pub init: &'static str,
    pub vm_rss: Spread,
    pub rss_anon: Spread,
    pub pss: Spread,
}

pub fn measure(peers: &[Peer], options: &Options) -> Result<Vec<MemoryRow>> {
    let mut samples: Vec<Vec<Memory>> = vec![vec![]; peers.len()];
    for round in 0..options.rounds {
        progress::round("", round, options.rounds);
        for (i, peer) in peers.iter().enumerate() {
            let sandbox = Sandbox::start(peer)?;
            sandbox.wait_until_idle()?;
            // A supervisor's child may still be starting: let the init settle.
            std::thread::sleep(Duration::from_millis(50));
            samples[i].push(memory_of(sandbox.pid)?);
        }
    }
    Ok(peers
        .iter()
        .zip(&samples)
        .map(|(peer, samples)| {
            let pick = |f: fn(&Memory) -> u64| {
                spread(&samples.iter().map(|m| f(m) as f64).collect::<Vec<_>>())
            };
            MemoryRow {
                init: peer.name,
                vm_rss: pick(|m| m.vm_rss),
                rss_anon: pick(|m| m.rss_anon),
                pss: pick(|m| m.pss),
            }
        })
        .collect())
}

pub fn memory_of(pid: i32) -> Result<Memory> {
    let status = format!("/proc/{pid}/status");
    Ok(Memory {
        vm_rss: proc_kb(&status, "VmRSS")?,
        rss_anon: proc_kb(&status, "RssAnon")?,
        pss: proc_kb(&format!("/proc/{pid}/smaps_rollup"), "Pss")?,
    })
}

/// A field in kB from a /proc file with "Name:   123 kB" lines.
pub fn proc_kb(path: &str, field: &str) -> Result<u64> {
    procfs::field(path, field)
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{path}: no {field}"))
}
