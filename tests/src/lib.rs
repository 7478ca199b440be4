//! Test harness: runs the real shipped binaries (natively or under qemu-user) alone or as PID 1
//! of a new PID namespace, and reads what the kernel says about them in /proc.
//!
//! - `runner`: how the host runs one architecture's binary (natively or under qemu-user).
//! - `pause`: a running pause (`Pause`), how its run ended (`Ended`), what /proc says of it.
//! - `inside`: programs run inside pause's PID namespace, and orphans held there for it.
//! - `wait`: every wait bounded: polling, and children that must end in time.
//! - `trials`: per-architecture tests generated from the arch table (libtest-mimic).
//! - `strace`: what a binary calls, from qemu-user's `-strace`.
//! - `containers`: podman, runc, an app rootfs, and orphans held in a sandbox.
//! - `containerd`: a private containerd with its CRI plugin.
//! - `cri` (feature `cri`): the kubelet's side of CRI, over containerd's socket.
//! - `hardened`: the shipped seccomp profile, applied to a hardened bundle.
//! - `debian_archive`: Debian's archive through a private apt state: .debs fetched, unpacked.
//! - `debian`: tools from Debian trixie (through `debian_archive`), under target/debian/.
//! - `kubelet`: a standalone kubelet node (xtask's) beside the loopback registry.
//! - `crio`: a private CRI-O (built from its Go module) with the shipped pin as a drop-in.
//! - `critest`: the CRI validation suite, with stand-ins for its test images.
//! - `kernel`: Debian kernels fetched and booted under qemu-system with an initramfs.
//! - `captured`: a program run to its end within a deadline, its output kept.
//! - `pypi`: Python tools from PyPI in a virtualenv under target/pypi/.
//! - `registry`: a real OCI registry on loopback, the README's commands, the image archive.

mod captured;
pub mod containerd;
pub mod containers;
#[cfg(feature = "cri")]
pub mod cri;
pub mod crio;
pub mod critest;
pub mod debian;
pub mod debian_archive;
pub mod hardened;
mod inside;
pub mod kernel;
pub mod kubelet;
mod pause;
pub mod pypi;
pub mod registry;
mod runner;
mod strace;
mod trials;
mod wait;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
// Where the /proc readers come from is said on this line alone: the modules use crate::procfs.
use xtask::bench::procfs;

pub use inside::{HeldOrphans, InsideScript};
pub use pause::{Ended, Pause, children, status_field};
pub use procfs::{ProcStat, proc_stat};
pub use runner::{
    Runner, native_arches, native_sleep_syscall, require_tool, with_hostile_signal_state,
};
pub use strace::{observed_syscalls, startup_syscalls, strace_calls};
pub use trials::{
    Scenario, on_every_arch, on_every_kernel, on_host_and_one_emulated_arch, on_native_arches,
    run_on_every_arch, run_trials, trial,
};
pub use wait::{
    poll, poll_or_fail, run_bounded, wait_bounded, wait_until_asleep, wait_until_in_syscall,
};
pub use xtask::{ARCHES, Arch, Kernel};

/// Every wait in the suite is bounded by this: a broken pause fails a test, never hangs it.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A new file at `path` for a child's stdout or stderr.
pub(crate) fn output_file(path: impl Into<PathBuf>) -> Stdio {
    fs_err::File::create(path).unwrap().into_file().into()
}

/// The exact line pause prints for `-v`.
pub fn version_line() -> String {
    format!("pause {}\n", env!("CARGO_PKG_VERSION"))
}

pub const WARNING: &str = "Warning: pause should be the first process\n";
pub const GOT_SIGTERM: &str = "Shutting down, got signal: Terminated\n";
pub const GOT_SIGINT: &str = "Shutting down, got signal: Interrupt\n";

/// What pause writes to stderr when it is not PID 1 and then prints `line`: the warning first.
pub fn warned(line: &str) -> String {
    format!("{WARNING}{line}")
}

/// The run ended by exiting 0 (not by a signal, not with another status).
#[track_caller]
pub fn assert_exit_0(ended: &Ended) {
    assert_eq!(ended.status.code(), Some(0), "{ended:?}");
}

/// Fails unless the run ended as SIGTERM's and SIGINT's handler end it: exit 0, nothing on
/// stdout, and on stderr exactly the second argument (`GOT_SIGTERM` or `GOT_SIGINT`, after the
/// warning, `warned`, when pause was not PID 1). As with `assert_eq!`, a format string and its
/// arguments may follow, to say which run failed.
#[macro_export]
macro_rules! assert_shut_down {
    ($ended:expr, $stderr:expr $(,)?) => {
        $crate::assert_shut_down!($ended, $stderr, "the run")
    };
    ($ended:expr, $stderr:expr, $($context:tt)+) => {{
        let ended: &$crate::Ended = &$ended;
        let stderr: &str = &$stderr;
        assert_eq!(
            (ended.status.code(), ended.stdout.as_str(), ended.stderr.as_str()),
            (Some(0), "", stderr),
            "{}: (exit code, stdout, stderr) of {ended:?}",
            format_args!($($context)+)
        );
    }};
}
