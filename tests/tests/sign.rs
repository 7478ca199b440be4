//! Signing: the README's key-based cosign commands run against a local registry holding what
//! the README's publish commands pushed, offline (cosign 2.5 from trixie, a throwaway key, no
//! transparency log). The signature verifies; a changed image pushed under the same tag does
//! not, while the signed digest still does.

use pause_tests::containers::output_of;
use pause_tests::debian::trixie;
use pause_tests::registry::{
    Registry, archive_blob, archive_entries, readme_commands, readme_cwd, run_readme_command,
};
use serde_json::Value;
use std::fs;
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
    let oras = trixie("oras").join("usr/bin");
    let cosign = trixie("cosign").join("usr/bin");
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
    let resolved = output_of(
        Command::new(oras.join("oras"))
            .arg("resolve")
            .arg(format!("{host}/pause:{version}")),
    );
    let resolved = String::from_utf8_lossy(&resolved.stdout).trim().to_string();
    assert_ne!(
        resolved, index_digest,
        "the tag still names the signed index"
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
