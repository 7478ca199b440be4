//! critest, the Kubernetes CRI validation suite (cri-tools' `cmd/critest`, built with
//! `go test -c` from its pinned module), run offline against a CRI runtime whose sandbox image
//! is ours. critest's own test images live on registry.k8s.io and gcr.io, which this machine
//! cannot reach: small busybox-based stand-ins are built here and pushed to the loopback
//! registry under the names critest asks for, and the runtime is told to pull those registries
//! from it (a mirror in containerd, a registries.conf remap in CRI-O).

use crate::containers::{Podman, run_ok};
use crate::registry::Registry;
use fs_err as fs;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use xtask::node::components::CRITEST;

/// The registries critest's images are named under.
pub const PUBLIC_REGISTRIES: [&str; 3] = ["registry.k8s.io", "gcr.io", "k8s.gcr.io"];

/// Users and groups of the stand-ins: root, `nobody` (the busybox specs run as it), `www-data`
/// (the user-by-name image), and uid 1000 in group 50000 (the predefined-group image).
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
    www-data:x:33:33:www-data:/var/www:/bin/sh\n\
    user:x:1000:1000:user:/home/user:/bin/sh\n\
    nobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n";
const GROUP: &str =
    "root:x:0:\nwww-data:x:33:\nuser:x:1000:\npredefined:x:50000:user\nnogroup:x:65534:\n";

/// A web server on `port` (busybox's httpd, serving /www/index.html) that ends on SIGTERM as
/// nginx does: as its PID namespace's init, httpd itself would ignore it (no handler), and
/// each stop would wait out the runtime's whole timeout. `banner` is printed first.
fn web_server(port: u16, banner: &str) -> String {
    format!(
        "CMD [\"sh\", \"-c\", \"{banner}trap 'exit 0' TERM; httpd -f -p {port} -h /www & wait\"]\n"
    )
}

/// Each stand-in: its repository and tags in the loopback registry (the path critest's name
/// has after its registry), and what its Containerfile adds to busybox with PASSWD and GROUP.
fn stand_ins() -> Vec<(&'static str, Vec<&'static str>, String)> {
    let staging = |name| format!("LABEL io.pause.critest.stand-in=\"{name}\"\n");
    vec![
        // The default test container image: busybox.
        ("e2e-test-images/busybox", vec!["1.29-2"], String::new()),
        // The web server image (port 80).
        ("e2e-test-images/nginx", vec!["1.14-2"], web_server(80, "")),
        // Apache's image, whose log the multi-container spec reads for "httpd".
        (
            "e2e-test-images/httpd",
            vec!["2.4.39-4"],
            web_server(80, "echo httpd: busybox httpd on port 80; "),
        ),
        // A set-uid-root program that prints its effective uid (`nonewprivs`, built below).
        (
            "e2e-test-images/nonewprivs",
            vec!["1.3"],
            "COPY --chmod=4755 nnp /nnp\nCMD [\"/nnp\"]\n".to_string(),
        ),
        (
            "k8s-staging-cri-tools/test-image-tag",
            vec!["test"],
            staging("tag:test"),
        ),
        (
            "k8s-staging-cri-tools/test-image-tag",
            vec!["all"],
            staging("tag:all"),
        ),
        (
            "k8s-staging-cri-tools/test-image-latest",
            vec!["latest"],
            staging("latest"),
        ),
        (
            "k8s-staging-cri-tools/test-image-1",
            vec!["latest"],
            staging("1"),
        ),
        (
            "k8s-staging-cri-tools/test-image-2",
            vec!["latest"],
            staging("2"),
        ),
        (
            "k8s-staging-cri-tools/test-image-3",
            vec!["latest"],
            staging("3"),
        ),
        (
            "k8s-staging-cri-tools/test-image-tags",
            vec!["1", "2", "3"],
            staging("tags"),
        ),
        (
            "k8s-staging-cri-tools/test-image-user-uid",
            vec!["latest"],
            "USER 1002\n".into(),
        ),
        (
            "k8s-staging-cri-tools/test-image-user-username",
            vec!["latest"],
            "USER www-data\n".into(),
        ),
        (
            "k8s-staging-cri-tools/test-image-user-uid-group",
            vec!["latest"],
            "USER 1003:1004\n".into(),
        ),
        (
            "k8s-staging-cri-tools/test-image-user-username-group",
            vec!["latest"],
            "USER www-data:1004\n".into(),
        ),
        (
            "k8s-staging-cri-tools/test-image-predefined-group",
            vec!["latest"],
            "USER 1000\n".into(),
        ),
        (
            "k8s-staging-cri-tools/hostnet-nginx-amd64",
            vec!["latest"],
            web_server(12003, ""),
        ),
    ]
}

