//! Starting an init as PID 1 of a new PID namespace, straight from this process, and knowing
//! when it has gone to sleep.

use super::peers::{Peer, host_arch};
use super::procfs;
use anyhow::{Context, Result, bail};
use std::ffi::{CString, c_void};
use std::time::{Duration, Instant};

/// A process started as PID 1 of a new PID namespace, killed (with its namespace) on drop.
pub struct Sandbox {
    pub pid: i32,
    name: &'static str,
}

/// What the cloned child needs, all built before the clone: after it, the child may only make
/// async-signal-safe calls, and allocating is not one.
struct Exec {
    argv: Vec<*const libc::c_char>,
    envp: [*const libc::c_char; 1],
    dev_null: CString,
}

/// The child's whole life: stdio to /dev/null, then exec the init (or exit 127).
extern "C" fn exec_init(exec: *mut c_void) -> libc::c_int {
    // SAFETY: `exec` points to the parent's `Exec`, copied with the rest of its memory into this
    // child (no CLONE_VM); only async-signal-safe calls follow.
    unsafe {
        let exec = &*(exec as *const Exec);
        let fd = libc::open(exec.dev_null.as_ptr(), libc::O_RDWR);
        for target in 0..3 {
            libc::dup2(fd, target);
        }
        libc::execve(exec.argv[0], exec.argv.as_ptr(), exec.envp.as_ptr());
        libc::_exit(127)
    }
}

/// Room for `exec_init`'s few calls (libc's wrappers, then the kernel's execve).
const CHILD_STACK: usize = 64 * 1024;

impl Sandbox {
    /// Clones the init straight from this process, so no unshare(1) or fork helper stays
    /// around to be counted in the memory figures.
    ///
    /// libc's clone(3) wrapper, not the raw syscall: the raw clone's argument order differs
    /// between architectures (x86_64 puts the child TID before TLS, arm64 and most others after
    /// it, s390x swaps stack and flags), and the wrapper knows each. It wants a stack for the
    /// child; without CLONE_VM the child gets a copy of our memory, stack included, so this is
    /// a fork into a new PID namespace. unshare(CLONE_NEWPID) + fork would instead move every
    /// later child of the bench (strace, the timed spawns) into that namespace too.
    pub fn start(peer: &Peer) -> Result<Sandbox> {
        let argv = peer.idle_argv();
        let exec = Exec {
            argv: argv
                .iter()
                .map(|a| a.as_ptr())
                .chain([std::ptr::null()])
                .collect(),
            envp: [std::ptr::null()],
            dev_null: CString::new("/dev/null").expect("no NUL"),
        };
        let mut stack = vec![0u8; CHILD_STACK];
        // Stacks grow down on every architecture we ship, and the ABIs want 16-byte alignment.
        let top = stack.as_mut_ptr().wrapping_add(CHILD_STACK);
        let top = top.wrapping_sub(top as usize % 16);
        // SAFETY: `exec_init` touches only `exec` and `argv`, which outlive this call in the
        // parent and are copied into the child; `top` is the aligned end of a live allocation.
        let pid = unsafe {
            libc::clone(
                exec_init,
                top.cast(),
                libc::CLONE_NEWPID | libc::SIGCHLD,
                (&exec as *const Exec).cast_mut().cast(),
            )
        };
        if pid < 0 {
            return Err(std::io::Error::last_os_error()).context("clone(CLONE_NEWPID)");
        }
        Ok(Sandbox {
            pid,
            name: peer.name,
        })
    }

    /// Waits until it blocks in a syscall that sleeps.
    pub fn wait_until_idle(&self) -> Result<()> {
        // The calls the peers sleep in, by this machine's numbers (libc has each
        // architecture's table), and ours from the architecture table.
        let mut sleeps = vec![
            libc::SYS_ppoll,
            libc::SYS_rt_sigsuspend,
            libc::SYS_rt_sigtimedwait,
            libc::SYS_read,
            libc::SYS_epoll_pwait,
            libc::SYS_wait4,
            libc::SYS_waitid,
        ];
        sleeps.push(host_arch()?.sleep.nr);
        // Older tables keep these, and glibc's poll and epoll_wait use them there; the generic
        // table (arm64, riscv64, loong64) has only the p-variants above.
        #[cfg(any(
            target_arch = "x86_64",
            target_arch = "x86",
            target_arch = "arm",
            target_arch = "powerpc64",
            target_arch = "s390x",
            target_arch = "mips",
            target_arch = "mips64"
        ))]
        sleeps.extend([libc::SYS_poll, libc::SYS_epoll_wait]);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let nr = procfs::current_syscall(self.pid);
            if nr.is_some_and(|nr| sleeps.contains(&nr)) {
                return Ok(());
            }
            // A failed exec exits at once: say so now rather than after the deadline.
            if procfs::proc_stat(self.pid).is_some_and(|stat| stat.state == 'Z') {
                bail!(
                    "{} (pid {}) exited before going to sleep",
                    self.name,
                    self.pid
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{} (pid {}) never went to sleep (syscall {nr:?})",
                    self.name,
                    self.pid
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // SAFETY: our own child, not yet waited for, so its PID cannot have been reused.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_is_pid_1_of_its_own_namespace_and_dies_with_its_handle() {
        // SAFETY: geteuid(2) cannot fail and touches no memory.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "new PID namespaces need root"
        );
        let sleeper = Peer {
            name: "sleep",
            path: "/bin/sleep".into(),
            idle_args: vec!["infinity".into()],
            version_args: vec![],
        };
        let sandbox = Sandbox::start(&sleeper).unwrap();
        let status = format!("/proc/{}/status", sandbox.pid);
        let deadline = Instant::now() + Duration::from_secs(10);
        // Until the exec, the child still carries our name.
        while procfs::field(&status, "Name").as_deref() != Some("sleep") {
            assert!(Instant::now() < deadline, "sleep never started");
            std::thread::sleep(Duration::from_millis(2));
        }
        let nspid = std::fs::read_to_string(&status).unwrap();
        let nspid = nspid.lines().find(|l| l.starts_with("NSpid:")).unwrap();
        let ids: Vec<&str> = nspid.split_whitespace().skip(1).collect();
        assert_eq!(ids, [sandbox.pid.to_string().as_str(), "1"], "{nspid}");
        let pid = sandbox.pid;
        drop(sandbox);
        assert!(
            procfs::proc_stat(pid).is_none(),
            "pid {pid} outlived its handle"
        );
    }
}
