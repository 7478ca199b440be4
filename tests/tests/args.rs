//! The argument scan (src/args.rs) compiled for the host and checked against the reference
//! meaning, `strcasecmp(arg, "-v") == 0`, over every short byte string.

#[path = "../../src/args.rs"]
mod args;

use std::ffi::CString;

/// Runs the scan over a kernel-shaped argv: `argc` pointers, then NULL.
fn scan(argv: &[&[u8]]) -> bool {
    let owned: Vec<CString> = argv.iter().map(|a| CString::new(*a).unwrap()).collect();
    let mut pointers: Vec<*const u8> = owned.iter().map(|a| a.as_ptr().cast()).collect();
    pointers.push(std::ptr::null());
    // SAFETY: argc pointers to NUL-terminated strings, as the kernel lays them out.
    unsafe { args::asks_for_version(argv.len(), pointers.as_ptr()) }
}

fn is_flag(arg: &[u8]) -> bool {
    arg.eq_ignore_ascii_case(b"-v")
}

#[test]
fn argc_zero_reads_nothing() {
    // With argc 0 not even argv[0] may be read: a dangling argv proves nothing is.
    // SAFETY: zero pointers are read from it.
    assert!(!unsafe { args::asks_for_version(0, std::ptr::dangling()) });
}

#[test]
fn argv0_alone_is_never_the_flag() {
    assert!(!scan(&[b"-v"]));
    assert!(!scan(&[b"-V"]));
    assert!(!scan(&[b""]));
}

#[test]
fn every_byte_string_up_to_two_bytes() {
    let mut strings: Vec<Vec<u8>> = vec![vec![]];
    strings.extend((1..=255u8).map(|a| vec![a]));
    strings.extend((1..=255u8).flat_map(|a| (1..=255u8).map(move |b| vec![a, b])));
    for arg in &strings {
        assert_eq!(scan(&[b"pause", arg]), is_flag(arg), "{arg:?}");
    }
}

#[test]
fn every_third_byte_after_dash_v() {
    for first in [b'-', b'+', b'_'] {
        for second in 1..=255u8 {
            for third in 1..=255u8 {
                let arg = [first, second, third];
                assert!(!scan(&[b"pause", &arg]), "{arg:?}");
            }
        }
    }
}

#[test]
fn the_flag_anywhere_after_argv0() {
    assert!(scan(&[b"pause", b"-v"]));
    assert!(scan(&[b"pause", b"a", b"b", b"-V"]));
    assert!(scan(&[b"pause", b"-V", b"-v"]));
    let mut many: Vec<&[u8]> = vec![b"pause"; 10_000];
    assert!(!scan(&many));
    many.push(b"-v");
    assert!(scan(&many));
}

mod property {
    use super::{is_flag, scan};
    use proptest::collection::vec;
    use proptest::prelude::*;

    /// Arguments biased towards the interesting bytes, but any non-NUL byte can appear.
    fn argument() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            4 => prop::sample::select(vec![b'-', b'v', b'V', b' ', b'=', 0x76 ^ 0x20, 0xff]),
            1 => 1..=255u8,
        ];
        vec(byte, 0..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn scan_matches_strcasecmp(argv in vec(argument(), 0..40)) {
            let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            let expected = argv.iter().skip(1).any(|a| is_flag(a));
            prop_assert_eq!(scan(&refs), expected);
        }

        #[test]
        fn huge_argv(filler in argument(), len in 1000usize..20_000, flag_at in any::<prop::sample::Index>()) {
            let mut argv: Vec<&[u8]> = vec![&filler; len];
            prop_assert_eq!(scan(&argv), is_flag(&filler));
            let at = 1 + flag_at.index(len);
            argv.insert(at, b"-V");
            prop_assert!(scan(&argv));
        }
    }
}
