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
    /// What `go` builds: the module's `tool` lines, or one package's test binary.
    pub build: Build,
    /// C programs in the release's own sources, built as its Makefile builds them: binary
    /// name, source directory in the module, and the Makefile's CFLAGS.
    pub c_programs: &'static [CProgram],
}

pub enum Build {
    /// `go build -o DIR tool`: every `tool` line's binary.
    Tools,
    /// `go test -c -o DIR/NAME PACKAGE`: a test binary (NAME is the sole entry of `binaries`).
    TestOf(&'static str),
}

pub struct CProgram {
    pub name: &'static str,
    pub sources: &'static str,
    pub cflags: &'static str,
}

/// The kubelet: 1.37, the newest release served that still runs on cgroup v1 (with
/// `failCgroupV1: false`; 1.35 made refusing v1 the default, and the v1 manager is still there).
pub const KUBELET: Component = Component {
    name: "kubelet",
    module: "k8s.io/kubernetes",
    binaries: &["kubelet"],
    version_var: Some("k8s.io/component-base/version.gitVersion"),
    tags: "",
    build: Build::Tools,
    c_programs: &[],
};

/// containerd 2.x with its runc shim, and `ctr` for its events and images.
pub const CONTAINERD: Component = Component {
    name: "containerd",
    module: "github.com/containerd/containerd/v2",
    binaries: &["containerd", "containerd-shim-runc-v2", "ctr"],
    version_var: Some("github.com/containerd/containerd/v2/version.Version"),
    tags: "",
    build: Build::Tools,
    c_programs: &[],
};

/// runc 1.3, with seccomp through Debian's libseccomp (its Makefile's default tags).
pub const RUNC: Component = Component {
    name: "runc",
    module: "github.com/opencontainers/runc",
    binaries: &["runc"],
    version_var: None,
    tags: "seccomp urfave_cli_no_docs",
    build: Build::Tools,
    c_programs: &[],
};

/// crictl, of the kubelet's minor release.
pub const CRICTL: Component = Component {
    name: "crictl",
    module: "sigs.k8s.io/cri-tools",
    binaries: &["crictl"],
    version_var: Some("sigs.k8s.io/cri-tools/pkg/version.Version"),
    tags: "",
    build: Build::Tools,
    c_programs: &[],
};

/// CRI-O 1.36, the newest release the proxy serves. Tags as its Makefile's `hack/*_tag.sh`
/// pick them on this machine, with Debian's libseccomp: `seccomp` (so RuntimeDefault is a
/// real filter), `containers_image_openpgp` (signatures in Go: no gpgme here),
/// `exclude_graphdriver_btrfs` (no btrfs headers; storage here is vfs), and `libsqlite3`, as
/// Debian's and Fedora's packages build it: the image library's blob-info cache links
/// Debian's SQLite instead of compiling go-sqlite3's bundled copy (minutes of C on 2 cores).
/// No `selinux` or `apparmor`: this machine has neither. `pinns`, which makes the pods' namespaces, is C in
/// the same module, built as `pinns/Makefile` builds it (static, so it runs anywhere).
pub const CRIO: Component = Component {
    name: "crio",
    module: "github.com/cri-o/cri-o",
    binaries: &["crio", "pinns"],
    version_var: None,
    tags: "containers_image_openpgp exclude_graphdriver_btrfs seccomp libsqlite3",
    build: Build::Tools,
    c_programs: &[CProgram {
        name: "pinns",
        sources: "pinns/src",
        cflags: "-std=c99 -Os -Wall -Werror -Wextra -static -O3 -s",
    }],
};

/// critest, the CRI validation suite, of crictl's release: a ginkgo test binary, built as
/// cri-tools' Makefile builds it.
pub const CRITEST: Component = Component {
    name: "critest",
    module: "sigs.k8s.io/cri-tools",
    binaries: &["critest"],
    version_var: Some("sigs.k8s.io/cri-tools/pkg/version.Version"),
    tags: "",
    build: Build::TestOf("sigs.k8s.io/cri-tools/cmd/critest"),
    c_programs: &[],
};

pub const COMPONENTS: &[&Component] = &[&KUBELET, &CONTAINERD, &RUNC, &CRICTL, &CRIO, &CRITEST];

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
        fs::File::create(&log)?;
        let mut steps = vec![self.build_command(&version, &partial)];
        for program in self.c_programs {
            steps.push(self.c_build_command(program, &partial)?);
        }
        for mut cmd in steps {
            let described = format!("{cmd:?}");
            let printed_to = fs::OpenOptions::new().append(true).open(&log)?.into_file();
            let result = cmd
                .stdout(printed_to.try_clone()?)
                .stderr(printed_to)
                .status();
            let failure = match result {
                Ok(status) if status.success() => None,
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
        }
        if !done(&partial) {
            bail!(
                "building {} {version} left no {} in {}: log {}",
                self.module,
                self.binaries.join(", "),
                partial.display(),
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
        for program in self.c_programs {
            hash.update(format!(
                "{} {} {}",
                program.name, program.sources, program.cflags
            ));
        }
        Ok(format!("{:x}", hash.finalize())[..12].to_string())
    }

    /// `go build -o DIR tool` (or `go test -c`) in our module, with the release's own version
    /// stamp and tags, paths trimmed; the module and build caches under target/go.
    fn build_command(&self, version: &str, out: &Path) -> Command {
        let mut ldflags = String::from("-s -w");
        if let Some(var) = self.version_var {
            ldflags.push_str(&format!(" -X {var}={version}"));
        }
        let mut cmd = self.go();
        match self.build {
            Build::Tools => cmd.arg("build"),
            Build::TestOf(_) => cmd.args(["test", "-c"]),
        };
        // No DWARF from the compiler: `-w` drops it at the link anyway, and making it for
        // thousands of packages only costs CI time.
        cmd.args([
            "-trimpath",
            "-gcflags=all=-dwarf=false",
            "-ldflags",
            &ldflags,
        ])
        .args(["-tags", self.tags])
        .arg("-o");
        match self.build {
            Build::Tools => cmd.arg(format!("{}/", out.display())).arg("tool"),
            Build::TestOf(package) => cmd.arg(out.join(self.binaries[0])).arg(package),
        };
        cmd.env("CGO_ENABLED", if self.tags.is_empty() { "0" } else { "1" });
        cmd
    }

    /// `go` in our module, on the caches under target/go.
    fn go(&self) -> Command {
        let mut cmd = Command::new("go");
        cmd.current_dir(self.module_dir())
            .env("GOMODCACHE", go_dir().join("mod"))
            .env("GOCACHE", go_dir().join("cache"))
            // The machine's Go (1.26.8 here; containerd and cri-tools need 1.26.6) builds every
            // pinned release; never fetch another.
            .env("GOTOOLCHAIN", "local")
            // go.sum is the pin: nothing is added to it at build time.
            .env("GOFLAGS", "-mod=readonly -modcacherw");
        cmd
    }

    /// `cc CFLAGS -o DIR/NAME SOURCES/*.c`, on the release's sources in the module cache
    /// (`go mod download` puts them there first if they are not yet: `go list -m` would
    /// only name a directory already unpacked, and none on an empty cache).
    fn c_build_command(&self, program: &CProgram, out: &Path) -> Result<Command> {
        let downloaded = output(self.go().args(["mod", "download", "-json", self.module]))?;
        let info: serde_json::Value = serde_json::from_str(&downloaded)
            .with_context(|| format!("go mod download -json {}: {downloaded}", self.module))?;
        let dir = info["Dir"]
            .as_str()
            .filter(|dir| !dir.is_empty())
            .with_context(|| format!("go mod download names no directory: {downloaded}"))?;
        let sources = Path::new(dir).join(program.sources);
        let mut files: Vec<PathBuf> = fs::read_dir(&sources)?
            .map(|entry| Ok(entry?.path()))
            .collect::<Result<_>>()?;
        files.retain(|f| f.extension().is_some_and(|e| e == "c"));
        files.sort();
        let mut cmd = Command::new("cc");
        cmd.args(program.cflags.split_whitespace())
            .arg("-o")
            .arg(out.join(program.name))
            .args(files);
        Ok(cmd)
    }
}

/// The version `program` reports for itself (`--version`, first line).
pub fn reported_version(program: &Path) -> Result<String> {
    let out = output(Command::new(program).arg("--version"))?;
    Ok(out.lines().next().unwrap_or_default().to_string())
}