/// The set-uid stand-in's program, as upstream's `nonewprivs` does it: print the effective uid.
const NONEWPRIVS_C: &str = "#include <stdio.h>\n#include <unistd.h>\n\
    int main(void) { printf(\"Effective uid: %d\\n\", (int)geteuid()); return 0; }\n";

/// The stand-ins' base, as upstream's busybox image is: every applet a hard link to
/// /bin/busybox (a masked path must be a file, not a symlink), PASSWD and GROUP, and `sh` as
/// its command. Imported into `podman` as `BASE`.
const BASE: &str = "localhost/critest-busybox:base";

fn import_base(podman: &Podman, dir: &Path) {
    let rootfs = dir.join("rootfs");
    for sub in ["bin", "proc", "dev", "sys", "tmp", "etc", "www", "var/run"] {
        fs::create_dir_all(rootfs.join(sub)).unwrap();
    }
    let busybox = rootfs.join("bin/busybox");
    fs::copy("/bin/busybox", &busybox).unwrap();
    let applets = crate::containers::stdout_of(Command::new("/bin/busybox").arg("--list"));
    for applet in applets.lines().filter(|a| *a != "busybox") {
        fs::hard_link(&busybox, rootfs.join("bin").join(applet)).unwrap();
    }
    // Upstream's busybox has `pgrep` and `ipcs` applets, Debian's static one does not: the
    // real tools (procps, util-linux) stand in, with the libraries they load.
    for tool in ["/usr/bin/pgrep", "/usr/bin/ipcs"] {
        for file in std::iter::once(tool.to_string()).chain(shared_libraries(tool)) {
            let inside = rootfs.join(file.trim_start_matches('/'));
            fs::create_dir_all(inside.parent().unwrap()).unwrap();
            fs::copy(&file, inside).unwrap();
        }
    }
    fs::write(rootfs.join("etc/passwd"), PASSWD).unwrap();
    fs::write(rootfs.join("etc/group"), GROUP).unwrap();
    fs::write(rootfs.join("www/index.html"), "hello from the stand-in\n").unwrap();
    podman.import_rootfs(&rootfs, BASE, &["CMD [\"sh\"]"]);
}

/// The shared libraries `program` loads, and its loader, as `ldd` lists them.
fn shared_libraries(program: &str) -> Vec<String> {
    let listed = crate::containers::stdout_of(Command::new("ldd").arg(program));
    listed
        .lines()
        .filter_map(|line| {
            // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` or `/lib64/ld-linux... (0x...)`.
            let path = line.split("=>").last()?.split_whitespace().next()?;
            path.starts_with('/').then(|| path.to_string())
        })
        .collect()
}

