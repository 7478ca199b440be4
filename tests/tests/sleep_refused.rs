//! When the sleep call itself is refused (here by a seccomp filter that answers EPERM, as a
//! too-strict runtime profile would), upstream's `for (;;) pause();` spins on a CPU forever.
//! Ours ends the loop with upstream's message and status 42 instead.
//!
//! Shown where the refusal reaches pause: natively (amd64, 386) and for the ppoll arches under
//! qemu, whose ppoll passes the host's error on. qemu-user's emulation of pause(2) answers
//! EINTR whatever its host call returned, so on arm, ppc64le and s390x no refusal can reach the
//! guest and there is nothing to observe under emulation.

use libseccomp::{ScmpAction, ScmpArch, ScmpFilterContext, ScmpSyscall};
use pause_tests::{Pause, Runner, WARNING};
use std::io::{Read, Seek};
use std::os::unix::process::CommandExt;

fn sleep_refused(name: &str) {
    let runner = Runner::new(name);
    if let Some(qemu) = &runner.qemu {
        // 130: the host rt_sigsuspend that qemu turns a guest pause(2) into.
        assert_ne!(
            runner.sleep_syscall(),
            130,
            "{}: qemu's pause emulation cannot report a refusal",
            qemu.display()
        );
    }
    let mut command = runner.command(&[]);
    refuse_sleeping(&mut command);
    let ended = Pause::from_command(&runner, command).wait();
    assert_eq!(ended.status.code(), Some(42), "{ended:?}");
    assert_eq!(
        ended.stderr,
        format!("{WARNING}Error: infinite loop terminated\n")
    );
}

/// Makes every way pause (or qemu, for it) can sleep fail with EPERM, for x86_64 and i386
/// tasks alike.
fn refuse_sleeping(command: &mut std::process::Command) {
    let mut filter = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    filter.add_arch(ScmpArch::X86).unwrap();
    for call in ["pause", "ppoll", "rt_sigsuspend"] {
        let call = ScmpSyscall::from_name(call).unwrap();
        filter
            .add_rule(ScmpAction::Errno(libc::EPERM), call)
            .unwrap();
    }
    // Compile before the fork; the child only hands the finished program to the kernel.
    let mut file = tempfile::tempfile().unwrap();
    filter.export_bpf(&file).unwrap();
    let mut bytes = Vec::new();
    file.rewind().unwrap();
    file.read_to_end(&mut bytes).unwrap();
    let program: Vec<libc::sock_filter> = bytes
        .chunks_exact(size_of::<libc::sock_filter>())
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    // SAFETY: prctl is async-signal-safe and `program` was built before the fork.
    unsafe {
        command.pre_exec(move || {
            let fprog = libc::sock_fprog {
                len: program.len() as u16,
                filter: program.as_ptr() as *mut _,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn amd64() {
    sleep_refused("amd64");
}

#[test]
fn i386() {
    sleep_refused("386");
}

#[test]
fn arm64() {
    sleep_refused("arm64");
}

#[test]
fn riscv64() {
    sleep_refused("riscv64");
}

#[test]
fn loong64() {
    sleep_refused("loong64");
}
