//! The runtime matrix: the image as the pod sandbox under each runtime this machine can run,
//! with the shipped seccomp profile (seccomp/pause.json) wherever the runtime applies one. For
//! each: the runtime is the version the README states, pause is PID 1 of the sandbox's PID
//! namespace, the orphans left in it are exactly pause's children (held alive until the test
//! releases them) and then all reaped, and where the runtime sends SIGTERM to stop it, pause
//! exits 0 with its line.
//!
//! runc 1.1.5 (bookworm) is in seccomp.rs and sandbox.rs; here: runc 1.1.15 (trixie), gVisor's
//! runsc (bookworm's and trixie's, on the image's bundle), containerd 1.6 and 1.7 through CRI.
//! crun refuses this machine's hybrid cgroup layout, so it is not in the matrix.

use fs_err as fs;
use pause_tests::containerd::{Containerd, ContainerdSetup};
use pause_tests::containers::{
    HELD_ORPHANS, RELEASE_SIGNALS, Runc, assert_pid_1_of_its_namespace, assert_version,
    held_orphans_script, holds_exactly_then_reaps, made_orphans, output_of, run_ok,
};
use pause_tests::cri::{connect, run_sandbox, runtime, sandbox_config, stop_and_remove};
use pause_tests::debian::{trixie, trixie_runc};
use pause_tests::hardened::{hardened_bundle, profile_path};
use pause_tests::{
    Arch, Ended, GOT_SIGTERM, PATIENCE, assert_shut_down, poll, poll_or_fail, proc_stat,
    require_tool, status_field, wait_bounded,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Debian bookworm's runsc, as the README's matrix states it.
const RUNSC_VERSION: &str = "0.0~20221219";

/// Debian trixie's runsc, as the README's matrix states it.
const TRIXIE_RUNSC_VERSION: &str = "0.0~20240729";

/// Leaves HELD_ORPHANS orphans in `pid`'s PID namespace (from a shell entered there, which
/// prints their PIDs once it has made them all), sees pause hold exactly those, all alive,
/// then releases them from the host and waits until pause has reaped every one.
fn orphans_held_then_reaped_by(pid: i32) {
    let script = held_orphans_script(HELD_ORPHANS, "sleep");
    let out = run_ok(
        Command::new("nsenter")
            .args(["--target", &pid.to_string(), "--pid", "--"])
            .args(["sh", "-c", &script]),
    );
    let out = String::from_utf8_lossy(&out.stdout);
    let made = made_orphans(&out).unwrap_or_else(|| panic!("no `made` line: {out:?}"));
    holds_exactly_then_reaps(pid, &made, HELD_ORPHANS);
}

#[test]
fn runc_1_1_15_hardened_sandbox() {
    // trixie_runc fails unless it is the runc the README's matrix states.
    let runc = Runc::isolated_with(trixie_runc());
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let mut sandbox = runc.spawn_run(&hardened_bundle(work, &[]), "matrix", work);
    let pid = runc.pid("matrix");
    let ours = fs::read(Arch::host().unwrap().dist_binary()).unwrap();
    poll("runc to exec our binary", || {
        (fs::read(format!("/proc/{pid}/exe")).ok()? == ours).then_some(())
    });
    assert_pid_1_of_its_namespace(pid);
    assert_eq!(status_field(pid, "Seccomp"), "2");
    assert_eq!(
        status_field(pid, "Uid").split_whitespace().next(),
        Some("65535")
    );
    orphans_held_then_reaped_by(pid);
    assert_shut_down!(
        runc.stop_with_sigterm(&mut sandbox, "matrix", work),
        GOT_SIGTERM,
    );
}

/// `runsc ps`'s table: (UID, PID, PPID, CMD) per process.
fn runsc_ps(table: &str) -> Vec<(String, i32, i32, String)> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((
                f.first()?.to_string(),
                f.get(1)?.parse().ok()?,
                f.get(2)?.parse().ok()?,
                f.last()?.to_string(),
            ))
        })
        .collect()
}

