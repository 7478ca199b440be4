//! The real binary executed with random argument bytes (no NUL, which execve cannot carry):
//! it never crashes, prints the version only when an argument after argv[0] is `-v`/`-V`, and
//! otherwise warns, sleeps and exits 0 on SIGTERM. amd64 natively, arm64 under qemu.

use libc::SIGTERM;
use pause_tests::{GOT_SIGTERM, Pause, Runner, WARNING, version_line};
use proptest::collection::vec;
use proptest::prelude::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fn argument() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(vec![b'-', b'v', b'V', b' ']),
        1 => 1..=255u8,
    ];
    vec(byte, 0..5)
}

fn run_with(runner: &Runner, argv: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let (argv0, args) = argv.split_first().expect("at least argv[0]");
    let args: Vec<OsString> = args.iter().map(|a| OsString::from_vec(a.clone())).collect();
    let command = runner.command_with_argv0(OsString::from_vec(argv0.clone()), &args);
    let pause = Pause::from_command(runner, command);
    let asks = argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"-v"));
    let ended = if asks {
        pause.wait()
    } else {
        pause.wait_until_sleeping();
        pause.stop_with(SIGTERM)
    };
    prop_assert_eq!(ended.status.code(), Some(0), "{:?}", ended);
    if asks {
        let version = version_line();
        prop_assert_eq!(ended.stdout.as_str(), version.as_str());
        prop_assert_eq!(ended.stderr.as_str(), "");
    } else {
        prop_assert_eq!(ended.stdout.as_str(), "");
        prop_assert_eq!(ended.stderr, format!("{WARNING}{GOT_SIGTERM}"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn amd64_random_argv(argv in vec(argument(), 1..8)) {
        run_with(&Runner::new("amd64"), &argv)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn arm64_random_argv(argv in vec(argument(), 1..8)) {
        run_with(&Runner::new("arm64"), &argv)?;
    }
}
