//! Link flags for the pause binary, each with its reason. `rustc-link-arg-bins` reaches only
//! the binary, never this script or the host-side crates.

use std::path::Path;

fn main() {
    let script = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("linker.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    for arg in [
        // Our layout: one R+X segment, no unwind tables, no .comment (see the script).
        &format!("-T{}", script.display()),
        // Headers and sections back to back; no padding to page boundaries inside the file.
        "--nmagic",
        // A build id is a hash of the output: nothing reads it, and it costs a note segment.
        "--build-id=none",
        // RELRO needs a writable segment to protect; we have none.
        "-znorelro",
        // Our own _start; there is no libc start-up code to link.
        "-nostdlib",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