/// The calls gVisor's kernel refused by the OCI seccomp filter, as the `--debug` log of the
/// sandbox (`runsc boot`) in `logs` records them: `[ 1: 1] Syscall 13: denied by seccomp`, the
/// task (PID:TID in the sandbox) and the call's number.
fn runsc_denials(logs: &Path) -> Vec<String> {
    let mut denials = Vec::new();
    for entry in fs::read_dir(logs).unwrap().flatten() {
        if !entry.file_name().to_string_lossy().contains(".boot.") {
            continue;
        }
        let text = fs::read_to_string(entry.path()).unwrap();
        for line in text.lines().filter(|l| l.contains("denied by seccomp")) {
            // "D1129 20:21:06.655549 24533 task_syscall.go:240] [   1:   1] Syscall 13: ..."
            let what = line.split_once("] ").map_or(line, |(_, what)| what);
            denials.push(what.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    denials
}

/// gVisor: the sandbox runs on gVisor's own kernel (ptrace platform here), so the checks go
/// through `runsc`: `ps` for PID 1 and PPIDs, `exec` of a bind-mounted static busybox for the
/// orphans and for gVisor's own /proc (process states), `kill` for SIGTERM; `runsc run` in the
/// foreground exits with the container's status, as `runc run` does. runsc applies the spec's
/// seccomp filter only with `--oci-seccomp` (inside the sandbox, by gVisor's kernel, whose /proc
/// shows no Seccomp mode); its `--debug` log names every call that filter refuses. That the
/// filter bites is shown by two runs that differ from the sandbox only by one call taken out of
/// the profile: each ends with pause's own status for that refusal (1 without rt_sigaction, as
/// upstream's; 42 and its line without its sleep) and gVisor's log records that call, and no
/// other, refused to PID 1; the full profile refuses pause nothing.
fn runsc_sandbox(runsc: &Path, version: &str) {
    assert_version(runsc, version);
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let runsc_cmd = |logs: &Path| {
        let mut cmd = Command::new(runsc);
        cmd.arg("--root").arg(state.path()).args([
            "--platform=ptrace",
            "--network=none",
            "--oci-seccomp",
            "--debug",
        ]);
        cmd.arg(format!("--debug-log={}/", logs.display()));
        cmd
    };
    // Every run's bundle alike: the image's, hardened, static busybox bind-mounted at /busybox.
    let bundle_without = |name: &str, without: &[&str]| -> (PathBuf, PathBuf) {
        let dir = work.join(name);
        let logs = dir.join("logs");
        fs::create_dir_all(&logs).unwrap();
        let bundle = hardened_bundle(&dir, without);
        let path = bundle.join("config.json");
        let mut config: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        config["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/busybox", "type": "bind", "source": "/bin/busybox",
            "options": ["rbind", "ro"],
        }));
        fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        (bundle, logs)
    };
    let id = |name: &str| format!("{name}-{}", std::process::id());
    let _cleanup = Cleanup(Box::new({
        let (runsc, state) = (runsc.to_path_buf(), state.path().to_path_buf());
        let ids: Vec<String> = ["matrix", "refused-rt_sigaction", "refused-sleep"]
            .iter()
            .map(|name| id(name))
            .collect();
        move || {
            for id in &ids {
                let _ = output_of(
                    Command::new(&runsc)
                        .arg("--root")
                        .arg(&state)
                        .args(["delete", "--force", id]),
                );
            }
        }
    }));

    let host = Arch::host().unwrap();
    for (name, call, nr, status, stderr) in [
        (
            "refused-rt_sigaction",
            "rt_sigaction",
            libc::SYS_rt_sigaction,
            1,
            "",
        ),
        (
            "refused-sleep",
            host.sleep.name,
            host.sleep.nr,
            42,
            "Error: infinite loop terminated\n",
        ),
    ] {
        let (bundle, logs) = bundle_without(name, &[call]);
        let out = output_of(
            runsc_cmd(&logs)
                .args(["run", "--bundle"])
                .arg(&bundle)
                .arg(id(name)),
        );
        assert_eq!(
            (out.status.code(), String::from_utf8_lossy(&out.stderr)),
            (Some(status), stderr.into()),
            "without {call}: {out:?}"
        );
        assert_eq!(
            runsc_denials(&logs),
            [format!("[ 1: 1] Syscall {nr}: denied by seccomp")],
            "without {call}: what gVisor's kernel refused"
        );
    }

    let (bundle, logs) = bundle_without("sandbox", &[]);
    let id = id("matrix");
    let mut sandbox = runsc_cmd(&logs)
        .args(["run", "--bundle"])
        .arg(&bundle)
        .arg(&id)
        .stdin(Stdio::null())
        .stdout(fs::File::create(work.join("out")).unwrap().into_file())
        .stderr(fs::File::create(work.join("err")).unwrap().into_file())
        .spawn()
        .unwrap();
    let ps = || {
        runsc_ps(&String::from_utf8_lossy(
            &output_of(runsc_cmd(&logs).args(["ps", &id])).stdout,
        ))
    };
    let pause = ("65535".to_string(), 1, 0, "pause".to_string());
    let first = poll("pause to run in gVisor", || ps().into_iter().next());
    assert_eq!(first, pause);
    // (PID, PPID, state) of every process, as gVisor's own /proc has them (busybox ps).
    let states = || -> Vec<(i32, i32, String)> {
        let out =
            run_ok(runsc_cmd(&logs).args(["exec", &id, "/busybox", "ps", "-o", "pid,ppid,stat"]));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                Some((
                    f.first()?.parse().ok()?,
                    f.get(1)?.parse().ok()?,
                    f.get(2)?.to_string(),
                ))
            })
            .collect()
    };

    // Orphans held in the sandbox until released: an exec'd shell makes them and prints their
    // PIDs once all are made; then pause (PID 1) is the parent of exactly those, all alive.
    let script = held_orphans_script(HELD_ORPHANS, "/busybox sleep");
    let out = run_ok(runsc_cmd(&logs).args(["exec", &id, "/busybox", "sh", "-c", &script]));
    let out = String::from_utf8_lossy(&out.stdout);
    let mut made = made_orphans(&out).unwrap_or_else(|| panic!("no `made` line: {out:?}"));
    made.sort();
    assert_eq!(made.len(), HELD_ORPHANS, "orphans made: {made:?}");
    let table = ps();
    let mut adopted: Vec<i32> = table.iter().filter(|p| p.2 == 1).map(|p| p.1).collect();
    adopted.sort();
    assert_eq!(adopted, made, "pause's children in runsc ps: {table:?}");
    let seen = states();
    for pid in &made {
        let state = seen.iter().find(|s| s.0 == *pid);
        assert!(
            state.is_some_and(|s| s.1 == 1 && !s.2.starts_with('Z')),
            "orphan {pid} is not a live child of pause in gVisor's /proc: {seen:?}"
        );
    }

    // Released, each by its PID with the release signals in turn, by one exec'd busybox kill
    // per signal.
    let mut kills = String::new();
    for ((_, signal), nth) in RELEASE_SIGNALS.iter().zip(0..) {
        let pids: Vec<String> = made
            .iter()
            .skip(nth)
            .step_by(RELEASE_SIGNALS.len())
            .map(i32::to_string)
            .collect();
        if !pids.is_empty() {
            kills += &format!("/busybox kill -s {signal} {} && ", pids.join(" "));
        }
    }
    run_ok(runsc_cmd(&logs).args(["exec", &id, "/busybox", "sh", "-c", &format!("{kills}true")]));
    // Then none is left: `runsc ps` lists a zombie too, so only pause means all reaped. The
    // deadline only guards against a hang.
    poll_or_fail(
        || {
            let table = ps();
            assert!(
                table.contains(&pause),
                "pause is gone from runsc ps: {table:?}"
            );
            if table.len() == 1 { Ok(()) } else { Err(table) }
        },
        |table| {
            let seen = states();
            let zombies = seen.iter().filter(|s| s.2.starts_with('Z')).count();
            format!(
                "{} of {HELD_ORPHANS} released orphans never reaped, {zombies} of them zombies: \
                 {table:?}\n{seen:?}",
                table.len() - 1
            )
        },
    );

    run_ok(runsc_cmd(&logs).args(["kill", &id, "TERM"]));
    let ended = Ended {
        status: wait_bounded(&mut sandbox, PATIENCE),
        stdout: fs::read_to_string(work.join("out")).unwrap(),
        stderr: fs::read_to_string(work.join("err")).unwrap(),
    };
    assert_shut_down!(ended, GOT_SIGTERM);
    // The control: under the full profile gVisor's kernel refused pause nothing.
    assert_eq!(runsc_denials(&logs), Vec::<String>::new());
}

