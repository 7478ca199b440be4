//! Orphans on demand, for the bench's reaping figures (`cargo xtask zombies N`) and the test
//! suite's storms (the `orphans` binary): both run it inside an init's PID namespace through
//! nsenter, so that the kernel hands the init every zombie at once. One implementation for
//! both, here beside the bench (the tests crate depends on xtask, not the reverse), so that the
//! bench measures exactly the storms the tests prove pause survives.

use anyhow::{Context, Result};

/// Forks `n` children that exit at once, prints "ready" once every one of them is a zombie,
/// and returns: when the caller then exits, its `n` zombies go to the namespace's init
/// together, none of them still running.
pub fn make_zombies(n: usize) -> Result<()> {
    let mut pids = Vec::with_capacity(n);
    for _ in 0..n {
        // SAFETY: the child only exits.
        match unsafe { libc::fork() } {
            // SAFETY: _exit runs no atexit handlers or destructors: nothing the parent's
            // threads left half-done is touched in the forked child.
            0 => unsafe { libc::_exit(0) },
            -1 => return Err(std::io::Error::last_os_error()).context("fork"),
            pid => pids.push(pid),
        }
    }
    // waitid(2) with WEXITED returns once the child has exited, that is once it is a zombie
    // (exit_notify done), not merely past closing its files; WNOWAIT leaves it one, unreaped.
    for pid in pids {
        loop {
            // SAFETY: waitid(2) on our own child, into a zeroed siginfo_t of our own.
            let rc = unsafe {
                let mut info: libc::siginfo_t = std::mem::zeroed();
                libc::waitid(
                    libc::P_PID,
                    pid as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOWAIT,
                )
            };
            if rc == 0 {
                break;
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e).with_context(|| format!("waitid for child {pid}"));
            }
        }
    }
    println!("ready");
    Ok(())
}
