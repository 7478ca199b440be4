//! How the host runs one architecture's binary: natively for the rows the table says this
//! host's kernel runs (failing if it cannot), under qemu-user otherwise, and with what signal
//! state it starts.

use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Arch, Pause};

/// How the host runs one architecture's binary.
#[derive(Debug, Clone)]
pub struct Runner {
    pub arch: &'static Arch,
    pub binary: PathBuf,
    /// The qemu-user emulator, or None when the host kernel runs the binary itself.
    pub qemu: Option<PathBuf>,
}

impl Runner {
    /// The runner for the architecture with this OCI name. Fails (naming the Debian package)
    /// when a tool is missing, and when `cargo xtask dist` has not been run.
    pub fn new(name: &str) -> Runner {
        let arch = Arch::named(name).unwrap_or_else(|| panic!("no architecture {name}"));
        Runner::for_binary(arch, arch.dist_binary())
    }

    /// The runner for a test-only build of this architecture (`Arch::test_binary`).
    pub fn test_build(name: &str, variant: &str) -> Runner {
        let arch = Arch::named(name).unwrap_or_else(|| panic!("no architecture {name}"));
        Runner::for_binary(arch, arch.test_binary(variant))
    }

    fn for_binary(arch: &'static Arch, binary: PathBuf) -> Runner {
        assert!(
            binary.is_file(),
            "{} is missing: run `cargo xtask test` (it builds it) first",
            binary.display()
        );
        require_tool("unshare", "util-linux");
        require_tool("nsenter", "util-linux");
        let qemu = if runs_natively(arch, &binary) {
            None
        } else {
            Some(require_tool(arch.qemu, "qemu-user-static"))
        };
        Runner { arch, binary, qemu }
    }

    /// The same binary under qemu-user even where the host could run it: qemu's `-strace`
    /// logs the guest's own calls, whatever the host's architecture.
    pub fn emulated(&self) -> Runner {
        Runner {
            qemu: Some(require_tool(self.arch.qemu, "qemu-user-static")),
            ..self.clone()
        }
    }

    /// A command that runs pause with `argv[0]` and then `args`.
    pub fn command_with_argv0(&self, argv0: impl AsRef<OsStr>, args: &[OsString]) -> Command {
        match &self.qemu {
            None => {
                let mut cmd = Command::new(&self.binary);
                cmd.arg0(argv0).args(args);
                cmd
            }
            Some(qemu) => {
                // qemu stops reading its own options at the program path; every argument after
                // it, dashes and all, is the guest's. -0 sets the guest's argv[0]; -cpu the
                // oldest CPU the target promises to run on.
                let mut cmd = Command::new(qemu);
                cmd.args(["-cpu", self.arch.qemu_cpu])
                    .arg("-0")
                    .arg(argv0)
                    .arg(&self.binary)
                    .args(args);
                cmd
            }
        }
    }

    /// A command that runs pause with these arguments (argv[0] is the binary's path).
    pub fn command(&self, args: &[&str]) -> Command {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        self.command_with_argv0(&self.binary, &args)
    }

    /// Host syscall number the sleeping process is blocked in, as /proc/PID/syscall shows it:
    /// the arch's own sleep when native, or the host call qemu makes for it (qemu waits for a
    /// guest pause(2) in rt_sigsuspend, and passes a guest ppoll through).
    pub fn sleep_syscall(&self) -> i64 {
        match (&self.qemu, self.arch.sleep.name) {
            (None, _) => self.arch.sleep.nr,
            (Some(_), "ppoll") => libc::SYS_ppoll,
            (Some(_), _) => libc::SYS_rt_sigsuspend,
        }
    }

    /// Starts pause as an ordinary process (not PID 1).
    pub fn spawn(&self, args: &[&str]) -> Pause {
        Pause::start(self.command(args), false, self)
    }

    /// Starts pause as PID 1 of a new PID namespace.
    pub fn spawn_as_init(&self, args: &[&str]) -> Pause {
        let inner = self.command(args);
        let mut cmd = Command::new("unshare");
        // --kill-child: if unshare goes, so does the namespace, even when a test panics.
        cmd.args(["--pid", "--fork", "--kill-child", "--"]);
        cmd.arg(inner.get_program()).args(inner.get_args());
        Pause::start(cmd, true, self)
    }
}

/// The rows this host's kernel runs itself (`Arch::runs_on_node` of the host's row): its own
/// architecture's and the one its kernel also runs (386 on amd64, arm on arm64). Empty on a
/// host whose architecture we do not ship.
pub fn native_arches() -> impl Iterator<Item = &'static Arch> {
    Arch::host().into_iter().flat_map(Arch::runs_on_node)
}

/// Whether `arch`'s binaries run on the host kernel itself: exactly the `native_arches` rows,
/// which exercise the real kernel's (32-bit, for the compat row) signal frames rather than
/// qemu's, and which the native-only checks rely on. A compat row this kernel refuses to
/// execute fails here, naming why, rather than quietly moving under qemu and losing those
/// checks without a word.
fn runs_natively(arch: &Arch, binary: &Path) -> bool {
    if !native_arches().any(|a| a == arch) {
        return false;
    }
    let host = Arch::host().expect("a native row implies a host row");
    if arch.goarch != host.goarch {
        let why = match Command::new(binary).arg("-v").output() {
            Ok(out) if out.status.success() => return true,
            Ok(out) => format!("`{} -v`: {}", binary.display(), out.status),
            Err(e) => format!("exec {}: {e}", binary.display()),
        };
        let mode = match host.name {
            "amd64" => "IA-32 emulation is off (CONFIG_IA32_EMULATION, or ia32_emulation=0)",
            _ => "32-bit compat mode (CONFIG_COMPAT) is off",
        };
        panic!(
            "this host is {} but its kernel cannot execute the {} binary ({why}): its {mode}. \
             The table runs {} natively on {} nodes; run the suite on a kernel that can",
            host.name, arch.name, arch.name, host.name
        );
    }
    true
}

/// The absolute path of `tool`, or a panic that names the Debian package providing it.
pub fn require_tool(tool: &str, package: &str) -> PathBuf {
    xtask::tools::require(tool, package).unwrap_or_else(|e| panic!("{e}"))
}

/// The syscall number the host's own pause binary sleeps in (for binaries that runtimes start
/// on this machine, which are always the host's architecture).
pub fn native_sleep_syscall() -> i64 {
    Arch::host()
        .expect("this machine's architecture is one we ship")
        .sleep
        .nr
}

/// Makes `cmd` start with the signal state a careless parent can leave behind, which execve
/// keeps: SIGINT, SIGTERM and SIGCHLD blocked, and SIGTERM ignored.
pub fn with_hostile_signal_state(cmd: &mut Command) -> &mut Command {
    // SAFETY: sigemptyset/sigaddset/sigprocmask/signal are async-signal-safe and touch only
    // this (forked) child.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signo in [libc::SIGINT, libc::SIGTERM, libc::SIGCHLD] {
                libc::sigaddset(&mut set, signo);
            }
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0
                || libc::signal(libc::SIGTERM, libc::SIG_IGN) == libc::SIG_ERR
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}
