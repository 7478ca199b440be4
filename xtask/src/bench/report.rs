//! The one renderer: the figures as `results.md` (Markdown tables, ours first) and as
//! `bench.svg`. No measurement writes text of its own.

use super::statistics::Spread;
use super::{Figures, chart};
use anyhow::Result;
use fs_err as fs;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Writes `results.md` (the given Markdown) and `bench.svg` into `out`; returns their paths.
pub fn write(figures: &Figures, markdown: &str, out: &Path) -> Result<(PathBuf, PathBuf)> {
    fs::create_dir_all(out)?;
    let results = out.join("results.md");
    fs::write(&results, markdown)?;
    let svg = out.join("bench.svg");
    fs::write(&svg, svg_chart(figures))?;
    Ok((results, svg))
}

/// Binary sizes (ours for this architecture, then the peers), and each init's cost per
/// sandbox at scale.
pub fn svg_chart(figures: &Figures) -> String {
    let arch = figures.arch;
    let ours = figures
        .sizes
        .ours
        .iter()
        .find(|(a, _)| *a == arch)
        .map_or(0, |(_, binary)| binary.bytes);
    let binary_bytes: Vec<(String, u64)> =
        std::iter::once((format!("pause (ours, {})", arch.name), ours))
            .chain(
                figures
                    .sizes
                    .peers
                    .iter()
                    .map(|p| (format!("{}{}", p.name, libc_note(p.shared_libc)), p.bytes)),
            )
            .collect();
    let per_sandbox_kb: Vec<(String, f64)> = figures
        .scale
        .rows
        .iter()
        .map(|row| (row.init.to_string(), row.mem_available_drop.median))
        .collect();
    chart::render(&binary_bytes, &per_sandbox_kb)
}

fn libc_note(shared_libc: bool) -> &'static str {
    if shared_libc { " (+ shared libc)" } else { "" }
}

/// How many times faster ours is than `this`: above 1 where ours takes less time.
fn ratio(ours: &Spread, this: &Spread) -> f64 {
    ours.median / this.median
}

