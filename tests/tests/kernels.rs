//! Real kernels: every architecture's binary is booted as part of an initramfs on its own
//! Debian kernel under qemu-system (the kernels are in `xtask::ARCHES`), and put through the
//! contract there: signal frames, `sigreturn`, the PID-1 rule and SA_NOCLDSTOP are the
//! kernel's, not qemu-user's. The guest's /init (tests/src/init.sh) only reports; every verdict
//! is here. A kernel that cannot be fetched or booted fails its test, naming what failed.
//! `main` at the bottom makes one test per row's kernel, `<arch>::on_kernel_<kernel>`.

use fs_err as fs;
use pause_tests::kernel::{self, Boot};
use pause_tests::{
    Arch, Ended, GOT_SIGINT, GOT_SIGTERM, WARNING, assert_exit_0, assert_shut_down,
    on_every_kernel, run_trials, version_line, warned,
};
use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;
use xtask::Kernel;

const INIT: &str = include_str!("../src/init.sh");
/// Orphans /init makes in pause's namespace, of five kinds (exit 0, 3, 7, SIGKILL, SIGSEGV),
/// all held until every one has landed on pause.
const ORPHANS: u64 = 200;
/// Only ends a hung boot: every case takes a few seconds even under TCG, and what /init waits
/// for is certain to come, so speed decides nothing (ppc64le, the slowest, takes about a minute
/// with both cores loaded).
const BOOT_TIMEOUT: Duration = Duration::from_secs(600);

/// What /init said: case name -> key -> value.
type Cases = HashMap<String, HashMap<String, String>>;

fn parse(console: &str) -> Cases {
    let mut cases = Cases::new();
    for line in console.lines() {
        let line = line.trim_end_matches('\r');
        let Some(rest) = line.strip_prefix("@@pause ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let Some(name) = words.next() else { continue };
        let fields = words
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        cases.insert(name.to_string(), fields);
    }
    cases
}

fn unhex(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("od prints hex"))
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Bit `signo` of a /proc/PID/status signal mask.
fn has_signal(mask: &str, signo: i32) -> bool {
    let mask = u64::from_str_radix(mask, 16).unwrap_or_else(|_| panic!("mask {mask:?}"));
    mask & (1 << (signo - 1)) != 0
}

struct Guest<'a> {
    kernel: &'a Kernel,
    boot: Boot,
    cases: Cases,
}

impl Guest<'_> {
    fn case(&self, name: &str) -> &HashMap<String, String> {
        self.cases.get(name).unwrap_or_else(|| {
            panic!(
                "{}: /init reported no case {name}\n{}",
                self.kernel.name,
                self.context()
            )
        })
    }

    fn field(&self, case: &str, key: &str) -> &str {
        self.case(case).get(key).unwrap_or_else(|| {
            panic!(
                "{}: case {case} has no {key}\n{}",
                self.kernel.name,
                self.context()
            )
        })
    }

    fn number(&self, case: &str, key: &str) -> u64 {
        let value = self.field(case, key);
        value.parse().unwrap_or_else(|_| {
            panic!(
                "{}: {case} {key}={value:?} is not a number",
                self.kernel.name
            )
        })
    }

    /// How a foreground run ended: the shell's `$?` for it (128 + the signal's number when a
    /// signal killed it), its stdout and its stderr.
    fn run(&self, case: &str) -> Ended {
        let code = self.number(case, "status");
        let code = u8::try_from(code).unwrap_or_else(|_| {
            panic!(
                "{}: {case} status={code} is no shell status",
                self.kernel.name
            )
        });
        Ended {
            status: ExitStatus::from_raw(i32::from(code) << 8),
            stdout: unhex(self.field(case, "out")),
            stderr: unhex(self.field(case, "err")),
        }
    }

    /// A case's wake evidence (/init's `wake_evidence`): pause was not put on a CPU since the
    /// reading before, is asleep, and has no signal pending that would still wake it.
    fn assert_not_woken(&self, case: &str, what: &str) {
        let clear = |key: &str| u64::from_str_radix(self.field(case, key), 16) == Ok(0);
        assert!(
            self.field(case, "runs_before") == self.field(case, "runs_after")
                && self.field(case, "state") == "S"
                && clear("sigpnd")
                && clear("shdpnd"),
            "{}: {what}: {:?}",
            self.kernel.name,
            self.case(case)
        );
    }

    fn context(&self) -> String {
        let tail: Vec<&str> = self.boot.console.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "qemu: {}\nqemu status: {:?} after {:.1?}\nqemu stderr: {}\nconsole (last 40 lines):\n{}",
            self.boot.command,
            self.boot.status,
            self.boot.elapsed,
            self.boot.qemu_stderr.trim(),
            tail.join("\n")
        )
    }
}

