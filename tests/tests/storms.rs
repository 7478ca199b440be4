//! Storms: 20,000 orphans in waves with SIGCHLD floods and SIGSTOP/SIGCONT between them, and
//! SIGTERM in the middle of endless waves, with orphans held pending. On the host's own row
//! natively and one other under qemu-user (`on_host_and_one_emulated_arch`: amd64 and arm64 on
//! an amd64 machine). Nothing is lost: every orphan is reaped and pause exits 0 with its one
//! line.

use libc::{SIGCHLD, SIGCONT, SIGKILL, SIGSTOP, SIGTERM};
use pause_tests::{
    GOT_SIGTERM, PATIENCE, Pause, Runner, assert_shut_down, on_host_and_one_emulated_arch, poll,
    run_trials, scenarios, wait_bounded,
};
use std::os::unix::process::ExitStatusExt;

const WAVES: usize = 20;
const PER_WAVE: usize = 1000;

/// Hands `count` zombies to pause at once (pause must be PID 1 of its namespace).
fn orphan_wave(pause: &Pause, count: usize) -> std::process::Child {
    pause
        .command_inside(env!("CARGO_BIN_EXE_orphans"))
        .arg(count.to_string())
        .spawn()
        .expect("nsenter")
}

fn waves_with_floods_and_stops(runner: &Runner) {
    let pause = runner.spawn_as_init(&[]);
    pause.wait_until_sleeping();
    for wave in 0..WAVES {
        if wave % 4 == 1 {
            // A wave lands on a stopped pause: all its zombies wait for it. Stopped, pause
            // reaps nothing, so what it has now (zombies an earlier wave left) stays, and the
            // wave can only add to it: exactly PER_WAVE more, every one a zombie (the maker
            // exits only once all its children are, handing them over as it does).
            pause.signal(SIGSTOP);
            poll("pause to stop", || (pause.state() == 'T').then_some(()));
            let before = pause.children().len();
            let mut maker = orphan_wave(&pause, PER_WAVE);
            assert!(wait_bounded(&mut maker, PATIENCE).success());
            pause.wait_for_zombies(before + PER_WAVE);
            pause.signal(SIGCONT);
        } else {
            let mut maker = orphan_wave(&pause, PER_WAVE);
            for _ in 0..500 {
                pause.signal(SIGCHLD);
            }
            assert!(wait_bounded(&mut maker, PATIENCE).success());
        }
    }
    pause.wait_until_childless();
    pause.wait_until_sleeping();
    assert_eq!(pause.stderr_so_far(), "");
    assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM);
}

/// SIGTERM once the first, second and third wave have landed, with the waves still coming
/// and orphans pending for certain: exit 0 with the one line, and the waves' loop, which never
/// ends by itself, ended with the namespace.
fn sigterm_in_the_middle_of_a_wave(runner: &Runner) {
    for landed in 1..=3 {
        let pause = runner.spawn_as_init(&[]);
        pause.wait_until_sleeping();
        let held = pause.hold_orphans(20);
        // Wave after wave without end, a line as each lands: the wave's maker has exited,
        // handing its zombies to pause.
        let script = format!(
            r#"trap 'exec sh -c "$0" "$0"' EXIT
            while :; do {} {PER_WAVE} >/dev/null && echo landed; done"#,
            env!("CARGO_BIN_EXE_orphans")
        );
        let mut waves = pause.start_inside(&script);
        waves.wait_for_lines(landed);
        held.assert_held(&pause);
        assert_shut_down!(pause.stop_with(SIGTERM), GOT_SIGTERM, "after {landed}");
        // Only the namespace's end (SIGKILL to all in it, re-raised by nsenter) ends the loop;
        // the EXIT trap restarts it should a fork be refused as the namespace goes.
        let status = waves.wait();
        assert_eq!(
            status.signal(),
            Some(SIGKILL),
            "after {landed}: the waves ended by themselves ({status}), not with the namespace"
        );
    }
}

fn main() {
    run_trials(on_host_and_one_emulated_arch(scenarios![
        waves_with_floods_and_stops,
        sigterm_in_the_middle_of_a_wave,
    ]))
}
