//! What an idle init costs over time: CPU ticks and wake-ups while nothing happens.

use super::Options;
use super::peers::Peer;
use super::procfs;
use super::sandboxes::Sandbox;
use anyhow::{Result, anyhow};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct IdleRow {
    pub init: &'static str,
    pub cpu_ticks: u64,
    pub context_switches: u64,
}

#[derive(Debug, Clone)]
pub struct Idle {
    pub seconds: u64,
    pub rows: Vec<IdleRow>,
}

pub fn measure(peers: &[Peer], options: &Options) -> Result<Idle> {
    let sandboxes: Vec<Sandbox> = peers.iter().map(Sandbox::start).collect::<Result<_>>()?;
    for sandbox in &sandboxes {
        sandbox.wait_until_idle()?;
    }
    // Supervisors start their child first: let that finish before the window opens.
    std::thread::sleep(Duration::from_millis(200));
    let read = |sandbox: &Sandbox| -> Result<(u64, u64)> {
        let pid = sandbox.pid;
        let gone = || anyhow!("pid {pid} is gone");
        let stat = procfs::proc_stat(pid).ok_or_else(gone)?;
        let switches = procfs::context_switches(&format!("/proc/{pid}/status")).ok_or_else(gone)?;
        Ok((stat.utime + stat.stime, switches))
    };
    let before: Vec<_> = sandboxes.iter().map(read).collect::<Result<_>>()?;
    std::thread::sleep(Duration::from_secs(options.idle_seconds));
    let after: Vec<_> = sandboxes.iter().map(read).collect::<Result<_>>()?;
    let rows = peers
        .iter()
        .zip(before.iter().zip(&after))
        .map(|(peer, (b, a))| IdleRow {
            init: peer.name,
            cpu_ticks: a.0 - b.0,
            context_switches: a.1 - b.1,
        })
        .collect();
    Ok(Idle {
        seconds: options.idle_seconds,
        rows,
    })
}
