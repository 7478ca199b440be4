//! The real binary executed with random argument bytes (no NUL, which execve cannot carry):
//! it never crashes, prints the version only when an argument after argv[0] is `-v`/`-V`, and
//! otherwise warns, sleeps and exits 0 on SIGTERM. On the host's own row natively and one other
//! under qemu-user (`on_host_and_one_emulated_arch`: amd64 and arm64 on an amd64 machine).

use libc::SIGTERM;
use pause_tests::{
    GOT_SIGTERM, Pause, Runner, assert_exit_0, assert_shut_down, on_host_and_one_emulated_arch,
    run_trials, scenarios, version_line, warned,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fn argument() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(vec![b'-', b'v', b'V', b' ']),
        1 => 1..=255u8,
    ];
    vec(byte, 0..5)
}

/// Fails (panics, which proptest takes as the case failing, and shrinks) unless pause run with
/// `argv` behaves as upstream's does.
fn run_with(runner: &Runner, argv: &[Vec<u8>]) {
    let (argv0, args) = argv.split_first().expect("at least argv[0]");
    let args: Vec<OsString> = args.iter().map(|a| OsString::from_vec(a.clone())).collect();
    let command = runner.command_with_argv0(OsString::from_vec(argv0.clone()), &args);
    let pause = Pause::from_command(runner, command);
    if argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"-v")) {
        let ended = pause.wait();
        assert_exit_0(&ended);
        assert_eq!(
            (ended.stdout.as_str(), ended.stderr.as_str()),
            (version_line().as_str(), "")
        );
    } else {
        pause.wait_until_sleeping();
        assert_shut_down!(pause.stop_with(SIGTERM), warned(GOT_SIGTERM));
    }
}

/// Random argument lists: 96 natively, 32 under qemu-user, where each run costs the emulator's
/// start-up.
fn random_argv(runner: &Runner) {
    let cases = if runner.qemu.is_none() { 96 } else { 32 };
    let config = ProptestConfig {
        // Where proptest keeps the failures it found, to replay them first next time.
        source_file: Some(file!()),
        ..ProptestConfig::with_cases(cases)
    };
    let mut proptest = TestRunner::new(config);
    if let Err(failure) = proptest.run(&vec(argument(), 1..8), |argv| {
        run_with(runner, &argv);
        Ok(())
    }) {
        panic!("{failure}\n{proptest}");
    }
}

fn main() {
    run_trials(on_host_and_one_emulated_arch(scenarios![random_argv]))
}