pub fn markdown(f: &Figures) -> String {
    let mut r = String::new();
    // Writing to a String cannot fail; each `writeln!` below is unwrapped for that reason.
    let arch = f.arch;
    writeln!(r, "# cargo xtask bench\n").unwrap();
    writeln!(r, "- date: {}", f.date).unwrap();
    writeln!(r, "- machine: {}", f.machine).unwrap();
    writeln!(
        r,
        "- architecture: {} ({}): ours is pause-linux-{}, the peers are this machine's builds",
        arch.name,
        arch.platform(),
        arch.name
    )
    .unwrap();
    writeln!(
        r,
        "- rounds: {}, sandboxes at scale: {}, spawns per round: {}, idle window: {} s",
        f.rounds, f.scale.sandboxes, f.spawns, f.idle.seconds
    )
    .unwrap();
    writeln!(r, "- figures: median of the rounds, (min-max) after it\n").unwrap();

    let ours_bytes = f
        .sizes
        .ours
        .iter()
        .find(|(a, _)| *a == arch)
        .map_or(0, |(_, binary)| binary.bytes);
    writeln!(r, "## Size\n").unwrap();
    writeln!(r, "| binary | bytes | gzip -9 | vs ours ({}) |", arch.name).unwrap();
    writeln!(r, "|---|---:|---:|---:|").unwrap();
    for (_, b) in &f.sizes.ours {
        writeln!(r, "| {} | {} | {} | |", b.name, b.bytes, b.gzip).unwrap();
    }
    for b in &f.sizes.peers {
        let times = b.bytes as f64 / ours_bytes as f64;
        let note = libc_note(b.shared_libc);
        writeln!(
            r,
            "| {}{note} | {} | {} | {times:.0}x |",
            b.name, b.bytes, b.gzip
        )
        .unwrap();
    }
    writeln!(
        r,
        "\nImage bytes a runtime pulls per platform (manifest + config + layer):\n"
    )
    .unwrap();
    writeln!(r, "| platform | bytes |").unwrap();
    writeln!(r, "|---|---:|").unwrap();
    for (platform, bytes) in &f.sizes.image_pulled {
        writeln!(r, "| {} | {bytes} |", platform.platform()).unwrap();
    }

    writeln!(
        r,
        "\n## One idle sandbox (PID 1 of its own PID namespace), kB\n"
    )
    .unwrap();
    writeln!(r, "| init | VmRSS | RssAnon | Pss |").unwrap();
    writeln!(r, "|---|---:|---:|---:|").unwrap();
    for m in &f.one_sandbox {
        writeln!(
            r,
            "| {} | {} | {} | {} |",
            m.init, m.vm_rss, m.rss_anon, m.pss
        )
        .unwrap();
    }

    let n = f.scale.sandboxes;
    writeln!(r, "\n## {n} concurrent idle sandboxes, kB per sandbox\n").unwrap();
    writeln!(
        r,
        "| init | sum of Pss / n | sum of RssAnon / n | MemAvailable drop / n |"
    )
    .unwrap();
    writeln!(r, "|---|---:|---:|---:|").unwrap();
    for s in &f.scale.rows {
        writeln!(
            r,
            "| {} | {} | {} | {} |",
            s.init, s.pss, s.rss_anon, s.mem_available_drop
        )
        .unwrap();
    }
    writeln!(
        r,
        "\nMemAvailable includes the kernel's own cost per process and PID namespace, which is the \
         same for every init; it is the figure a node feels."
    )
    .unwrap();

    writeln!(
        r,
        "\n## Syscalls from exec to the first sleep (as PID 1, strace)\n"
    )
    .unwrap();
    writeln!(r, "| init | syscalls after execve | the sleep |").unwrap();
    writeln!(r, "|---|---:|---|").unwrap();
    for s in &f.syscalls {
        writeln!(r, "| {} | {} | {} |", s.init, s.count, s.sleep).unwrap();
    }

    writeln!(
        r,
        "\n## Exec to exit of the version flag ({} spawns a round, interleaved), µs\n",
        f.spawns
    )
    .unwrap();
    writeln!(r, "| init | median per spawn | ours / this |").unwrap();
    writeln!(r, "|---|---:|---:|").unwrap();
    if let Some(ours) = f.exec.first() {
        for e in &f.exec {
            let times = ratio(&ours.micros, &e.micros);
            writeln!(r, "| {} | {} | {times:.2} |", e.init, e.micros).unwrap();
        }
    }

    writeln!(
        r,
        "\n## Reaping N orphans that exit at once, ms until none is left\n"
    )
    .unwrap();
    writeln!(r, "| N | init | time | ours / this | zombies left |").unwrap();
    writeln!(r, "|---:|---|---:|---:|---:|").unwrap();
    for row in &f.reaping {
        // Ours is the first row of each storm size.
        let ours = f
            .reaping
            .iter()
            .find(|o| o.orphans == row.orphans)
            .expect("the row itself has this size");
        writeln!(
            r,
            "| {} | {} | {} | {:.2} | {} |",
            row.orphans,
            row.init,
            row.millis,
            ratio(&ours.millis, &row.millis),
            row.zombies_left
        )
        .unwrap();
    }

    writeln!(r, "\n## Idle for {} s (as PID 1)\n", f.idle.seconds).unwrap();
    writeln!(r, "| init | CPU ticks | context switches |").unwrap();
    writeln!(r, "|---|---:|---:|").unwrap();
    for i in &f.idle.rows {
        writeln!(
            r,
            "| {} | {} | {} |",
            i.init, i.cpu_ticks, i.context_switches
        )
        .unwrap();
    }

    let n = &f.node;
    writeln!(
        r,
        "\n## {} static pods on a kubelet node (ours as every pod's sandbox)\n",
        n.pods
    )
    .unwrap();
    writeln!(r, "{}; one app container per pod.\n", n.releases).unwrap();
    writeln!(r, "| per pod | median (min-max) |").unwrap();
    writeln!(r, "|---|---:|").unwrap();
    writeln!(r, "| Pss of pause, kB | {} |", n.pause_pss).unwrap();
    writeln!(
        r,
        "| Pss of its shim (containerd-shim-runc-v2), kB | {} |",
        n.shim_pss
    )
    .unwrap();
    writeln!(
        r,
        "| manifest in place to its container started, ms | {} |",
        n.manifest_to_running
    )
    .unwrap();
    writeln!(r).unwrap();
    r
}

