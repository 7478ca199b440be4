//! `cargo xtask bench`: pause beside the sandbox inits operators actually choose between, on
//! this machine, in one run. Timed runs are interleaved across the inits and reported with
//! ratios to ours, because absolute times drift on shared machines.
//!
//! Peers (Debian packages): `catatonit -P` (podman's infra pause; static glibc, the closest
//! stand-in for upstream's static-glibc pause.c), `tini-static` and `dumb-init` (which need a
//! child to supervise: they run `sleep infinity`, and only their own process is measured).

use crate::{ARCHES, Arch, oci, procfs};
use std::ffi::CString;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type Result<T = ()> = std::result::Result<T, String>;

/// One program that can serve as a pod's PID 1.
#[derive(Debug, Clone)]
pub struct Peer {
    pub name: &'static str,
    pub path: PathBuf,
    /// Arguments that make it an idle sandbox.
    pub idle_args: Vec<String>,
    /// Arguments that make it print its version and exit.
    pub version_args: Vec<String>,
}

impl Peer {
    fn ours() -> Result<Peer> {
        let arch = Arch::named("amd64").expect("amd64 is shipped");
        let path = arch.dist_binary();
        if !path.is_file() {
            return Err(format!(
                "{} is missing: run `cargo xtask dist`",
                path.display()
            ));
        }
        Ok(Peer {
            name: "pause (ours)",
            path,
            idle_args: vec![],
            version_args: vec!["-v".into()],
        })
    }

