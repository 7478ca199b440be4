//! The shipped seccomp profile as the tests apply it: read, narrowed to one node's rules,
//! turned into the runtime-spec form runc takes, and put into a hardened bundle of the image.

use crate::containers::{archive_ref, run_ok};
use crate::{Arch, require_tool};
use fs_err as fs;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn host() -> &'static Arch {
    Arch::host().expect("this machine's architecture is one we ship")
}

/// The path of the committed profile.
pub fn profile_path() -> PathBuf {
    xtask::workspace_root().join(xtask::seccomp::PATH)
}

/// The committed profile.
pub fn profile() -> Value {
    serde_json::from_slice(&fs::read(profile_path()).unwrap()).unwrap()
}

/// The rules that apply on a node of architecture `goarch` (Docker's `includes.arches`).
pub fn rules_for<'a>(profile: &'a Value, goarch: &str) -> Vec<&'a Value> {
    profile["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|rule| match rule["includes"]["arches"].as_array() {
            None => true,
            Some(arches) => arches.iter().any(|a| a == goarch),
        })
        .collect()
}

/// The profile as runc's config.json takes it (runtime-spec `linux.seccomp`) for this host,
/// less the syscalls in `without`.
pub fn runtime_spec_seccomp(without: &[&str]) -> Value {
    let profile = profile();
    let entry = profile["archMap"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["architecture"] == host().seccomp)
        .unwrap();
    let mut architectures = vec![entry["architecture"].clone()];
    architectures.extend(
        entry["subArchitectures"]
            .as_array()
            .unwrap()
            .iter()
            .cloned(),
    );
    let syscalls: Vec<Value> = rules_for(&profile, host().goarch)
        .into_iter()
        .map(|rule| {
            let names: Vec<&Value> = rule["names"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| !without.contains(&n.as_str().unwrap()))
                .collect();
            json!({"names": names, "action": rule["action"]})
        })
        .collect();
    json!({
        "defaultAction": profile["defaultAction"],
        "defaultErrnoRet": profile["defaultErrnoRet"],
        "architectures": architectures,
        "syscalls": syscalls,
    })
}

/// A hardened sandbox bundle from the image: its own user (65535), no capabilities at all,
/// read-only rootfs, no_new_privs, and the profile (less `without`).
pub fn hardened_bundle(work: &Path, without: &[&str]) -> PathBuf {
    require_tool("umoci", "umoci");
    require_tool("skopeo", "skopeo");
    let layout = work.join("layout");
    run_ok(
        Command::new("skopeo")
            .args(["copy", "--quiet"])
            .arg(archive_ref())
            .arg(format!("oci:{}:pause", layout.display())),
    );
    let bundle = work.join("sandbox");
    run_ok(
        Command::new("umoci")
            .args(["unpack", "--image"])
            .arg(format!("{}:pause", layout.display()))
            .arg(&bundle),
    );
    let path = bundle.join("config.json");
    let mut config: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        config["process"]["user"],
        json!({"uid": 65535, "gid": 65535})
    );
    config["process"]["terminal"] = json!(false);
    config["process"]["noNewPrivileges"] = json!(true);
    config["process"]["capabilities"] =
        json!({"bounding": [], "effective": [], "inheritable": [], "permitted": [], "ambient": []});
    config["root"]["readonly"] = json!(true);
    config["linux"]["seccomp"] = runtime_spec_seccomp(without);
    fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    bundle
}