struct Cleanup(Box<dyn Fn()>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        (self.0)()
    }
}

#[test]
fn runsc_bookworm_sandbox() {
    runsc_sandbox(&require_tool("runsc", "runsc"), RUNSC_VERSION);
}

#[test]
fn runsc_trixie_sandbox() {
    runsc_sandbox(&trixie("runsc").join("usr/bin/runsc"), TRIXIE_RUNSC_VERSION);
}

/// A CRI sandbox under the profile: PID 1, orphans reaped. containerd's CRI stops a sandbox
/// with SIGKILL, never SIGTERM: its task-exit event says 137, so there is no TERM to test.
/// `Containerd::start_with` fails unless containerd and runc are the versions the README states.
fn cri_sandbox(setup: ContainerdSetup) {
    let image = format!("localhost/pause:{}", env!("CARGO_PKG_VERSION"));
    let containerd = Containerd::start_with(&image, setup);
    containerd.import(&pause_tests::containers::image_archive(), "localhost/pause");
    let ours = fs::read(Arch::host().unwrap().dist_binary()).unwrap();
    let logs = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (mut cri, _) = connect(&containerd).await;
        let config = sandbox_config("matrix", logs.path(), Some(&profile_path()));
        let (id, pid) = run_sandbox(&mut cri, config).await;
        poll("the sandbox to exec our binary", || {
            (fs::read(format!("/proc/{pid}/exe")).ok()? == ours).then_some(())
        });
        assert_pid_1_of_its_namespace(pid);
        assert_eq!(status_field(pid, "Seccomp"), "2");
        // Subscribed well before the stop: `ctr events` only sees what happens after it.
        let events_file = logs.path().join("events");
        let mut events = containerd
            .ctr()
            .arg("events")
            .stdout(fs::File::create(&events_file).unwrap().into_file())
            .spawn()
            .unwrap();
        orphans_held_then_reaped_by(pid);
        stop_and_remove(&mut cri, &id).await;
        poll("the sandbox process to end", || {
            proc_stat(pid).is_none_or(|s| s.state == 'Z').then_some(())
        });
        let exit = poll("the sandbox's task-exit event", || {
            let text = fs::read_to_string(&events_file).ok()?;
            let line = text
                .lines()
                .find(|l| l.contains("/tasks/exit") && l.contains(&id))?;
            let event: Value = serde_json::from_str(&line[line.find('{')?..]).ok()?;
            event["exit_status"].as_i64()
        });
        let _ = events.kill();
        let _ = events.wait();
        assert_eq!(
            exit,
            128 + libc::SIGKILL as i64,
            "the CRI stopped the sandbox otherwise"
        );
    });
    drop(containerd);
}

#[test]
fn containerd_1_6_cri_sandbox() {
    cri_sandbox(ContainerdSetup::default());
}

#[test]
fn containerd_1_7_cri_sandbox() {
    cri_sandbox(ContainerdSetup::trixie());
}
