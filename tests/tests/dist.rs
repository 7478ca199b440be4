//! What `cargo xtask dist` ships: sizes within budget, the promised ELF shape, no trace of the
//! build machine, and the same bytes (binaries and image archive) from a copy of the sources at
//! another path.

use fs_err as fs;
use pause_tests::{ARCHES, require_tool};
use std::path::Path;
use std::process::Command;
use xtask::elf::ElfFacts;
use xtask::workspace_root;

fn shipped(arch: &xtask::Arch) -> Vec<u8> {
    fs::read(arch.dist_binary()).unwrap_or_else(|e| panic!("{e} (run `cargo xtask dist` first)"))
}

#[test]
fn every_binary_is_within_its_budget() {
    for arch in ARCHES {
        let size = shipped(arch).len() as u64;
        assert!(
            size <= arch.budget,
            "{}: {size} bytes, budget {}",
            arch.name,
            arch.budget
        );
    }
}

#[test]
fn every_binary_is_a_static_single_segment_elf() {
    for arch in ARCHES {
        let bytes = shipped(arch);
        let facts = ElfFacts::parse(&bytes).unwrap();
        facts
            .check_shipped_shape(arch.elf_machine, bytes.len() as u64)
            .unwrap_or_else(|e| panic!("{}: {e}", arch.name));
        assert_eq!(facts.is_64, arch.bits == 64, "{}", arch.name);
    }
}

#[test]
fn no_trace_of_the_build_machine() {
    let root = workspace_root();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let traces = [
        root.to_str().unwrap(),
        home.as_str(),
        "/rustc/",
        ".cargo",
        "registry",
        "rustlib",
    ];
    for arch in ARCHES {
        let bytes = shipped(arch);
        for trace in traces {
            let found = bytes.windows(trace.len()).any(|w| w == trace.as_bytes());
            assert!(!found, "{}: contains {trace:?}", arch.name);
        }
    }
}

/// Clones the repository to a directory of another name and depth at the same commit (the
/// provenance names it), lays the work tree's sources over it (tracked and new, as git sees
/// them), builds there with its own target directory, and compares every shipped file.
#[test]
fn the_same_bytes_from_another_path() {
    let git = require_tool("git", "git");
    let root = workspace_root();
    let listing = Command::new(&git)
        .current_dir(&root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .expect("git ls-files");
    assert!(listing.status.success());
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("some/other/place");
    let head = Command::new(&git)
        .current_dir(&root)
        .args(["rev-parse", "HEAD"])
        .output()
        .expect("git rev-parse");
    let head = String::from_utf8(head.stdout).unwrap();
    for args in [
        vec!["clone", "--quiet", "--no-checkout"],
        vec![
            "-C",
            "some/other/place",
            "checkout",
            "--quiet",
            "--detach",
            head.trim(),
        ],
    ] {
        let mut git = Command::new(&git);
        git.current_dir(elsewhere.path()).args(args);
        if git.get_args().any(|a| a == "clone") {
            git.arg(&root).arg(&copy);
        }
        assert!(git.status().expect("git").success(), "{git:?}");
    }
    for file in listing.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let relative = Path::new(std::str::from_utf8(file).unwrap());
        if !root.join(relative).is_file() {
            continue; // deleted in the work tree but not yet in the index
        }
        fs::create_dir_all(copy.join(relative).parent().unwrap()).unwrap();
        fs::copy(root.join(relative), copy.join(relative)).unwrap();
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&copy)
        .args(["xtask", "dist"])
        .env("CARGO_TARGET_DIR", copy.join("target"))
        .status()
        .expect("cargo xtask dist in the copy");
    assert!(status.success());
    let mut files: Vec<String> = ARCHES.iter().map(|a| a.dist_file_name()).collect();
    // The documents before the archive that carries them: a difference is named at its root.
    for file in [
        "pause.spdx.json",
        "pause.provenance.json",
        "pins/containerd-1.toml",
        "pins/containerd-2.toml",
        "pins/crio.conf",
        "pins/containers.conf",
        "pins/airgap.sh",
        "pause-oci.tar",
    ] {
        files.push(file.into());
    }
    for file in files {
        let ours = fs::read(xtask::dist_dir().join(&file)).unwrap();
        let theirs = fs::read(copy.join("target/dist").join(&file)).unwrap();
        assert!(theirs == ours, "{file}: the copy built different bytes");
    }
}

/// The committed Dockerfile is what `cargo xtask generate` writes from the architecture table:
/// a new row cannot be left without its stage.
#[test]
fn committed_dockerfile_is_generated_from_the_arch_table() {
    let path = xtask::workspace_root().join(xtask::dockerfile::PATH);
    assert!(
        fs::read_to_string(&path).unwrap() == xtask::dockerfile::dockerfile(),
        "{} differs from the generator's output: run `cargo xtask generate`",
        path.display()
    );
}