#[cfg(test)]
mod tests {
    use super::super::{exec, idle, node, reaping, scale, size};
    use super::*;
    use crate::Arch;

    fn flat(value: f64) -> Spread {
        Spread {
            median: value,
            min: value,
            max: value,
        }
    }

    /// Figures as an arm64 node's run would have them: ours and one peer.
    fn arm64_figures() -> Figures {
        let arch = Arch::named("arm64").expect("arm64 is shipped");
        let binary = |name: &str, bytes| size::Binary {
            name: name.into(),
            bytes,
            gzip: bytes / 2,
            shared_libc: false,
        };
        Figures {
            date: "now".into(),
            machine: "a machine".into(),
            arch,
            rounds: 1,
            sizes: size::Sizes {
                ours: vec![(arch, binary("pause-linux-arm64", 1_000))],
                peers: vec![binary("catatonit -P", 500_000)],
                image_pulled: vec![(arch, 1_200)],
            },
            one_sandbox: vec![],
            scale: scale::Scale {
                sandboxes: 3,
                rows: vec![],
            },
            syscalls: vec![],
            spawns: 1,
            exec: vec![
                exec::ExecRow {
                    init: "pause (ours)",
                    micros: flat(100.0),
                },
                exec::ExecRow {
                    init: "catatonit -P",
                    micros: flat(400.0),
                },
            ],
            reaping: [(1_000, 2.0, 4.0), (10_000, 30.0, 20.0)]
                .into_iter()
                .flat_map(|(orphans, ours, theirs)| {
                    [("pause (ours)", ours), ("catatonit -P", theirs)].map(|(init, ms)| {
                        reaping::ReapRow {
                            orphans,
                            init,
                            millis: flat(ms),
                            zombies_left: 0,
                        }
                    })
                })
                .collect(),
            idle: idle::Idle {
                seconds: 1,
                rows: vec![],
            },
            node: node::NodePods {
                pods: 1,
                pause_pss: flat(8.0),
                shim_pss: flat(4000.0),
                manifest_to_running: flat(500.0),
                releases: "kubelet v1".into(),
            },
        }
    }

    #[test]
    fn the_report_says_which_architecture_its_figures_are_for() {
        let text = markdown(&arm64_figures());
        assert!(
            text.contains("- architecture: arm64 (linux/arm64)"),
            "{text}"
        );
        assert!(text.contains("| vs ours (arm64) |"), "{text}");
        assert!(
            text.contains("| catatonit -P | 500000 | 250000 | 500x |"),
            "{text}"
        );
        assert!(svg_chart(&arm64_figures()).contains("pause (ours, arm64)"));
    }

    #[test]
    fn ratios_compare_with_ours_at_the_same_storm_size() {
        let text = markdown(&arm64_figures());
        assert!(
            text.contains("| catatonit -P | 400.00 (400.00-400.00) | 0.25 |"),
            "{text}"
        );
        assert!(
            text.contains("| 1000 | catatonit -P | 4.00 (4.00-4.00) | 0.50 | 0 |"),
            "{text}"
        );
        assert!(
            text.contains("| 10000 | catatonit -P | 20.00 (20.00-20.00) | 1.50 | 0 |"),
            "{text}"
        );
    }
}
