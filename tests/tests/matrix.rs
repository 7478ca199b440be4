//! The runtime matrix: the image as the pod sandbox under each runtime this machine can run,
//! with the shipped seccomp profile (seccomp/pause.json) wherever the runtime applies one. For
//! each: pause is PID 1 of the sandbox's PID namespace, orphans left in it are reaped, and
//! where the runtime sends SIGTERM to stop it, pause exits 0 with its line.
//!
//! runc 1.1.5 (bookworm) is in seccomp.rs and sandbox.rs; here: runc 1.1.15 (trixie), gVisor's
//! runsc (bookworm's and trixie's, on the image's bundle), containerd 1.6 and 1.7 through CRI.
//! crun refuses this machine's hybrid cgroup layout, so it is not in the matrix.

use pause_tests::containerd::{Containerd, ContainerdSetup};
use pause_tests::containers::{Runc, output_of, run_ok, stdout_of};
use pause_tests::cri::{connect, run_sandbox, runtime, sandbox_config, stop_and_remove};
use pause_tests::debian::{trixie, trixie_runc};
use pause_tests::hardened::{hardened_bundle, profile_path};
use pause_tests::{
    Arch, GOT_SIGTERM, PATIENCE, children, poll, proc_stat, require_tool, status_field,
    wait_bounded,
};
use serde_json::{Value, json};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

const ORPHANS: usize = 30;

/// The host process `pid` is PID 1 of its own PID namespace.
fn is_pid_1_of_its_namespace(pid: i32) -> bool {
    // NSpid lists the PID in each namespace from the host's down to its own.
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let nspid = status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .unwrap();
    let pids: Vec<&str> = nspid.split_whitespace().collect();
    pids.len() == 2 && pids[1] == "1"
}

/// How long each orphan lives: long enough to be seen adopted even on a loaded machine (two
/// cores, four qemu boots beside), short enough that reaping them all is quick.
const ORPHAN_SECONDS: u32 = 3;

/// Leaves ORPHANS orphans in `pid`'s PID namespace (each subshell exits at once, so its
/// `sleep` is reparented to the namespace's init) and waits until pause has reaped them all.
fn orphans_reaped_by(pid: i32) {
    let script = format!("for i in $(seq {ORPHANS}); do (sleep {ORPHAN_SECONDS} &); done");
    run_ok(
        Command::new("nsenter")
            .args([
                "--target",
                &pid.to_string(),
                "--pid",
                "--",
                "sh",
                "-c",
                &script,
            ])
            .stdout(Stdio::null()),
    );
    poll("pause to adopt the orphans", || {
        (children(pid).len() >= ORPHANS).then_some(())
    });
    poll("pause to reap them all", || {
        children(pid).is_empty().then_some(())
    });
}

#[test]
fn runc_1_1_15_hardened_sandbox() {
    let binary = trixie_runc();
    let version = stdout_of(Command::new(&binary).arg("--version"));
    assert!(version.starts_with("runc version 1.1.15"), "{version}");
    let runc = Runc::isolated_with(binary);
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let mut sandbox = runc.spawn_run(&hardened_bundle(work, &[]), "matrix", work);
    let pid = runc.pid("matrix");
    let ours = fs::read(Arch::host().unwrap().dist_binary()).unwrap();
    poll("runc to exec our binary", || {
        (fs::read(format!("/proc/{pid}/exe")).ok()? == ours).then_some(())
    });
    assert!(is_pid_1_of_its_namespace(pid));
    assert_eq!(status_field(pid, "Seccomp"), "2");
    assert_eq!(
        status_field(pid, "Uid").split_whitespace().next(),
        Some("65535")
    );
    orphans_reaped_by(pid);
    runc.kill("matrix", "TERM");
    let status = wait_bounded(&mut sandbox, PATIENCE);
    assert_eq!(status.code(), Some(0), "{status}");
    assert_eq!(
        fs::read_to_string(work.join("matrix.err")).unwrap(),
        GOT_SIGTERM
    );
}

/// `runsc ps`'s table: (UID, PID, PPID, CMD) per process.
fn runsc_ps(table: &str) -> Vec<(String, String, String, String)> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((
                f.first()?.to_string(),
                f.get(1)?.to_string(),
                f.get(2)?.to_string(),
                f.last()?.to_string(),
            ))
        })
        .collect()
}

