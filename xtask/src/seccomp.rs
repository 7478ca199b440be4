//! seccomp/pause.json, derived from the architecture table: a Docker/containerd-format profile
//! that allows exactly what pause calls on each architecture, plus what a runtime does between
//! loading the filter and exec'ing pause. `cargo xtask generate` writes it; a test fails when
//! the committed file differs from what this writes.

use crate::{ARCHES, Arch};
use serde_json::{Value, json};

/// Where the profile lives in the repository.
pub const PATH: &str = "seccomp/pause.json";

/// What pause calls on every architecture: the PID-1 check, the mask it clears, its
/// messages, three handlers, reaping, exit.
const EVERY_ARCH: [&str; 6] = [
    "getpid",
    "write",
    "rt_sigprocmask",
    "rt_sigaction",
    "wait4",
    "exit_group",
];

/// The profile's bytes, as committed.
pub fn profile_json() -> String {
    let mut text = serde_json::to_string_pretty(&profile()).expect("a JSON value serialises");
    text.push('\n');
    text
}

/// The profile as a JSON value.
pub fn profile() -> Value {
    let mut syscalls = runtime_rules();
    syscalls.push(json!({
        "names": EVERY_ARCH,
        "action": "SCMP_ACT_ALLOW",
        "comment": "pause, every arch: the PID-1 check, clearing an inherited mask, its messages, \
                    three handlers, reaping, exit",
    }));
    syscalls.extend(per_arch_rules());
    syscalls.extend(compat_rules());
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": arch_map(),
        "syscalls": syscalls,
    })
}

/// The calls that pause makes on `arch` beyond [`EVERY_ARCH`]: its sleep and the return from
/// its (SA_SIGINFO-less) handlers.
pub fn arch_specific_calls(arch: &Arch) -> [&'static str; 2] {
    [arch.sleep.name, arch.signal_return.call(false)]
}

/// Every call the shipped pause makes on `arch`.
pub fn calls(arch: &Arch) -> Vec<&'static str> {
    let mut calls = EVERY_ARCH.to_vec();
    calls.extend(arch_specific_calls(arch));
    calls
}

/// One entry per native architecture (one whose kernel is not merely another's compat mode),
/// with the 32-bit architecture its kernel also runs as a sub-architecture.
fn arch_map() -> Vec<Value> {
    let mut map: Vec<Value> = Vec::new();
    for arch in ARCHES {
        let is_compat = ARCHES.iter().any(|other| other.compat == Some(arch.goarch));
        if is_compat || map.iter().any(|e| e["architecture"] == arch.seccomp) {
            continue;
        }
        let sub: Vec<&str> = ARCHES
            .iter()
            .find(|other| Some(other.goarch) == arch.compat)
            .map(|compat| compat.seccomp)
            .into_iter()
            .collect();
        map.push(json!({"architecture": arch.seccomp, "subArchitectures": sub}));
    }
    map
}

/// Go architectures whose binaries sleep and return the same way share one rule, in table
/// order (`includes.arches` names Go architectures, so arm's variants are one entry).
fn per_arch_rules() -> Vec<Value> {
    let mut groups: Vec<([&str; 2], Vec<&str>)> = Vec::new();
    for arch in ARCHES {
        let calls = arch_specific_calls(arch);
        match groups.iter_mut().find(|(c, _)| *c == calls) {
            Some((_, arches)) if arches.contains(&arch.goarch) => {}
            Some((_, arches)) => arches.push(arch.goarch),
            None => groups.push((calls, vec![arch.goarch])),
        }
    }
    groups
        .into_iter()
        .map(|([sleep, sigreturn], arches)| {
            let why_sleep = match sleep {
                "pause" => "sleeps in pause(2)",
                _ => "no pause(2) in the generic table, so ppoll",
            };
            let why_return = match sigreturn {
                "sigreturn" => "handlers without SA_SIGINFO return through the old-style sigreturn",
                _ => "handlers return through rt_sigreturn",
            };
            json!({
                "names": [sleep, sigreturn],
                "action": "SCMP_ACT_ALLOW",
                "includes": {"arches": arches},
                "comment": format!("pause: {why_sleep}; {why_return}"),
            })
        })
        .collect()
}

/// A node whose kernel also runs another Go architecture's binaries must allow their calls
/// too (a 386 image on an amd64 node, arm on arm64).
fn compat_rules() -> Vec<Value> {
    let mut rules = Vec::new();
    let mut nodes_done: Vec<&str> = Vec::new();
    for node in ARCHES {
        let Some(compat) = node.compat else { continue };
        // One rule per node architecture, however many rows share its GOARCH.
        if nodes_done.contains(&node.goarch) {
            continue;
        }
        nodes_done.push(node.goarch);
        let own: Vec<&str> = node
            .runs_on_node()
            .filter(|a| a.goarch == node.goarch)
            .flat_map(arch_specific_calls)
            .collect();
        let mut names: Vec<&str> = Vec::new();
        for call in node
            .runs_on_node()
            .filter(|a| a.goarch == compat)
            .flat_map(arch_specific_calls)
        {
            if !own.contains(&call) && !names.contains(&call) {
                names.push(call);
            }
        }
        let sub = node
            .runs_on_node()
            .find(|a| a.goarch == compat)
            .map_or("", |a| a.seccomp);
        if !names.is_empty() {
            rules.push(json!({
                "names": names,
                "action": "SCMP_ACT_ALLOW",
                "includes": {"arches": [node.goarch]},
                "comment": format!(
                    "pause: the {compat} image on {} nodes (the {} sub-architecture)",
                    node.goarch,
                    sub.trim_start_matches("SCMP_ARCH_").to_lowercase()
                ),
            }));
        }
    }
    rules
}

/// What the runtime itself does after loading the filter and before pause runs: measured with
/// runc 1.1 (see the comments), the same on every architecture.
fn runtime_rules() -> Vec<Value> {
    vec![
        json!({
            "names": ["execve", "openat", "close", "fstatfs", "getdents64"],
            "action": "SCMP_ACT_ALLOW",
            "comment": "runtime: runc loads the filter in its init just before exec'ing /pause; \
                        in between it closes its log pipe, checks /proc/self/fd (fstatfs, \
                        getdents64), opens and writes its exec fifo (write is pause's anyway), \
                        then execs",
        }),
        json!({
            "names": [
                "futex", "sched_yield", "nanosleep", "mmap", "munmap", "madvise",
                "rt_sigprocmask", "sigaltstack", "rt_sigreturn", "gettid", "tgkill", "exit"
            ],
            "action": "SCMP_ACT_ALLOW",
            "comment": "runtime: runc is written in Go, and the Go runtime on that same thread may \
                        wake or yield to other threads, manage memory, or take a preemption \
                        signal before the exec happens",
        }),
    ]
}
