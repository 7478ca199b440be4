//! The argument scan, as a pure function over the kernel's argv so the host tests can call it.

/// Whether any argument after argv[0] is `-v`, ignoring ASCII case, as upstream's
/// `strcasecmp(argv[i], "-v")`. With argc 0 or 1 there is nothing to scan.
///
/// # Safety
/// `argv` must point to `argc` pointers, each to a NUL-terminated string.
pub unsafe fn asks_for_version(argc: usize, argv: *const *const u8) -> bool {
    // SAFETY: forwarded to the caller; i < argc.
    (1..argc).any(|i| unsafe { is_version_flag(*argv.add(i)) })
}

/// # Safety
/// `arg` must point to a NUL-terminated string.
unsafe fn is_version_flag(arg: *const u8) -> bool {
    // `| 0x20` folds 'V' (0x56) onto 'v' (0x76) and maps no other byte there. Each byte is read
    // only after the previous one proved not to be the terminating NUL.
    // SAFETY: see above; the string is NUL-terminated.
    unsafe { *arg == b'-' && *arg.add(1) | 0x20 == b'v' && *arg.add(2) == 0 }
}