/// Boots the kernel `kernel` of the architecture `arch` with that architecture's binary.
fn prove(arch: &'static Arch, kernel: &'static Kernel) {
    let name = format!("{} on {}", arch.name, kernel.name);
    let name = name.as_str();
    let binary = arch.dist_binary();
    let pause = fs::read(&binary).unwrap_or_else(|e| panic!("{e}: run `cargo xtask dist` first"));
    let fetched = kernel::fetch(arch, kernel)
        .unwrap_or_else(|e| panic!("{name}: cannot fetch what the kernel boots with: {e:#}"));
    let busybox = fs::read(&fetched.busybox).expect("fetched busybox");
    let init = format!(
        "#!/bin/busybox sh\nSLEEP_NR={} ORPHANS={ORPHANS}\n{INIT}",
        arch.sleep.nr
    );
    let cpio =
        kernel::initramfs(init.as_bytes(), &busybox, &[("pause", &pause)]).expect("initramfs");
    let dir = tempfile::tempdir().expect("tempdir");
    let initramfs = dir.path().join("initramfs.cpio");
    fs::write(&initramfs, cpio).expect("write initramfs");
    let cmd = kernel::qemu_command(kernel, &fetched, &initramfs);
    let boot = kernel::boot(cmd, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let guest = Guest {
        kernel,
        cases: parse(&boot.console),
        boot,
    };
    assert!(
        guest.cases.contains_key("done") && guest.boot.status.is_some_and(|s| s.success()),
        "{name}: {} ({}) did not run every case and power off within {BOOT_TIMEOUT:?}\n{}",
        fetched.package,
        kernel.suite,
        guest.context()
    );
    if let Some(timeout) = guest.cases.get("timeout") {
        panic!(
            "{name}: a wait in /init timed out: {timeout:?}\n{}",
            guest.context()
        );
    }
    // What /init reported, for the log (nextest shows it when a test fails, or with
    // --no-capture).
    for line in guest
        .boot
        .console
        .lines()
        .filter(|l| l.starts_with("@@pause "))
    {
        eprintln!("{}", line.trim_end());
    }
    check(arch, &guest);
    eprintln!(
        "{name}: {} ({}), release {}, {} KiB pages: boot and cases {:.1?}, downloaded {} bytes",
        fetched.package,
        kernel.suite,
        guest.field("kernel", "release"),
        guest.field("kernel", "page_kib"),
        guest.boot.elapsed,
        fetched.downloaded
    );
}

fn check(arch: &Arch, g: &Guest) {
    let name = format!("{} on {}", arch.name, g.kernel.name);
    let name = name.as_str();
    // The kernel the table (and so the README) names, not a stand-in.
    assert_eq!(
        g.field("kernel", "release"),
        g.kernel.release,
        "{name}: booted another kernel than xtask::ARCHES pins"
    );
    assert_eq!(
        g.number("kernel", "page_kib"),
        u64::from(g.kernel.page_kib),
        "{name}: page size"
    );

    let version = g.run("version");
    assert_exit_0(&version);
    assert_eq!(
        (version.stdout, version.stderr),
        (version_line(), String::new()),
        "{name}: -v"
    );

    // Not PID 1.
    assert_shut_down!(
        g.run("not-init-TERM"),
        warned(GOT_SIGTERM),
        "{name}: SIGTERM, not PID 1"
    );
    assert_shut_down!(
        g.run("not-init-INT"),
        warned(GOT_SIGINT),
        "{name}: SIGINT, not PID 1"
    );
    // The control for the PID-1 rule below: outside it, SIGHUP (no handler) kills pause.
    let hup = g.run("not-init-HUP");
    assert_eq!(
        hup.status.code(),
        Some(128 + libc::SIGHUP),
        "{name}: SIGHUP, not PID 1"
    );
    assert_eq!(hup.stdout, "", "{name}");
    assert!(hup.stderr.starts_with(WARNING), "{name}: {hup:?}");

    // Started with SIGTERM ignored: the control shows `trap '' TERM` hands SIG_IGN across exec.
    assert!(
        has_signal(g.field("term-ignored-control", "sigign"), libc::SIGTERM),
        "{name}: the ignored SIGTERM was not inherited, so the case proves nothing"
    );
    assert!(
        !has_signal(g.field("term-ignored-sleeping", "sigign"), libc::SIGTERM)
            && has_signal(g.field("term-ignored-sleeping", "sigcgt"), libc::SIGTERM),
        "{name}: pause did not replace the inherited SIG_IGN of SIGTERM with its handler"
    );
    assert_shut_down!(
        g.run("term-ignored"),
        warned(GOT_SIGTERM),
        "{name}: SIGTERM after starting with it ignored"
    );

    // PID 1 of a PID namespace.
    for signo in [libc::SIGHUP, libc::SIGUSR1, libc::SIGQUIT] {
        assert!(
            !has_signal(g.field("init-dispositions", "sigign"), signo)
                && !has_signal(g.field("init-dispositions", "sigcgt"), signo),
            "{name}: signal {signo} must be at SIG_DFL for the PID-1 rule to be what drops it"
        );
    }
    // Every orphan counted three times: started, then all pause's children at once (none can
    // end before the release), then none left after it.
    assert_eq!(
        (
            g.number("init-orphans", "made"),
            g.number("init-orphans", "landed")
        ),
        (ORPHANS, ORPHANS),
        "{name}: held orphans made and landed on pause"
    );
    assert_eq!(
        (
            g.number("init-orphans", "left"),
            g.number("init-orphans", "zombies")
        ),
        (0, 0),
        "{name}: orphans left unreaped"
    );

    // The control first: the readings do show a wake-up when there is one.
    assert!(
        g.number("init-woken", "runs_after") > g.number("init-woken", "runs_before"),
        "{name}: a SIGCHLD did not show in pause's run count, so no wake-up would: {:?}",
        g.case("init-woken")
    );
    assert_eq!(g.field("init-stopped", "child_state"), "T", "{name}");
    g.assert_not_woken("init-stopped", "a child's stop woke pause (SA_NOCLDSTOP)");
    assert_eq!(g.field("init-continued", "child_state"), "S", "{name}");
    g.assert_not_woken(
        "init-continued",
        "a child's continue woke pause (SA_NOCLDSTOP covers CLD_CONTINUED too)",
    );
    assert_eq!(
        g.number("init-stopped-reaped", "left"),
        0,
        "{name}: the continued child was not reaped"
    );

    let idle = g.case("init-idle");
    assert_eq!(
        (&idle["runs_before"], &idle["ticks_before"]),
        (&idle["runs_after"], &idle["ticks_after"]),
        "{name}: pause woke or used CPU while idle"
    );

    for sig in ["HUP", "USR1", "QUIT"] {
        let case = format!("init-unhandled-{sig}");
        assert_eq!(
            (g.field(&case, "sent"), g.field(&case, "alive")),
            ("0", "yes"),
            "{name}: SIG{sig} sent from inside the namespace (kill's status), pause alive"
        );
        g.assert_not_woken(
            &case,
            &format!("SIG{sig} to PID 1 without a handler was queued, not dropped"),
        );
    }
    assert_shut_down!(g.run("init-term"), GOT_SIGTERM, "{name}: SIGTERM as PID 1");

    // At the moment of SIGTERM: 20 held orphans were pause's (alive, so not reapable yet), and
    // the storm, an endless loop, was running: it ended only when the namespace died with
    // pause, by the kernel's SIGKILL (busybox nsenter re-raises it: status 128 + 9).
    let held = g.number("storm-at-term", "made");
    assert_eq!(held, 20, "{name}: orphans held for the storm");
    assert_eq!(g.number("storm-at-term", "landed"), held, "{name}");
    assert!(
        g.number("storm-at-term", "pending") >= held,
        "{name}: the held orphans were not all pending on pause at SIGTERM: {:?}",
        g.case("storm-at-term")
    );
    assert_eq!(
        g.number("storm-at-term", "storm_status"),
        128 + libc::SIGKILL as u64,
        "{name}: the storm did not end by the namespace's death, so it was not running at SIGTERM"
    );
    assert_shut_down!(
        g.run("storm-term"),
        GOT_SIGTERM,
        "{name}: SIGTERM in an orphan storm"
    );
}

fn main() {
    run_trials(on_every_kernel(prove))
}
