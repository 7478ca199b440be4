//! Signing: the README's key-based cosign commands run against a local registry holding what
//! the README's publish commands pushed, offline (cosign 2.5 from trixie, a throwaway key, no
//! transparency log). The signature verifies; a changed image pushed under the same tag does
//! not, while the signed digest still does.

use fs_err as fs;
use pause_tests::containers::{output_of, stdout_of};
use pause_tests::debian::{trixie_cosign_dir, trixie_oras_dir};
use pause_tests::registry::{
    Registry, archive_blob, archive_entries, readme_commands, readme_cwd, run_readme_command,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::process::Command;

/// The README's command with the flags that keep cosign off the public transparency log.
fn offline(command: &str) -> String {
    command
        .replacen("cosign sign ", "cosign sign --tlog-upload=false ", 1)
        .replacen(
            "cosign verify ",
            "cosign verify --insecure-ignore-tlog=true ",
            1,
        )
}

#[test]
fn signed_index_verifies_and_a_changed_image_under_the_tag_does_not() {
    let registry = Registry::start();
    // Both fail unless they are the versions the README states.
    let oras = trixie_oras_dir();
    let cosign = trixie_cosign_dir();
    let tools = [oras.as_path(), cosign.as_path()];
    let cwd = readme_cwd();
    // An empty password for the throwaway key; no prompt can reach a test.
    let env = [("COSIGN_PASSWORD", "")];
    let host = registry.host();
    for command in readme_commands("publish") {
        run_readme_command(&command, &host, &tools, cwd.path(), &env);
    }
    let commands = readme_commands("sign");
    let verify = commands
        .iter()
        .find(|c| c.starts_with("cosign verify"))
        .expect("the README verifies")
        .clone();
    for command in &commands {
        run_readme_command(&offline(command), &host, &tools, cwd.path(), &env);
    }

    // Someone pushes another image index under the same tag: the same platforms, one
    // annotation changed, so another digest.
    let index_digest = archive_entries()[0]["digest"].as_str().unwrap().to_string();
    let mut changed: Value = serde_json::from_slice(&archive_blob(&index_digest)).unwrap();
    changed["annotations"]["org.opencontainers.image.description"] = "not what was signed".into();
    let changed_path = cwd.path().join("changed-index.json");
    fs::write(&changed_path, serde_json::to_vec(&changed).unwrap()).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    let pushed = output_of(
        Command::new(oras.join("oras"))
            .args(["manifest", "push", "--media-type"])
            .arg("application/vnd.oci.image.index.v1+json")
            .arg(format!("{host}/pause:{version}"))
            .arg(&changed_path),
    );
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    // What the tag names now, by oras (which must succeed: an empty answer is no digest).
    let resolved = stdout_of(
        Command::new(oras.join("oras"))
            .arg("resolve")
            .arg(format!("{host}/pause:{version}")),
    );
    let resolved = resolved.trim();
    let changed_digest = format!(
        "sha256:{:x}",
        Sha256::digest(fs::read(&changed_path).unwrap())
    );
    assert_eq!(
        resolved, changed_digest,
        "the tag does not name the index just pushed under it (the signed one: {index_digest})"
    );

    // The README's verify command, on the moved tag: refused.
    let mut sh = Command::new("sh");
    sh.args([
        "-c",
        &offline(&verify).replace(xtask::pins::REGISTRY, &host),
    ])
    .current_dir(cwd.path())
    .env("PATH", pause_tests::debian::path_with(&tools));
    let refused = output_of(&mut sh);
    assert!(!refused.status.success(), "a changed image verified");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("no signatures found") || said.contains("no matching signatures"),
        "{said}"
    );

    // The signed digest itself still verifies.
    let by_digest = offline(&verify).replace(
        &format!("REGISTRY/pause:{version}"),
        &format!("{host}/pause@{index_digest}"),
    );
    run_readme_command(&by_digest, &host, &tools, cwd.path(), &env);
}
