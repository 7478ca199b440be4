//! Debian's archive, read through a private apt state per suite and architecture: its own
//! sources.list (one suite, one architecture), lists and cache under
//! `target/debian/<suite>-<arch>/`, never the host's sources (mixing suites there would break
//! the host). Packages are only downloaded and unpacked, never installed; what is unpacked stays
//! there, so each package is downloaded once per target directory. The real kernels' fetcher
//! and the tests' trixie tools share it.

mod deb;

pub use deb::extract;

use crate::captured::run_captured;
use anyhow::{Context, Result, anyhow, bail};
use fs_err as fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use xtask::tools::FileLock;

/// Every apt and dpkg-deb run is bounded too: apt's own time-outs end a dead mirror well
/// before this, so it only ends a hang.
const PATIENCE: Duration = Duration::from_secs(300);

/// The Debian archive the host's own apt sources name (the first that is not a security
/// archive): the mirror this machine is set up to reach serves the other suites too.
fn archive() -> Result<String> {
    let mut uris = Vec::new();
    // deb822 stanzas: `URIs:` beside `Suites:`.
    let dir = Path::new("/etc/apt/sources.list.d");
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "sources"))
    {
        let text = fs::read_to_string(file).unwrap_or_default();
        for stanza in text.split("\n\n") {
            let field = |name: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                    .unwrap_or_default()
            };
            let suites = field("Suites:");
            if field("Types:").iter().any(|t| t == "deb")
                && suites.iter().any(|s| !s.ends_with("-security"))
            {
                uris.extend(field("URIs:"));
            }
        }
    }
    // One-line style: `deb [options] URI suite components`.
    let list = fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    for line in list.lines() {
        let mut words = line.split_whitespace().filter(|w| !w.starts_with('['));
        if words.next() == Some("deb")
            && let (Some(uri), Some(suite)) = (words.next(), words.next())
            && !suite.ends_with("-security")
        {
            uris.push(uri.to_string());
        }
    }
    uris.into_iter()
        .next()
        .context("the host's apt sources name no Debian archive")
}

/// `target/debian`, which holds every suite's and architecture's state.
pub fn states_dir() -> PathBuf {
    xtask::target_dir().join("debian")
}

/// One suite and architecture of Debian's archive, through a private apt state: its own
/// sources.list, lists and cache, and the host's dpkg status replaced by an empty one, so
/// nothing on the host is read or changed but apt's configuration (which may name a proxy).
pub struct DebianArchive {
    dir: PathBuf,
    suite: String,
    arch: String,
}

impl DebianArchive {
    /// The state of `suite` for the Debian architecture `arch` (`amd64`, `armel`), made if new.
    pub fn open(suite: &str, arch: &str) -> Result<DebianArchive> {
        let apt = DebianArchive {
            dir: states_dir().join(format!("{suite}-{arch}")),
            suite: suite.to_string(),
            arch: arch.to_string(),
        };
        for sub in ["lists/partial", "cache/archives/partial", "debs", "files"] {
            fs::create_dir_all(apt.dir.join(sub))?;
        }
        let archive = archive()?;
        // Under the lock: two openers renaming the same half-written file would fail one.
        let lock = apt.lock()?;
        write_file(
            &apt.dir.join("sources.list"),
            format!("deb [arch={arch}] {archive} {suite} main\n").as_bytes(),
        )?;
        write_file(&apt.dir.join("status"), b"")?;
        drop(lock);
        Ok(apt)
    }

    /// Tests run concurrently and may share a state (arm64's two kernels, the firmware,
    /// amd64's kernel and the trixie tools): apt's own lock would fail the second, so they
    /// take turns.
    pub fn lock(&self) -> Result<FileLock> {
        FileLock::take(&self.dir.join("lock"))
    }

    /// The Debian architecture, for messages.
    pub fn arch(&self) -> &str {
        &self.arch
    }

    fn options(&self) -> Vec<String> {
        let d = self.dir.display();
        let mut options = vec![
            format!("Dir::Etc::SourceList={d}/sources.list"),
            "Dir::Etc::SourceParts=/dev/null".to_string(),
            format!("Dir::State::Lists={d}/lists"),
            format!("Dir::State::status={d}/status"),
            format!("Dir::Cache={d}/cache"),
            format!("APT::Architecture={}", self.arch),
            format!("APT::Architectures::={}", self.arch),
            // Only the package index: no translations, no AppStream metadata.
            "Acquire::Languages=none".to_string(),
            // The files land in our own directory, which apt's _apt user may not write.
            "APT::Sandbox::User=root".to_string(),
        ];
        for target in [
            "DEP-11",
            "DEP-11-icons",
            "DEP-11-icons-small",
            "DEP-11-icons-large",
        ] {
            options.push(format!(
                "Acquire::IndexTargets::deb::{target}::DefaultEnabled=false"
            ));
        }
        options
            .into_iter()
            .flat_map(|o| ["-o".to_string(), o])
            .collect()
    }

