//! Test harness: runs the real shipped binaries (natively or under qemu-user) alone or as PID 1
//! of a new PID namespace, and reads what the kernel says about them in /proc.

mod captured;
pub mod containerd;
pub mod containers;
#[cfg(feature = "cri")]
pub mod cri;
pub mod debian;
pub mod debian_archive;
pub mod hardened;
pub mod kernel;
mod process;
pub mod pypi;
pub mod registry;
mod runner;
mod strace;
mod trials;

use std::time::Duration;

pub use process::{
    Ended, HeldOrphans, InsideScript, Pause, children, poll, poll_or_fail, run_bounded,
    status_field, wait_bounded, wait_until_in_syscall,
};
pub use runner::{
    Runner, native_arches, native_sleep_syscall, require_tool, with_hostile_signal_state,
};
pub use strace::{observed_syscalls, startup_syscalls, strace_calls};
pub use trials::{Scenario, on_every_arch, on_native_arches, run_on_every_arch, run_trials};
pub use xtask::bench::procfs::{ProcStat, proc_stat};
pub use xtask::{ARCHES, Arch};

/// Every wait in the suite is bounded by this: a broken pause fails a test, never hangs it.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The exact line pause prints for `-v`.
pub fn version_line() -> String {
    format!("pause {}\n", env!("CARGO_PKG_VERSION"))
}

pub const WARNING: &str = "Warning: pause should be the first process\n";
pub const GOT_SIGTERM: &str = "Shutting down, got signal: Terminated\n";
pub const GOT_SIGINT: &str = "Shutting down, got signal: Interrupt\n";

/// The run ended by exiting 0 (not by a signal, not with another status).
pub fn assert_exit_0(ended: &Ended) {
    assert_eq!(ended.status.code(), Some(0), "{ended:?}");
}
