//! Running a command with a time limit, its stdout and stderr caught whole.

use anyhow::{Context, Result};
use fs_err::File;
use std::io::{Read, Seek, SeekFrom};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a bounded run left.
pub struct Captured {
    /// None when the command outlived the limit and was killed.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

/// Runs `cmd` with no stdin until it exits or `limit` passes, then kills it. What it wrote
/// before either is kept: a hung boot's console is the one clue to why it hung.
pub fn run_captured(cmd: &mut Command, limit: Duration) -> Result<Captured> {
    // Files, not pipes: a child that writes much can never block on a full pipe while we poll.
    let mut stdout = capture_file("stdout", cmd)?;
    let mut stderr = capture_file("stderr", cmd)?;
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(stdout.file().try_clone()?)
        .stderr(stderr.file().try_clone()?)
        .spawn()
        .with_context(|| format!("{cmd:?}"))?;
    let status = crate::wait::wait_within(&mut child, limit);
    let elapsed = start.elapsed();
    let read = |file: &mut File| -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    Ok(Captured {
        status,
        stdout: read(&mut stdout)?,
        stderr: read(&mut stderr)?,
        elapsed,
    })
}

/// An unnamed temporary file for `cmd`'s `stream`, which its errors name in place of a path.
fn capture_file(stream: &str, cmd: &Command) -> Result<File> {
    let file =
        tempfile::tempfile().with_context(|| format!("a file for the {stream} of {cmd:?}"))?;
    Ok(File::from_parts(file, format!("<the {stream} of {cmd:?}>")))
}