    fn apt(&self, program: &str, args: &[&str]) -> Result<String> {
        let out = run_bounded(
            Command::new(program)
                .args(self.options())
                .args(args)
                .current_dir(self.dir.join("debs")),
        )
        .with_context(|| format!("{program} (Debian package apt)"))?;
        if !out.status.success() {
            bail!(
                "`{program} {}` for {} {} failed: {}",
                args.join(" "),
                self.suite,
                self.arch,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// How long ago the suite's index was read, if it has been. apt dates the index files
    /// as the archive does, so our own stamp tells when we read them.
    fn index_age(&self) -> Option<Duration> {
        let stamp = fs::metadata(self.dir.join("updated")).ok()?;
        Some(stamp.modified().ok()?.elapsed().unwrap_or_default())
    }

    fn refresh(&self) -> Result<()> {
        // Progress for the minutes an empty cache costs (shown by nextest when a test fails,
        // or with --no-capture).
        eprintln!("apt: reading the package index of {}", self.dir.display());
        self.apt("apt-get", &["-q", "update"])?;
        write_file(&self.dir.join("updated"), b"")
    }

    /// Reads the suite's index, once per state.
    fn update(&self) -> Result<()> {
        match self.index_age() {
            Some(_) => Ok(()),
            None => self.refresh(),
        }
    }

    /// Downloads `package` into `debs/`. If that fails with an index read more than an hour
    /// ago (it may name a version the pool has since dropped), reads it again and retries.
    pub fn download(&self, package: &str) -> Result<(PathBuf, u64)> {
        self.update()?;
        self.download_once(package).or_else(|e| {
            if self
                .index_age()
                .is_some_and(|age| age < Duration::from_secs(3600))
            {
                return Err(e);
            }
            self.refresh()?;
            self.download_once(package)
        })
    }

    /// The package `package` depends on whose name starts with `prefix`.
    pub fn depends_on(&self, package: &str, prefix: &str) -> Result<String> {
        self.update()?;
        let out = self.apt("apt-cache", &["depends", package])?;
        out.lines()
            .filter_map(|line| line.trim().strip_prefix("Depends: "))
            .find(|dep| dep.starts_with(prefix))
            .map(str::to_string)
            .ok_or_else(|| {
                anyhow!(
                    "{package} ({} {}) depends on no {prefix}* package",
                    self.suite,
                    self.arch
                )
            })
    }

    /// Downloads one package into `debs/`, returning the file and its size.
    fn download_once(&self, package: &str) -> Result<(PathBuf, u64)> {
        let debs = self.dir.join("debs");
        let before: Vec<_> = list_debs(&debs);
        eprintln!("apt: downloading {package} into {}", debs.display());
        self.apt("apt-get", &["-q", "download", package])?;
        let deb = list_debs(&debs)
            .into_iter()
            .find(|d| !before.contains(d))
            .or_else(|| {
                list_debs(&debs).into_iter().find(|d| {
                    d.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{package}_")))
                })
            })
            .with_context(|| format!("apt-get download {package} left no .deb"))?;
        let size = fs::metadata(&deb).map(|m| m.len()).unwrap_or(0);
        Ok((deb, size))
    }

    /// One file of `package` matching `pattern` (`*` stands for any run of characters),
    /// cached under `files/<package>/`, and the bytes downloaded for it (0 when cached).
    pub fn file(&self, package: &str, pattern: &str) -> Result<(PathBuf, u64)> {
        let _lock = self.lock()?;
        let name = pattern.rsplit('/').next().unwrap_or(pattern);
        let dir = self.dir.join("files").join(package);
        let path = dir.join(name);
        if path.is_file() {
            return Ok((path, 0));
        }
        let (deb, size) = self.download(package)?;
        let files = extract(&deb, &[pattern]);
        let _ = fs::remove_file(&deb);
        let files = files.with_context(|| format!("{package} ({} {})", self.suite, self.arch))?;
        fs::create_dir_all(&dir)?;
        write_file(&path, &files[0])?;
        Ok((path, size))
    }

    /// The whole of `package` unpacked under `root/<package>/` (its files as `usr/...`), and
    /// the bytes downloaded for it (0 when cached). The stamp `<package>.unpacked`, written
    /// once everything is, names the `.deb` it came from.
    pub fn unpacked(&self, package: &str) -> Result<(PathBuf, u64)> {
        let _lock = self.lock()?;
        let root = self.dir.join("root").join(package);
        let stamp = self.dir.join(format!("{package}.unpacked"));
        if stamp.exists() {
            return Ok((root, 0));
        }
        let (deb, size) = self.download(package)?;
        // What an interrupted unpack left behind.
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root)?;
        let out = run_bounded(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
        if !out.status.success() {
            bail!(
                "dpkg-deb -x {}: {}",
                deb.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        write_file(
            &stamp,
            deb.file_name().unwrap_or_default().as_encoded_bytes(),
        )?;
        let _ = fs::remove_file(&deb);
        Ok((root, size))
    }
}

/// Runs `cmd` to its end, or fails once [`PATIENCE`] has passed (and the command is killed).
fn run_bounded(cmd: &mut Command) -> Result<Output> {
    let captured = run_captured(cmd, PATIENCE)?;
    let Some(status) = captured.status else {
        bail!("{cmd:?}: still running after {PATIENCE:?}: killed");
    };
    Ok(Output {
        status,
        stdout: captured.stdout,
        stderr: captured.stderr,
    })
}

fn list_debs(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "deb"))
                .collect()
        })
        .unwrap_or_default()
}

/// Writes `bytes` aside and renames them into place, so a reader never sees half a file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("part");
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)?;
    Ok(())
}
