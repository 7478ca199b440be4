//! A real OCI registry on loopback: distribution 2.8.3 (Debian trixie's `docker-registry`)
//! with its storage in a temporary directory, stopped on drop. It has no referrers API, so
//! referrers reach it through the OCI referrers tag schema (`sha256-<hex>` tags).

use crate::containers::assert_version;
use crate::debian::{TRIXIE_DISTRIBUTION_VERSION, trixie_tool};
use crate::{PATIENCE, poll};
use fs_err as fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

pub struct Registry {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

/// What a registry answered: status, headers (names lowercased) and body.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every manifest type a client may ask for.
pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

impl Registry {
    pub fn start() -> Registry {
        let binary = trixie_tool("docker-registry", "usr/bin/docker-registry");
        assert_version(&binary, TRIXIE_DISTRIBUTION_VERSION);
        let dir = tempfile::tempdir().unwrap();
        // A port the kernel just handed out: free unless another process grabs it in the
        // moment between here and the registry's bind.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "version: 0.1\n\
             log:\n  level: warn\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        fs::write(dir.path().join("config.yml"), config).unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdin(Stdio::null())
            .stdout(crate::output_file(dir.path().join("registry.log")))
            .stderr(crate::output_file(dir.path().join("registry.err")))
            .spawn()
            .expect("docker-registry");
        let registry = Registry { dir, port, child };
        poll("the registry to answer /v2/", || {
            let answer = registry.try_get("/v2/", "*/*")?;
            (answer.status == 200).then_some(())
        });
        registry
    }

    /// `localhost:PORT`: oras, cosign and containerd's `ctr` speak plain HTTP to localhost
    /// without being told, as they would HTTPS to a real registry.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.err")).unwrap_or_default()
    }

    /// GET `path` (`/v2/...`) with `accept`, straight over HTTP/1.1 on loopback.
    pub fn get(&self, path: &str, accept: &str) -> Response {
        self.try_get(path, accept)
            .unwrap_or_else(|| panic!("GET {path}: no answer\n{}", self.log()))
    }

    fn try_get(&self, path: &str, accept: &str) -> Option<Response> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(PATIENCE)).ok()?;
        stream.set_write_timeout(Some(PATIENCE)).ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
            self.host()
        )
        .ok()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).ok()?;
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
        {
            body = dechunk(&body)?;
        }
        Some(Response {
            status,
            headers,
            body,
        })
    }
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = body.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..end]).ok()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(end + 2..end + 2 + size)?);
        body = body.get(end + 4 + size..)?;
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The commands of the README's fenced block after `<!-- test: NAME ...-->`: one per line,
/// `\` continuations joined, comments dropped. The tests run these and nothing else, so
/// the README says what the suite does.
pub fn readme_commands(name: &str) -> Vec<String> {
    let readme = fs::read_to_string(xtask::workspace_root().join("README.md")).unwrap();
    let marker = format!("<!-- test: {name}");
    let start = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker:?} block"));
    let block = readme[start..]
        .split("```")
        .nth(1)
        .expect("a fenced block after the marker");
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in block.lines().skip(1) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => pending.push_str(part),
            None => {
                pending.push_str(line);
                commands.push(std::mem::take(&mut pending));
            }
        }
    }
    assert!(!commands.is_empty(), "README block {name} is empty");
    commands
}

/// A working directory for README commands: its `target/dist` is this build's.
pub fn readme_cwd() -> tempfile::TempDir {
    let cwd = tempfile::tempdir().unwrap();
    fs::create_dir(cwd.path().join("target")).unwrap();
    fs::os::unix::fs::symlink(xtask::dist_dir(), cwd.path().join("target/dist")).unwrap();
    cwd
}

/// Runs a README command with `sh -c` in `cwd`, REGISTRY replaced by `host`, the given tool
/// directories first on PATH; fails the test if it fails.
pub fn run_readme_command(
    command: &str,
    host: &str,
    tools: &[&std::path::Path],
    cwd: &std::path::Path,
    env: &[(&str, &str)],
) -> std::process::Output {
    let command = command.replace(xtask::pins::REGISTRY, host);
    let mut sh = Command::new("sh");
    sh.args(["-c", &command])
        .current_dir(cwd)
        .env("PATH", crate::debian::path_with(tools));
    for (name, value) in env {
        sh.env(name, value);
    }
    crate::containers::run_ok(&mut sh)
}

/// The files of the image archive `cargo xtask dist` wrote, by path.
pub fn archive_files() -> std::collections::BTreeMap<String, Vec<u8>> {
    let bytes = fs::read(crate::containers::image_archive()).unwrap();
    let mut files = std::collections::BTreeMap::new();
    for entry in tar::Archive::new(&bytes[..]).entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        files.insert(path, data);
    }
    files
}

/// The archive's `index.json` entries: the tagged image index first, then the attachments.
pub fn archive_entries() -> Vec<serde_json::Value> {
    let files = archive_files();
    let top: serde_json::Value = serde_json::from_slice(&files["index.json"]).unwrap();
    let mut entries = top["manifests"].as_array().unwrap().clone();
    entries.sort_by_key(|e| e.get("artifactType").is_some());
    entries
}

/// The blob a digest (`sha256:...`) names in the archive.
pub fn archive_blob(digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
    archive_files()
        .remove(&format!("blobs/sha256/{hex}"))
        .unwrap_or_else(|| panic!("{digest} is not in the archive"))
}

/// A registry holding what the README's publish commands pushed.
pub fn published() -> (Registry, std::path::PathBuf) {
    let registry = Registry::start();
    let oras = crate::debian::trixie_oras_dir(); // fails unless it is the version the README states
    let cwd = readme_cwd();
    for command in readme_commands("publish") {
        let out = run_readme_command(&command, &registry.host(), &[&oras], cwd.path(), &[]);
        eprintln!("$ {command}\n{}", String::from_utf8_lossy(&out.stdout));
    }
    (registry, oras)
}
