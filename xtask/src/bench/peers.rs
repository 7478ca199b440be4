//! The inits the bench compares: ours for this machine's architecture, and the sandbox inits
//! operators choose between, as Debian packages them.

use crate::Arch;
use crate::tools::require;
use anyhow::{Context, Result, bail};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

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

/// A peer as Debian ships it.
struct Packaged {
    name: &'static str,
    tool: &'static str,
    package: &'static str,
    idle: &'static [&'static str],
    version: &'static [&'static str],
}

/// `catatonit -P` is podman's infra pause (static glibc: the closest stand-in for upstream's
/// static-glibc pause.c). tini and dumb-init need a child to supervise, so they run `sleep
/// infinity`; only their own process is measured.
const PACKAGED: [Packaged; 3] = [
    Packaged {
        name: "catatonit -P",
        tool: "catatonit",
        package: "catatonit",
        idle: &["-P"],
        version: &["--version"],
    },
    Packaged {
        name: "tini-static",
        tool: "tini-static",
        package: "tini",
        idle: &["--", "/bin/sleep", "infinity"],
        version: &["--version"],
    },
    Packaged {
        name: "dumb-init",
        tool: "dumb-init",
        package: "dumb-init",
        idle: &["/bin/sleep", "infinity"],
        version: &["--version"],
    },
];

/// What the measurements run besides the inits: strace counts syscalls, nsenter puts the
/// orphan maker in a sandbox's namespace, unshare(1) holds an init under strace; the kubelet
/// node's builds need pkg-config and gcc (runc's cgo) and its teardown ip. (Go itself comes
/// with the machine; a missing one fails its build, naming the command.)
const TOOLS: [(&str, &str); 6] = [
    ("strace", "strace"),
    ("nsenter", "util-linux"),
    ("unshare", "util-linux"),
    ("pkg-config", "pkg-config"),
    ("gcc", "gcc"),
    ("ip", "iproute2"),
];

/// Everything the bench needs before it builds or measures anything: root (new PID
/// namespaces), a shipped architecture to be, and every peer and tool. All that is missing is
/// named at once, each tool with its Debian package.
pub fn preflight() -> Result<()> {
    let mut missing = Vec::new();
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root: every sandbox is PID 1 of a new PID namespace".to_string());
    }
    if let Err(e) = host_arch() {
        missing.push(e.to_string());
    }
    let tools = PACKAGED.iter().map(|p| (p.tool, p.package)).chain(TOOLS);
    missing.extend(
        tools.filter_map(|(tool, package)| Some(require(tool, package).err()?.to_string())),
    );
    if !missing.is_empty() {
        bail!("the bench needs:\n  {}", missing.join("\n  "));
    }
    Ok(())
}

/// The row of the architecture table this machine runs: our binary and its sleep call.
pub fn host_arch() -> Result<&'static Arch> {
    Arch::host().with_context(|| {
        format!(
            "this machine is {}, for which pause is not shipped",
            std::env::consts::ARCH
        )
    })
}

impl Peer {
    /// Ours for this machine's architecture, then the packaged peers.
    pub fn all() -> Result<Vec<Peer>> {
        let arch = host_arch()?;
        let path = arch.dist_binary();
        if !path.is_file() {
            bail!("{} is missing: run `cargo xtask dist`", path.display());
        }
        let ours = Peer {
            name: "pause (ours)",
            path,
            idle_args: vec![],
            version_args: vec!["-v".into()],
        };
        let strings = |args: &[&str]| args.iter().map(|s| s.to_string()).collect();
        let mut peers = vec![ours];
        for packaged in &PACKAGED {
            peers.push(Peer {
                name: packaged.name,
                path: require(packaged.tool, packaged.package)?,
                idle_args: strings(packaged.idle),
                version_args: strings(packaged.version),
            });
        }
        Ok(peers)
    }

    /// The argv that makes it an idle sandbox, as C strings for execve.
    pub fn idle_argv(&self) -> Vec<CString> {
        std::iter::once(CString::new(self.path.as_os_str().as_bytes()).expect("no NUL in a path"))
            .chain(
                self.idle_args
                    .iter()
                    .map(|a| CString::new(a.as_str()).expect("no NUL in an argument")),
            )
            .collect()
    }
}