/// Builds every stand-in with `podman` and pushes it to `registry`; `pause:3.9`, which two
/// image specs pull under two registries' names, is our own image.
pub fn push_stand_ins(podman: &Podman, registry: &Registry, pause: &str) {
    let context = tempfile::tempdir().unwrap();
    let c = context.path();
    import_base(podman, c);
    fs::write(c.join("nnp.c"), NONEWPRIVS_C).unwrap();
    run_ok(
        Command::new("cc")
            .args(["-static", "-Os", "-s", "-o"])
            .arg(c.join("nnp"))
            .arg(c.join("nnp.c")),
    );
    let host = registry.host();
    for (repository, tags, extra) in stand_ins() {
        let local = format!("localhost/{repository}:{}", tags[0]);
        fs::write(c.join("Containerfile"), format!("FROM {BASE}\n{extra}")).unwrap();
        run_ok(
            podman
                .cmd()
                .args(["build", "-q", "--pull=never", "-t", &local, "-f"])
                .arg(c.join("Containerfile"))
                .arg(c),
        );
        for tag in tags {
            run_ok(podman.cmd().args([
                "push",
                "-q",
                "--tls-verify=false",
                &local,
                &format!("{host}/{repository}:{tag}"),
            ]));
        }
    }
    run_ok(Command::new("skopeo").args([
        "copy",
        "-q",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{pause}"),
        &format!("docker://{host}/pause:3.9"),
    ]));
}

/// One spec's outcome in critest's JSON report: its full name (containers' texts and its own,
/// as ginkgo prints it) and its state (`passed`, `failed`, `skipped`, ...).
pub struct Outcome {
    pub name: String,
    pub state: String,
    pub failure: String,
}

/// `name` as a regular expression that matches only that spec: ginkgo matches focus and skip
/// against the suite's description, a space, and the spec's full name.
fn literal(name: &str) -> String {
    let mut pattern = String::from(" ");
    for c in name.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('$');
    pattern
}

/// Runs critest against the CRI at `socket`, writing its report and output under `dir`, with
/// the specs named in `skip` not run, and returns every spec's outcome. critest's own exit
/// status is not an error here: the caller compares the outcomes with what it expects.
pub fn run(socket: &Path, dir: &Path, skip: &[&str]) -> Vec<Outcome> {
    let critest = CRITEST
        .built()
        .unwrap_or_else(|e| panic!("{e:#}"))
        .join("critest");
    let endpoint = format!("unix://{}", socket.display());
    let report = dir.join("critest-report.json");
    let images = dir.join("critest-images.yaml");
    fs::write(
        &images,
        "defaultTestContainerImage: registry.k8s.io/e2e-test-images/busybox:1.29-2\n\
         webServerTestImage: registry.k8s.io/e2e-test-images/nginx:1.14-2\n",
    )
    .unwrap();
    let log = dir.join("critest.log");
    let status = Command::new(critest)
        .args(["-runtime-endpoint", &endpoint, "-image-endpoint", &endpoint])
        .arg(format!("-test-images-file={}", images.display()))
        .arg(format!("-ginkgo.json-report={}", report.display()))
        .arg("-ginkgo.no-color")
        .args(
            skip.iter()
                .map(|name| format!("-ginkgo.skip={}", literal(name))),
        )
        .current_dir(dir)
        .stdout(crate::output_file(&log))
        .stderr(crate::output_file(dir.join("critest.err")))
        .status()
        .expect("critest runs");
    let text = fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "critest ({status}) wrote no report: {e}\n{}",
            fs::read_to_string(&log).unwrap_or_default()
        )
    });
    let reports: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut outcomes = Vec::new();
    for spec in reports
        .iter()
        .flat_map(|r| r["SpecReports"].as_array().unwrap().iter())
    {
        if spec["LeafNodeType"] != "It" {
            continue;
        }
        let mut parts: Vec<&str> = spec["ContainerHierarchyTexts"]
            .as_array()
            .map(|texts| texts.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parts.push(spec["LeafNodeText"].as_str().unwrap_or_default());
        parts.retain(|p| !p.is_empty());
        outcomes.push(Outcome {
            name: parts.join(" "),
            state: spec["State"].as_str().unwrap_or_default().to_string(),
            failure: spec["Failure"]["Message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        });
    }
    outcomes
}

/// How many specs ended in each state.
pub fn tally(outcomes: &[Outcome]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for o in outcomes {
        *counts.entry(o.state.clone()).or_default() += 1;
    }
    counts
}
