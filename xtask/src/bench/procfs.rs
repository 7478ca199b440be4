//! The few /proc readings both the bench and the test suite make about a process. They live
//! with the bench, which needs them, and the tests read them from here: the tests crate depends
//! on xtask and not the other way round, and a second copy of the stat parser could drift.

use std::fs;

/// The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) that we use.
#[derive(Debug, Clone, Copy)]
pub struct ProcStat {
    pub pid: i32,
    pub state: char,
    pub ppid: i32,
    pub utime: u64,
    pub stime: u64,
}

/// /proc/PID/stat, or None once the process is gone.
pub fn proc_stat(pid: i32) -> Option<ProcStat> {
    proc_stat_of(&format!("/proc/{pid}/stat"), pid)
}

/// A stat file at `path` (a task's, say) describing `pid`.
pub fn proc_stat_of(path: &str, pid: i32) -> Option<ProcStat> {
    let text = fs::read_to_string(path).ok()?;
    // The command name is in parentheses and may contain anything: split after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        pid,
        state: fields[0].chars().next()?,
        ppid: fields[1].parse().ok()?,
        utime: fields[11].parse().ok()?,
        stime: fields[12].parse().ok()?,
    })
}

/// Voluntary + involuntary context switches from a status file at `path`: each is a wake-up.
pub fn context_switches(path: &str) -> Option<u64> {
    let status = fs::read_to_string(path).ok()?;
    Some(
        status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum(),
    )
}

/// The number of the syscall `pid` is blocked in (first field of /proc/PID/syscall), if any.
pub fn current_syscall(pid: i32) -> Option<i64> {
    let text = fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The first word after "Name:" in a file of such lines (/proc/PID/status, /proc/meminfo,
/// smaps_rollup), or None when the file or the line is missing.
pub fn field(path: &str, name: &str) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .map(str::to_string)
}
