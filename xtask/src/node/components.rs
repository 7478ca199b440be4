//! The Kubernetes node's parts, built from their Go modules at the releases pinned in
//! `tests/go/<part>/go.mod` (each module's `tool` lines name the commands; its go.sum pins
//! every dependency), into `target/go/bin/<part>-<version>/`, once per machine. The module
//! cache, the build cache and the binaries all live under `target/go/`, so a second run
//! builds nothing.

use crate::command::output;
use crate::tools::FileLock;
use anyhow::{Context, Result, bail};
use fs_err as fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One part of the node: a Go module of ours under `tests/go/` that requires the release.
pub struct Component {
    /// Its directory under `tests/go/`, and its name in `target/go/bin/`.
    pub name: &'static str,
    /// The module whose release it is: its version is read from our go.mod's `require`.
    pub module: &'static str,
    /// What the module's `tool` lines build (their binary names).
    pub binaries: &'static [&'static str],
    /// The `-X` variable the release's own Makefile stamps with its version (`None`: the
    /// release embeds it itself).
    pub version_var: Option<&'static str>,
    /// Build tags, as the release's Makefile sets them; any tag means cgo (libseccomp).
    pub tags: &'static str,
}

/// The kubelet: 1.37, the newest release served that still runs on cgroup v1 (with
/// `failCgroupV1: false`; 1.35 made refusing v1 the default, and the v1 manager is still there).
pub const KUBELET: Component = Component {
    name: "kubelet",
    module: "k8s.io/kubernetes",
    binaries: &["kubelet"],
    version_var: Some("k8s.io/component-base/version.gitVersion"),
    tags: "",
};

/// containerd 2.x with its runc shim, and `ctr` for its events and images.
pub const CONTAINERD: Component = Component {
    name: "containerd",
    module: "github.com/containerd/containerd/v2",
    binaries: &["containerd", "containerd-shim-runc-v2", "ctr"],
    version_var: Some("github.com/containerd/containerd/v2/version.Version"),
    tags: "",
};

/// runc 1.3, with seccomp through Debian's libseccomp (its Makefile's default tags).
pub const RUNC: Component = Component {
    name: "runc",
    module: "github.com/opencontainers/runc",
    binaries: &["runc"],
    version_var: None,
    tags: "seccomp urfave_cli_no_docs",
};

/// crictl, of the kubelet's minor release.
pub const CRICTL: Component = Component {
    name: "crictl",
    module: "sigs.k8s.io/cri-tools",
    binaries: &["crictl"],
    version_var: Some("sigs.k8s.io/cri-tools/pkg/version.Version"),
    tags: "",
};

pub const COMPONENTS: &[&Component] = &[&KUBELET, &CONTAINERD, &RUNC, &CRICTL];

/// `target/go`: module cache, build cache, binaries and build logs.
pub fn go_dir() -> PathBuf {
    crate::target_dir().join("go")
}

impl Component {
    /// Our Go module for it: `tests/go/<name>`.
    pub fn module_dir(&self) -> PathBuf {
        crate::workspace_root().join("tests/go").join(self.name)
    }

    /// The release pinned in our go.mod (`v1.37.2`).
    pub fn version(&self) -> Result<String> {
        let go_mod = fs::read_to_string(self.module_dir().join("go.mod"))?;
        go_mod
            .lines()
            .map(|line| line.trim().trim_start_matches("require").trim())
            .find_map(|line| {
                // `MODULE VERSION`, perhaps with a `// indirect` after it.
                let mut words = line.split_whitespace();
                let (module, version) = (words.next()?, words.next()?);
                (module == self.module).then(|| version.to_string())
            })
            .with_context(|| format!("{}/go.mod requires no {}", self.name, self.module))
    }

    /// Where its binaries are, building them first if this machine has not yet. A failed
    /// build's error names the module, the version, the command and the build's log. The
    /// directory's name carries a digest of go.mod, go.sum and the build command, so a
    /// changed pin or flag builds anew rather than reusing what an older one left.
    pub fn built(&self) -> Result<PathBuf> {
        let version = self.version()?;
        let digest = self.build_digest(&version)?;
        let bin = go_dir()
            .join("bin")
            .join(format!("{}-{version}-{digest}", self.name));
        let done = |dir: &Path| self.binaries.iter().all(|b| dir.join(b).is_file());
        fs::create_dir_all(go_dir())?;
        // Tests starting at once wait for one build rather than run two.
        let _lock = FileLock::take(&go_dir().join(format!("{}.lock", self.name)))?;
        if done(&bin) {
            return Ok(bin);
        }
        let partial = PathBuf::from(format!("{}.partial", bin.display()));
        if partial.exists() {
            fs::remove_dir_all(&partial)?;
        }
        fs::create_dir_all(&partial)?;
        let log = go_dir().join(format!("{}-{version}.log", self.name));
        let mut cmd = self.build_command(&version, &partial);
        let described = format!("{cmd:?}");
        let printed_to = fs::File::create(&log)?.into_file();
        let result = cmd
            .stdout(printed_to.try_clone()?)
            .stderr(printed_to)
            .status();
        let failure = match result {
            Ok(status) if status.success() && done(&partial) => None,
            Ok(status) => Some(status.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = failure {
            let printed = fs::read_to_string(&log).unwrap_or_default();
            bail!(
                "building {} {version} ({}) failed: {why}\ncommand: {described}\nlog {}:\n{printed}",
                self.module,
                self.binaries.join(", "),
                log.display()
            );
        }
        fs::rename(&partial, &bin)?;
        Ok(bin)
    }

    /// The first 12 hex digits of the sha256 of go.mod, go.sum and the build command line.
    fn build_digest(&self, version: &str) -> Result<String> {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for file in ["go.mod", "go.sum"] {
            hash.update(fs::read(self.module_dir().join(file))?);
        }
        let cmd = self.build_command(version, Path::new("OUT"));
        let args: Vec<_> = cmd.get_args().collect();
        let envs: Vec<_> = cmd.get_envs().collect();
        hash.update(format!("{args:?} {envs:?}"));
        Ok(format!("{:x}", hash.finalize())[..12].to_string())
    }

    /// `go build -o DIR tool` in our module: every `tool` line's binary, with the release's
    /// own version stamp and tags, paths trimmed; the module and build caches under target/go.
    fn build_command(&self, version: &str, out: &Path) -> Command {
        let mut ldflags = String::from("-s -w");
        if let Some(var) = self.version_var {
            ldflags.push_str(&format!(" -X {var}={version}"));
        }
        let mut cmd = Command::new("go");
        cmd.current_dir(self.module_dir())
            .args(["build", "-trimpath", "-ldflags", &ldflags])
            .args(["-tags", self.tags])
            .arg("-o")
            .arg(format!("{}/", out.display()))
            .arg("tool")
            .env("GOMODCACHE", go_dir().join("mod"))
            .env("GOCACHE", go_dir().join("cache"))
            // The machine's Go (1.26.8 here; containerd and cri-tools need 1.26.6) builds every
            // pinned release; never fetch another.
            .env("GOTOOLCHAIN", "local")
            // go.sum is the pin: nothing is added to it at build time.
            .env("GOFLAGS", "-mod=readonly -modcacherw")
            .env("CGO_ENABLED", if self.tags.is_empty() { "0" } else { "1" });
        cmd
    }
}

/// The version `program` reports for itself (`--version`, first line).
pub fn reported_version(program: &Path) -> Result<String> {
    let out = output(Command::new(program).arg("--version"))?;
    Ok(out.lines().next().unwrap_or_default().to_string())
}
