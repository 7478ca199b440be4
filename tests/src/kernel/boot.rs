//! Booting a fetched kernel: the initramfs, the qemu command and a boot with a bounded wait.

use super::Fetched;
use crate::captured::run_captured;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::time::Duration;
use xtask::Kernel;

/// A newc initramfs: `/init`, `/bin/busybox`, the given files at the root (all 0755), and the
/// directories and `/dev/console` node the kernel and /init need before anything is mounted.
/// Owners are root and times zero, so the same inputs give the same bytes.
pub fn initramfs(init: &[u8], busybox: &[u8], files: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    const DIR: u32 = 0o040755;
    const FILE: u32 = 0o100755;
    // Without /dev/console in the initramfs, init starts with no stdin, stdout or stderr.
    const CONSOLE: u32 = 0o020600;
    let mut out = Vec::new();
    let mut ino = 0;
    let mut entry = |name: &str, mode: u32, data: &[u8], rdev: (u32, u32)| -> Result<()> {
        ino += 1;
        let size = u32::try_from(data.len()).with_context(|| format!("{name} is too large"))?;
        let mut writer = cpio::newc::Builder::new(name)
            .ino(ino)
            .mode(mode)
            .uid(0)
            .gid(0)
            .nlink(if mode == DIR { 2 } else { 1 })
            .mtime(0)
            .rdev_major(rdev.0)
            .rdev_minor(rdev.1)
            .write(&mut out, size);
        writer.write_all(data)?;
        writer.finish()?;
        Ok(())
    };
    for dir in ["bin", "dev", "proc", "tmp"] {
        entry(dir, DIR, &[], (0, 0))?;
    }
    entry("dev/console", CONSOLE, &[], (5, 1))?;
    entry("bin/busybox", FILE, busybox, (0, 0))?;
    entry("init", FILE, init, (0, 0))?;
    for (name, data) in files {
        entry(name, FILE, data, (0, 0))?;
    }
    cpio::newc::trailer(&mut out)?;
    Ok(out)
}

/// One boot: what the console said and how qemu ended.
#[derive(Debug)]
pub struct Boot {
    /// The qemu command line, for failure messages.
    pub command: String,
    /// The serial console, line endings as the guest's tty wrote them (`\r\n`).
    pub console: String,
    /// qemu's own stderr.
    pub qemu_stderr: String,
    /// None when the boot outlived the timeout and qemu was killed.
    pub status: Option<ExitStatus>,
    pub elapsed: Duration,
}

/// The qemu command that boots `kernel` with this initramfs: one CPU, no disk, no network, no
/// display, the first serial port on stdout, no reboot (a panic ends qemu).
pub fn qemu_command(kernel: &Kernel, fetched: &Fetched, initramfs: &Path) -> Command {
    let mut cmd = Command::new(&fetched.qemu);
    cmd.args(kernel.machine);
    if let Some(firmware) = &fetched.firmware {
        cmd.arg("-bios").arg(firmware);
    }
    cmd.args(["-m", &kernel.memory_mib.to_string(), "-smp", "1"]);
    cmd.args(["-display", "none", "-monitor", "none", "-serial", "stdio"]);
    cmd.args(["-nic", "none", "-no-reboot"]);
    cmd.arg("-kernel").arg(&fetched.image);
    cmd.arg("-initrd").arg(initramfs);
    if let Some(dtb) = &fetched.dtb {
        cmd.arg("-dtb").arg(dtb);
    }
    cmd.arg("-append").arg(
        format!(
            // An out-of-memory kill would leave /init's cases waiting for the boot's time-out;
            // a panic ends the boot at once (panic=-1 reboots, and -no-reboot exits qemu).
            "console={} quiet panic=-1 sysctl.vm.panic_on_oom=1 {}",
            kernel.console, kernel.append
        )
        .trim_end(),
    );
    cmd
}

/// Runs `cmd` (from [`qemu_command`]) until qemu exits or `timeout` passes, then kills it.
pub fn boot(mut cmd: Command, timeout: Duration) -> Result<Boot> {
    let command = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let run = run_captured(&mut cmd, timeout)?;
    Ok(Boot {
        command,
        console: String::from_utf8_lossy(&run.stdout).into_owned(),
        qemu_stderr: String::from_utf8_lossy(&run.stderr).into_owned(),
        status: run.status,
        elapsed: run.elapsed,
    })
}