    fn installed(
        name: &'static str,
        path: &str,
        package: &str,
        idle: &[&str],
        version: &[&str],
    ) -> Result<Peer> {
        if !Path::new(path).is_file() {
            return Err(format!("{path} is missing: apt-get install {package}"));
        }
        Ok(Peer {
            name,
            path: path.into(),
            idle_args: idle.iter().map(|s| s.to_string()).collect(),
            version_args: version.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// Ours, then the three peers.
    pub fn all() -> Result<Vec<Peer>> {
        Ok(vec![
            Peer::ours()?,
            Peer::installed(
                "catatonit -P",
                "/usr/bin/catatonit",
                "catatonit",
                &["-P"],
                &["--version"],
            )?,
            Peer::installed(
                "tini-static",
                "/usr/bin/tini-static",
                "tini",
                &["--", "/bin/sleep", "infinity"],
                &["--version"],
            )?,
            Peer::installed(
                "dumb-init",
                "/usr/bin/dumb-init",
                "dumb-init",
                &["/bin/sleep", "infinity"],
                &["--version"],
            )?,
        ])
    }

    fn argv(&self, args: &[String]) -> Vec<CString> {
        std::iter::once(CString::new(self.path.as_os_str().as_bytes()).unwrap())
            .chain(args.iter().map(|a| CString::new(a.as_str()).unwrap()))
            .collect()
    }
}

/// A process started as PID 1 of a new PID namespace, killed (with its namespace) on drop.
pub struct Sandbox {
    pub pid: i32,
}

impl Sandbox {
    /// clone(CLONE_NEWPID) straight from this process: no unshare(1) helper stays around to
    /// be counted in the memory figures.
    pub fn start(peer: &Peer) -> Result<Sandbox> {
        let argv = peer.argv(&peer.idle_args);
        let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let envp: [*const libc::c_char; 1] = [std::ptr::null()];
        let null = CString::new("/dev/null").unwrap();
        // SAFETY: a fork-like clone (no new stack); the child only makes async-signal-safe
        // calls on memory prepared before it, then execs or exits.
        let pid = unsafe {
            libc::syscall(
                libc::SYS_clone,
                (libc::CLONE_NEWPID | libc::SIGCHLD) as libc::c_ulong,
                0,
                0,
                0,
                0,
            )
        };
        if pid == 0 {
            // SAFETY: in the child, as above.
            unsafe {
                let fd = libc::open(null.as_ptr(), libc::O_RDWR);
                for target in 0..3 {
                    libc::dup2(fd, target);
                }
                libc::execve(argv[0].as_ptr(), argv_ptrs.as_ptr(), envp.as_ptr());
                libc::_exit(127);
            }
        }
        if pid < 0 {
            return Err(format!(
                "clone(CLONE_NEWPID): {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(Sandbox { pid: pid as i32 })
    }

    /// Waits until it blocks in a syscall that sleeps.
    pub fn wait_until_idle(&self) -> Result {
        // Ours (from the architecture table), and the calls the peers sleep in; host numbers.
        let mut sleeps = vec![
            libc::SYS_ppoll,
            libc::SYS_rt_sigsuspend,
            libc::SYS_rt_sigtimedwait,
            libc::SYS_read,
            libc::SYS_epoll_pwait,
            libc::SYS_wait4,
            libc::SYS_waitid,
        ];
        sleeps.extend(Arch::host().map(|arch| arch.sleep.nr));
        #[cfg(target_arch = "x86_64")]
        sleeps.extend([libc::SYS_poll, libc::SYS_epoll_wait]);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let nr = procfs::current_syscall(self.pid);
            if nr.is_some_and(|nr| sleeps.contains(&nr)) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "pid {} never went to sleep (syscall {nr:?})",
                    self.pid
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // SAFETY: our own child, not yet waited for.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

/// A field in kB from a /proc file with "Name:   123 kB" lines.
fn proc_kb(path: &str, field: &str) -> Result<u64> {
    procfs::field(path, field)
        .and_then(|v| v.parse().ok())
        .ok_or(format!("{path}: no {field}"))
}

#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    vm_rss: u64,
    rss_anon: u64,
    pss: u64,
}

fn memory_of(pid: i32) -> Result<Memory> {
    Ok(Memory {
        vm_rss: proc_kb(&format!("/proc/{pid}/status"), "VmRSS")?,
        rss_anon: proc_kb(&format!("/proc/{pid}/status"), "RssAnon")?,
        pss: proc_kb(&format!("/proc/{pid}/smaps_rollup"), "Pss")?,
    })
}

fn mem_available_kb() -> Result<u64> {
    proc_kb("/proc/meminfo", "MemAvailable")
}

/// Median, min and max of a sample.
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

fn spread(values: &[f64]) -> Spread {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Spread {
        median: sorted[sorted.len() / 2],
        min: sorted[0],
        max: sorted[sorted.len() - 1],
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} ({:.2}-{:.2})", self.median, self.min, self.max)
    }
}

/// Everything `cargo xtask bench` measured, for the report and the chart.
struct Results {
    report: String,
    binary_bytes: Vec<(String, u64)>,
    per_sandbox_kb: Vec<(String, f64)>,
}

pub struct Options {
    pub rounds: usize,
    pub sandboxes: usize,
    pub spawns: usize,
    pub idle_seconds: u64,
    pub out: PathBuf,
    pub helper: PathBuf,
}

pub fn run(options: &Options, image: &oci::ImageInfo) -> Result {
    let peers = Peer::all()?;
    require("strace", "strace")?;
    require("nsenter", "util-linux")?;
    let mut results = Results {
        report: String::new(),
        binary_bytes: vec![],
        per_sandbox_kb: vec![],
    };
    let r = &mut results.report;
    writeln!(r, "# cargo xtask bench\n").unwrap();
    writeln!(
        r,
        "- date: {}",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now())
    )
    .unwrap();
    writeln!(r, "- machine: {}", machine()).unwrap();
    writeln!(
        r,
        "- rounds: {}, sandboxes at scale: {}, spawns per round: {}, idle window: {} s",
        options.rounds, options.sandboxes, options.spawns, options.idle_seconds
    )
    .unwrap();
    writeln!(r, "- figures: median of the rounds, (min-max) after it\n").unwrap();

    sizes(&peers, image, &mut results)?;
    eprintln!("bench: memory of one idle sandbox");
    one_sandbox_memory(&peers, options, &mut results)?;
    eprintln!("bench: {} concurrent sandboxes", options.sandboxes);
    scale(&peers[..2], options, &mut results)?;
    eprintln!("bench: syscalls to the first sleep");
    syscalls_to_sleep(&peers, &mut results)?;
    eprintln!("bench: exec to exit of the version flag");
    exec_latency(&peers, options, &mut results)?;
    eprintln!("bench: reaping");
    reaping(&peers[..2], options, &mut results)?;
    eprintln!("bench: idle for {} s", options.idle_seconds);
    idle(&peers, options, &mut results)?;

    std::fs::create_dir_all(&options.out).map_err(|e| format!("{}: {e}", options.out.display()))?;
    let report = options.out.join("results.md");
    std::fs::write(&report, &results.report).map_err(|e| e.to_string())?;
    let chart = options.out.join("bench.svg");
    std::fs::write(
        &chart,
        crate::chart::render(&results.binary_bytes, &results.per_sandbox_kb),
    )
    .map_err(|e| e.to_string())?;
    print!("{}", results.report);
    println!("\nwritten: {} and {}", report.display(), chart.display());
    Ok(())
}

fn require(tool: &str, package: &str) -> Result {
    let found = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .any(|dir| dir.join(tool).is_file());
    if found {
        Ok(())
    } else {
        Err(format!("`{tool}` not found: apt-get install {package}"))
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split(':')
                .nth(1)
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mem = proc_kb("/proc/meminfo", "MemTotal").unwrap_or(0);
    format!(
        "{} x {cpu}, {} MiB, Linux {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        mem / 1024,
        kernel.trim()
    )
}

fn sizes(peers: &[Peer], image: &oci::ImageInfo, results: &mut Results) -> Result {
    let r = &mut results.report;
    writeln!(r, "## Size\n").unwrap();
    writeln!(r, "| binary | bytes | gzip -9 | vs ours (amd64) |").unwrap();
    writeln!(r, "|---|---:|---:|---:|").unwrap();
    let ours = std::fs::metadata(&peers[0].path)
        .map_err(|e| e.to_string())?
        .len();
    let mut binaries = Vec::new();
    for arch in &ARCHES {
        binaries.push((
            arch,
            std::fs::read(arch.dist_binary()).map_err(|e| e.to_string())?,
        ));
    }
    for (arch, bytes) in &binaries {
        writeln!(
            r,
            "| pause-linux-{} | {} | {} | |",
            arch.name,
            bytes.len(),
            gzip_len(bytes)
        )
        .unwrap();
    }
    results
        .binary_bytes
        .push(("pause (ours, amd64)".into(), ours));
    for peer in &peers[1..] {
        let bytes = std::fs::read(&peer.path).map_err(|e| e.to_string())?;
        let note = if peer.name == "dumb-init" {
            " (+ shared libc)"
        } else {
            ""
        };
        writeln!(
            r,
            "| {}{note} | {} | {} | {:.0}x |",
            peer.name,
            bytes.len(),
            gzip_len(&bytes),
            bytes.len() as f64 / ours as f64
        )
        .unwrap();
        results
            .binary_bytes
            .push((format!("{}{note}", peer.name), bytes.len() as u64));
    }
    let archive = oci::build_archive(image, &binaries);
    writeln!(
        r,
        "\nImage bytes a runtime pulls per platform (manifest + config + layer):\n"
    )
    .unwrap();
    writeln!(r, "| platform | bytes |").unwrap();
    writeln!(r, "|---|---:|").unwrap();
    for platform in &archive.images {
        writeln!(
            r,
            "| {} | {} |",
            platform.arch.name,
            platform.pulled_bytes()
        )
        .unwrap();
    }
    writeln!(r).unwrap();
    Ok(())
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, bytes).unwrap();
    gz.finish().unwrap().len()
}

fn one_sandbox_memory(peers: &[Peer], options: &Options, results: &mut Results) -> Result {
    let mut samples: Vec<Vec<Memory>> = vec![vec![]; peers.len()];
    for _ in 0..options.rounds {
        for (i, peer) in peers.iter().enumerate() {
            let sandbox = Sandbox::start(peer)?;
            sandbox.wait_until_idle()?;
            // A supervisor's child may still be starting: let the init settle.
            std::thread::sleep(Duration::from_millis(50));
            samples[i].push(memory_of(sandbox.pid)?);
        }
    }
    let r = &mut results.report;
    writeln!(
        r,
        "## One idle sandbox (PID 1 of its own PID namespace), kB\n"
    )
    .unwrap();
    writeln!(r, "| init | VmRSS | RssAnon | Pss |").unwrap();
    writeln!(r, "|---|---:|---:|---:|").unwrap();
    for (peer, samples) in peers.iter().zip(&samples) {
        let pick = |f: fn(&Memory) -> u64| {
            spread(&samples.iter().map(|m| f(m) as f64).collect::<Vec<_>>())
        };
        writeln!(
            r,
            "| {} | {} | {} | {} |",
            peer.name,
            pick(|m| m.vm_rss),
            pick(|m| m.rss_anon),
            pick(|m| m.pss)
        )
        .unwrap();
    }
    writeln!(r).unwrap();
    Ok(())
}

fn scale(peers: &[Peer], options: &Options, results: &mut Results) -> Result {
    let n = options.sandboxes;
    let (mut pss, mut anon, mut available) = (
        vec![vec![]; peers.len()],
        vec![vec![]; peers.len()],
        vec![vec![]; peers.len()],
    );
    // Rounds alternate between the inits, so slow drift in the machine's memory hits both.
    for _ in 0..options.rounds {
        for (j, peer) in peers.iter().enumerate() {
            let before = steady_mem_available_kb()?;
            let mut sandboxes = Vec::with_capacity(n);
            for _ in 0..n {
                sandboxes.push(Sandbox::start(peer)?);
            }
            for sandbox in &sandboxes {
                sandbox.wait_until_idle()?;
            }
            let after = steady_mem_available_kb()?;
            let mut total = Memory::default();
            for sandbox in &sandboxes {
                let m = memory_of(sandbox.pid)?;
                total.pss += m.pss;
                total.rss_anon += m.rss_anon;
            }
            drop(sandboxes);
            pss[j].push(total.pss as f64 / n as f64);
            anon[j].push(total.rss_anon as f64 / n as f64);
            available[j].push((before - after) / n as f64);
        }
    }
    let rows: Vec<_> = peers
        .iter()
        .enumerate()
        .map(|(j, peer)| {
            (
                peer.name,
                spread(&pss[j]),
                spread(&anon[j]),
                spread(&available[j]),
            )
        })
        .collect();
    let r = &mut results.report;
    writeln!(r, "## {n} concurrent idle sandboxes, kB per sandbox\n").unwrap();
    writeln!(
        r,
        "| init | sum of Pss / n | sum of RssAnon / n | MemAvailable drop / n |"
    )
    .unwrap();
    writeln!(r, "|---|---:|---:|---:|").unwrap();
    for (name, pss, anon, available) in &rows {
        writeln!(r, "| {name} | {pss} | {anon} | {available} |").unwrap();
        results
            .per_sandbox_kb
            .push((name.to_string(), available.median));
    }
    writeln!(
        r,
        "\nMemAvailable includes the kernel's own cost per process and PID namespace, which is the \
         same for every init; it is the figure a node feels.\n"
    )
    .unwrap();
    Ok(())
}

/// MemAvailable once the memory of processes that just ended has been given back (the kernel
/// frees some of it lazily): the median of five readings a second after the last change.
fn steady_mem_available_kb() -> Result<f64> {
    std::thread::sleep(Duration::from_secs(1));
    let mut readings = Vec::new();
    for _ in 0..5 {
        readings.push(mem_available_kb()? as f64);
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(spread(&readings).median)
}

fn syscalls_to_sleep(peers: &[Peer], results: &mut Results) -> Result {
    let r = &mut results.report;
    writeln!(
        r,
        "## Syscalls from exec to the first sleep (as PID 1, strace)\n"
    )
    .unwrap();
    writeln!(r, "| init | syscalls after execve | the sleep |").unwrap();
    writeln!(r, "|---|---:|---|").unwrap();
    for peer in peers {
        let (count, sleep) = count_syscalls(peer)?;
        writeln!(r, "| {} | {count} | {sleep} |", peer.name).unwrap();
    }
    writeln!(r).unwrap();
    Ok(())
}

/// Runs `peer` as PID 1 under `strace -f`, kills it once asleep, and counts its own syscalls
/// after execve; the last one is the sleep it was killed in.
fn count_syscalls(peer: &Peer) -> Result<(usize, String)> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let trace = dir.path().join("trace");
    let mut strace = Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(&trace)
        .args(["unshare", "--pid", "--fork", "--kill-child", "--"])
        .arg(&peer.path)
        .args(&peer.idle_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("strace: {e}"))?;
    let exe = peer.path.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let lines = loop {
        std::thread::sleep(Duration::from_millis(300));
        let text = std::fs::read_to_string(&trace).unwrap_or_default();
        let lines = own_syscalls(&text, &exe);
        // Asleep: it has made calls and none in the last 300 ms.
        if !lines.is_empty() && std::fs::read_to_string(&trace).unwrap_or_default() == text {
            break lines;
        }
        if Instant::now() > deadline {
            let _ = strace.kill();
            return Err(format!("{}: never settled under strace", peer.name));
        }
    };
    // Killing strace would only detach it. Kill unshare(1), its child: --kill-child takes the
    // traced init with it, and strace exits once nothing is left to trace.
    let unshare = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", strace.id()))
        .unwrap_or_default();
    for pid in unshare
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
    {
        // SAFETY: kill(2) on a child of our child strace, which cannot have been reaped and
        // reused while strace (its parent) still runs.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let _ = strace.wait();
    let last = lines.last().cloned().unwrap_or_default();
    let sleep = last.split('(').next().unwrap_or("").to_string();
    Ok((lines.len(), sleep))
}

/// The syscall lines of the process that execve'd `exe`, after that execve.
fn own_syscalls(trace: &str, exe: &str) -> Vec<String> {
    let needle = format!("execve(\"{exe}\"");
    let Some(pid) = trace
        .lines()
        .find(|l| l.contains(&needle) && l.contains("= 0"))
        .and_then(|l| l.split_whitespace().next())
    else {
        return vec![];
    };
    trace
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(pid))
        .map(|l| l[pid.len()..].trim().to_string())
        .skip_while(|l| !l.starts_with(&needle))
        .skip(1)
        .filter(|l| !l.starts_with("+++") && !l.starts_with("---") && !l.starts_with("<..."))
        .collect()
}

fn exec_latency(peers: &[Peer], options: &Options, results: &mut Results) -> Result {
    // One round: every peer spawned `spawns` times, interleaved A/B/C/D so drift hits all alike.
    let mut per_round: Vec<Vec<f64>> = vec![vec![]; peers.len()];
    for round in 0..options.rounds {
        let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(options.spawns); peers.len()];
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
                    .map_err(|e| format!("{}: {e}", peer.name))?;
                times[j].push(start.elapsed().as_secs_f64() * 1e6);
                if !status.success() {
                    return Err(format!("{} {:?}: {status}", peer.name, peer.version_args));
                }
            }
        }
        for (j, t) in times.iter().enumerate() {
            per_round[j].push(spread(t).median);
        }
    }
    let ours = spread(&per_round[0]).median;
    let r = &mut results.report;
    writeln!(
        r,
        "## Exec to exit of the version flag ({} spawns a round, interleaved), µs\n",
        options.spawns
    )
    .unwrap();
    writeln!(r, "| init | median per spawn | ours / this |").unwrap();
    writeln!(r, "|---|---:|---:|").unwrap();
    for (peer, rounds) in peers.iter().zip(&per_round) {
        let s = spread(rounds);
        writeln!(r, "| {} | {s} | {:.2} |", peer.name, ours / s.median).unwrap();
    }
    writeln!(r).unwrap();
    Ok(())
}

fn reaping(peers: &[Peer], options: &Options, results: &mut Results) -> Result {
    let mut rows = Vec::new();
    for n in [1_000usize, 10_000] {
        let mut times: Vec<Vec<f64>> = vec![vec![]; peers.len()];
        let mut left = vec![0usize; peers.len()];
        for _ in 0..options.rounds {
            for (j, peer) in peers.iter().enumerate() {
                let (elapsed, zombies) = reap_once(peer, n, &options.helper)?;
                times[j].push(elapsed.as_secs_f64() * 1e3);
                left[j] += zombies;
            }
        }
        rows.push((n, times, left));
    }
    let r = &mut results.report;
    writeln!(
        r,
        "## Reaping N orphans that exit at once, ms until none is left\n"
    )
    .unwrap();
    writeln!(r, "| N | init | time | ours / this | zombies left |").unwrap();
    writeln!(r, "|---:|---|---:|---:|---:|").unwrap();
    for (n, times, left) in &rows {
        let ours = spread(&times[0]).median;
        for (j, peer) in peers.iter().enumerate() {
            let s = spread(&times[j]);
            writeln!(
                r,
                "| {n} | {} | {s} | {:.2} | {} |",
                peer.name,
                ours / s.median,
                left[j]
            )
            .unwrap();
        }
    }
    writeln!(r).unwrap();
    Ok(())
}

/// One reaping run: `n` zombies handed to `peer` (PID 1) at once; the time until it has no
/// children, and how many zombies remain a moment later.
fn reap_once(peer: &Peer, n: usize, helper: &Path) -> Result<(Duration, usize)> {
    let sandbox = Sandbox::start(peer)?;
    sandbox.wait_until_idle()?;
    let children = format!("/proc/{0}/task/{0}/children", sandbox.pid);
    // The helper forks n children that exit at once, says "ready" once they all have, and
    // exits: the kernel then hands the n zombies to PID 1 together. The clock starts at
    // "ready", so it covers the hand-over and the reaping.
    let mut helper_run = Command::new("nsenter")
        .args(["--target", &sandbox.pid.to_string(), "--pid", "--"])
        .arg(helper)
        .args(["zombies", &n.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("nsenter: {e}"))?;
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(helper_run.stdout.take().expect("piped")),
        &mut ready,
    )
    .map_err(|e| format!("zombie helper: {e}"))?;
    let start = Instant::now();
    if ready.trim() != "ready" {
        return Err(format!("zombie helper said {ready:?}"));
    }
    let deadline = start + Duration::from_secs(60);
    // Done once the helper is gone (so the zombies have been handed over) and pause has no
    // children left.
    let mut handed_over = false;
    loop {
        if !handed_over {
            handed_over = helper_run.try_wait().map_err(|e| e.to_string())?.is_some();
        }
        if handed_over
            && std::fs::read_to_string(&children)
                .map_err(|e| e.to_string())?
                .trim()
                .is_empty()
        {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("{}: {n} orphans not reaped within 60 s", peer.name));
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let elapsed = start.elapsed();
    let status = helper_run.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("zombie helper: {status}"));
    }
    std::thread::sleep(Duration::from_millis(100));
    let zombies = std::fs::read_to_string(&children)
        .map_err(|e| e.to_string())?
        .split_whitespace()
        .count();
    Ok((elapsed, zombies))
}

fn idle(peers: &[Peer], options: &Options, results: &mut Results) -> Result {
    let sandboxes: Vec<Sandbox> = peers.iter().map(Sandbox::start).collect::<Result<_>>()?;
    for sandbox in &sandboxes {
        sandbox.wait_until_idle()?;
    }
    // Supervisors start their child first: let that finish before the window opens.
    std::thread::sleep(Duration::from_millis(200));
    let read = |pid: i32| -> Result<(u64, u64)> {
        let gone = || format!("pid {pid} is gone");
        let stat = procfs::proc_stat(pid).ok_or_else(gone)?;
        let switches = procfs::context_switches(&format!("/proc/{pid}/status")).ok_or_else(gone)?;
        Ok((stat.utime + stat.stime, switches))
    };
    let before: Vec<_> = sandboxes
        .iter()
        .map(|s| read(s.pid))
        .collect::<Result<_>>()?;
    std::thread::sleep(Duration::from_secs(options.idle_seconds));
    let after: Vec<_> = sandboxes
        .iter()
        .map(|s| read(s.pid))
        .collect::<Result<_>>()?;
    let r = &mut results.report;
    writeln!(r, "## Idle for {} s (as PID 1)\n", options.idle_seconds).unwrap();
    writeln!(r, "| init | CPU ticks | context switches |").unwrap();
    writeln!(r, "|---|---:|---:|").unwrap();
    for ((peer, b), a) in peers.iter().zip(&before).zip(&after) {
        writeln!(r, "| {} | {} | {} |", peer.name, a.0 - b.0, a.1 - b.1).unwrap();
    }
    writeln!(r).unwrap();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_the_traced_programs_own_calls_after_its_execve() {
        let trace = "\
100 execve(\"/usr/bin/unshare\", [\"unshare\"], 0x7ffd /* 1 var */) = 0
100 clone(child_stack=NULL) = 101
101 execve(\"/bin/pause\", [\"/bin/pause\"], 0x7ffd /* 1 var */) = 0
100 wait4(-1 <unfinished ...>
101 getpid() = 1
101 rt_sigaction(SIGINT, {sa_handler=0x401000}, NULL, 8) = 0
101 --- SIGCHLD {si_signo=SIGCHLD} ---
101 pause( <unfinished ...>
101 +++ killed by SIGKILL +++
";
        let calls = own_syscalls(trace, "/bin/pause");
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(calls[2].starts_with("pause("));
    }

    #[test]
    fn spread_is_median_min_max() {
        let s = spread(&[5.0, 1.0, 3.0, 9.0, 7.0]);
        assert_eq!((s.median, s.min, s.max), (5.0, 1.0, 9.0));
    }
}