/// gVisor: the sandbox runs on gVisor's own kernel (ptrace platform here), so the checks go
/// through `runsc`: `ps` for PID 1, `exec` of a bind-mounted static busybox for orphans and
/// for gVisor's /proc, `kill` for SIGTERM; `runsc run` in the foreground exits with the
/// container's status, as `runc run` does. runsc applies the spec's seccomp filter only with
/// `--oci-seccomp` (inside the sandbox, by gVisor's kernel, whose /proc shows no Seccomp mode):
/// that it bites is shown by taking rt_sigaction away, and pause exits 1, as upstream's does.
fn runsc_sandbox(runsc: &Path) {
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let runsc_cmd = || {
        let mut cmd = Command::new(runsc);
        cmd.arg("--root").arg(state.path()).args([
            "--platform=ptrace",
            "--network=none",
            "--oci-seccomp",
        ]);
        cmd
    };
    let refused = work.join("refused");
    fs::create_dir(&refused).unwrap();
    let without_sigaction = hardened_bundle(&refused, &["rt_sigaction"]);
    let out = output_of(
        runsc_cmd()
            .args(["run", "--bundle"])
            .arg(&without_sigaction)
            .arg(format!("refused-{}", std::process::id())),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "without rt_sigaction: {:?}",
        out
    );

    let bundle = hardened_bundle(work, &[]);
    let path = bundle.join("config.json");
    let mut config: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    config["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/busybox", "type": "bind", "source": "/bin/busybox",
        "options": ["rbind", "ro"],
    }));
    fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    let id = format!("matrix-{}", std::process::id());
    let _cleanup = Cleanup(Box::new({
        let (runsc, state, id) = (runsc.to_path_buf(), state.path().to_path_buf(), id.clone());
        move || {
            let _ = output_of(
                Command::new(&runsc)
                    .arg("--root")
                    .arg(&state)
                    .args(["delete", "--force", &id]),
            );
        }
    }));
    let mut sandbox = runsc_cmd()
        .args(["run", "--bundle"])
        .arg(&bundle)
        .arg(&id)
        .stdin(Stdio::null())
        .stdout(fs::File::create(work.join("out")).unwrap())
        .stderr(fs::File::create(work.join("err")).unwrap())
        .spawn()
        .unwrap();
    let ps = || {
        runsc_ps(&String::from_utf8_lossy(
            &output_of(runsc_cmd().args(["ps", &id])).stdout,
        ))
    };
    let first = poll("pause to run in gVisor", || ps().into_iter().next());
    assert_eq!(
        first,
        ("65535".into(), "1".into(), "0".into(), "pause".into())
    );

    let script = format!("for i in $(seq {ORPHANS}); do (/busybox sleep {ORPHAN_SECONDS} &); done");
    run_ok(runsc_cmd().args(["exec", &id, "/busybox", "sh", "-c", &script]));
    let adopted = ps()
        .iter()
        .filter(|p| p.2 == "1" && p.3 == "busybox")
        .count();
    assert!(adopted > 0, "no orphan of pause's to reap: {:?}", ps());
    poll("pause to reap the orphans", || {
        (ps().len() == 1).then_some(())
    });
    run_ok(runsc_cmd().args(["kill", &id, "TERM"]));
    let exit = wait_bounded(&mut sandbox, PATIENCE);
    assert_eq!(exit.code(), Some(0), "{exit}");
    assert_eq!(fs::read_to_string(work.join("err")).unwrap(), GOT_SIGTERM);
}

struct Cleanup(Box<dyn Fn()>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        (self.0)()
    }
}

#[test]
fn runsc_bookworm_sandbox() {
    runsc_sandbox(&require_tool("runsc", "runsc"));
}

#[test]
fn runsc_trixie_sandbox() {
    runsc_sandbox(&trixie("runsc").join("usr/bin/runsc"));
}

/// A CRI sandbox under the profile: PID 1, orphans reaped. containerd's CRI stops a sandbox
/// with SIGKILL, never SIGTERM: its task-exit event says 137, so there is no TERM to test.
fn cri_sandbox(setup: ContainerdSetup, expected_version: &str) {
    let version = stdout_of(
        Command::new(match &setup.bin_dir {
            Some(dir) => dir.join("containerd"),
            None => "containerd".into(),
        })
        .arg("--version"),
    );
    assert!(version.contains(expected_version), "{version}");
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
        assert!(is_pid_1_of_its_namespace(pid));
        assert_eq!(status_field(pid, "Seccomp"), "2");
        // Subscribed well before the stop: `ctr events` only sees what happens after it.
        let events_file = logs.path().join("events");
        let mut events = containerd
            .ctr()
            .arg("events")
            .stdout(fs::File::create(&events_file).unwrap())
            .spawn()
            .unwrap();
        orphans_reaped_by(pid);
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
    cri_sandbox(ContainerdSetup::default(), " 1.6.");
}

#[test]
fn containerd_1_7_cri_sandbox() {
    let bin_dir = trixie("containerd").join("usr/bin");
    cri_sandbox(
        ContainerdSetup {
            bin_dir: Some(bin_dir),
            ..Default::default()
        },
        " 1.7.",
    );
}
