//! Storms: 20,000 orphans in waves with SIGCHLD floods and SIGSTOP/SIGCONT between them, and
//! SIGTERM in the middle of a wave. On amd64 natively and arm64 under qemu. Nothing is lost:
//! every orphan is reaped and pause exits 0 with its one line.

use libc::{SIGCHLD, SIGCONT, SIGSTOP, SIGTERM};
use pause_tests::{GOT_SIGTERM, PATIENCE, Pause, Runner, poll, wait_bounded};
use std::time::Duration;

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
        let mut maker = orphan_wave(&pause, PER_WAVE);
        if wave % 4 == 1 {
            // Stopped while a wave lands: the zombies wait for it.
            pause.signal(SIGSTOP);
            poll("pause to stop", || (pause.state() == 'T').then_some(()));
            assert!(wait_bounded(&mut maker, PATIENCE).success());
            pause.signal(SIGCONT);
        } else {
            for _ in 0..500 {
                pause.signal(SIGCHLD);
            }
            assert!(wait_bounded(&mut maker, PATIENCE).success());
        }
    }
    pause.wait_until_childless();
    pause.wait_until_sleeping();
    assert_eq!(pause.stderr_so_far(), "");
    let ended = pause.stop_with(SIGTERM);
    assert_eq!(ended.status.code(), Some(0), "{ended:?}");
    assert_eq!(ended.stderr, GOT_SIGTERM);
}

fn sigterm_in_the_middle_of_a_wave(runner: &Runner) {
    for round in 0..3 {
        let pause = runner.spawn_as_init(&[]);
        pause.wait_until_sleeping();
        // Wave after wave, 20,000 orphans in all, landing as fast as they can be made.
        let script = format!(
            "i=0; while [ $i -lt {WAVES} ]; do {} {PER_WAVE}; i=$((i+1)); done",
            env!("CARGO_BIN_EXE_orphans")
        );
        let mut waves = pause.spawn_inside(&script);
        // SIGTERM while orphans are waiting to be reaped: the first wave, then later ones.
        poll("a wave to land on pause", || {
            (!pause.children().is_empty()).then_some(())
        });
        std::thread::sleep(Duration::from_millis(40 * round));
        let ended = pause.stop_with(SIGTERM);
        assert_eq!(ended.status.code(), Some(0), "round {round}: {ended:?}");
        assert_eq!(ended.stderr, GOT_SIGTERM, "round {round}");
        // The namespace died with its init, and the waves' shell with it.
        wait_bounded(&mut waves, PATIENCE);
    }
}

#[test]
fn amd64_waves_with_floods_and_stops() {
    waves_with_floods_and_stops(&Runner::new("amd64"));
}

#[test]
fn arm64_waves_with_floods_and_stops() {
    waves_with_floods_and_stops(&Runner::new("arm64"));
}

#[test]
fn amd64_sigterm_in_the_middle_of_a_wave() {
    sigterm_in_the_middle_of_a_wave(&Runner::new("amd64"));
}

#[test]
fn arm64_sigterm_in_the_middle_of_a_wave() {
    sigterm_in_the_middle_of_a_wave(&Runner::new("arm64"));
}
