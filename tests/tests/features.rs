//! The tests that need a tool beyond cargo and Rust to build are behind a feature of this crate
//! (see its Cargo.toml). Built without one, its tests do not exist, so one test here fails in
//! their place and names what is missing: nothing is skipped and called passing.

#[cfg(not(feature = "cri"))]
#[test]
fn cri_tests_are_built() {
    panic!(
        "the CRI tests (cri, matrix, pins, registry) were not built: they need `protoc` \
         (install the Debian package protobuf-compiler) and the `cri` feature, which \
         `cargo xtask test` enables"
    );
}

#[cfg(not(feature = "libseccomp"))]
#[test]
fn libseccomp_tests_are_built() {
    panic!(
        "the refused-call tests were not built: they need libseccomp (install the Debian \
         package libseccomp-dev) and the `libseccomp` feature, which `cargo xtask test` \
         enables"
    );
}
