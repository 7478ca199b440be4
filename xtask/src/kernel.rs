//! Real kernels for the binaries: fetch a Debian kernel, busybox-static and (where the host's
//! qemu cannot boot it) qemu and firmware from Debian's archive, build an initramfs, and boot it
//! under qemu-system with a bounded wait.
//!
//! Packages are read through a private apt state per suite and architecture under
//! `target/kernels/apt/`, never through the host's sources (mixing suites there would break the
//! host), and only downloaded and unpacked, never installed. What is unpacked is cached under
//! `target/kernels/`, so each package is downloaded once per target directory.

use crate::{Arch, DebFile, Kernel, Qemu, target_dir};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, String>;

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
        .ok_or_else(|| "the host's apt sources name no Debian archive".to_string())
}

/// What a kernel boots with, all of it on disk.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The versioned package the image came from (`linux-image-6.12.117+deb13-arm64`).
    pub package: String,
    pub image: PathBuf,
    /// The device tree, where the kernel's machine needs one.
    pub dtb: Option<PathBuf>,
    pub busybox: PathBuf,
    pub qemu: PathBuf,
    pub firmware: Option<PathBuf>,
    /// Bytes downloaded by this call (0 when everything was cached).
    pub downloaded: u64,
}

/// Fetches everything `kernel` (one of `arch`'s) needs, from the cache or Debian's archive.
/// Errors name the package and suite that could not be had.
pub fn fetch(arch: &Arch, kernel: &Kernel) -> Result<Fetched> {
    let mut downloaded = 0;
    let apt = Apt::open(kernel.suite, arch.debian)?;
    let (package, image) = {
        let _lock = apt.lock()?;
        let dir = kernels_dir().join(kernel.name);
        let (package, got) = cached_kernel(&apt, kernel, &dir)?;
        downloaded += got;
        (package, dir)
    };
    let (image, dtb) = (image.join("image"), kernel.dtb.map(|_| image.join("dtb")));
    let (busybox, got) = apt.file("busybox-static", "*bin/busybox")?;
    downloaded += got;
    let qemu = match kernel.qemu {
        Qemu::Host { program, package } => crate::tools::require(program, package)?,
        Qemu::Unpacked(file) => {
            let (path, got) = host_file(&file)?;
            downloaded += got;
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("chmod {}: {e}", path.display()))?;
            path
        }
    };
    let firmware = match kernel.firmware {
        Some(file) => {
            let (path, got) = host_file(&file)?;
            downloaded += got;
            Some(path)
        }
        None => None,
    };
    Ok(Fetched {
        package,
        image,
        dtb,
        busybox,
        qemu,
        firmware,
        downloaded,
    })
}

/// `target/kernels`.
pub fn kernels_dir() -> PathBuf {
    target_dir().join("kernels")
}

/// The kernel image in `dir` (and the name of its package), downloading it first if need be.
/// The metapackage names the current version; when the archive's pool does not serve that
/// one (it answers 404 for trixie's ppc64el and s390x 6.12.117 here), older versions of the
/// same flavour still in the suite's index are tried, newest first.
fn cached_kernel(apt: &Apt, kernel: &Kernel, dir: &Path) -> Result<(String, u64)> {
    let name_file = dir.join("package");
    if let Ok(name) = fs::read_to_string(&name_file)
        && dir.join("image").is_file()
        && (kernel.dtb.is_none() || dir.join("dtb").is_file())
    {
        return Ok((name, 0));
    }
    let current = apt.depends_on(kernel.package, "linux-image-")?;
    let flavour = kernel
        .package
        .strip_prefix("linux-image-")
        .ok_or_else(|| format!("{} is not a linux-image-* metapackage", kernel.package))?;
    let mut candidates = vec![current.clone()];
    let mut older: Vec<String> = apt
        .package_names("linux-image-")?
        .into_iter()
        .filter(|name| name != &current && same_flavour(name, flavour))
        .collect();
    older.sort_by(|a, b| natural_cmp(b, a));
    candidates.extend(older);
    let mut errors = Vec::new();
    for versioned in candidates {
        let holder = format!(
            "{}{}",
            kernel.image_package,
            versioned.strip_prefix("linux-image-").unwrap_or(&versioned)
        );
        match apt.download(&holder) {
            Ok((deb, size)) => {
                let patterns: Vec<&str> = [Some(kernel.image), kernel.dtb]
                    .into_iter()
                    .flatten()
                    .collect();
                let files = extract(&deb, &patterns);
                let _ = fs::remove_file(&deb);
                let files = files?;
                fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                for (name, bytes) in ["image", "dtb"].into_iter().zip(&files) {
                    write_file(&dir.join(name), bytes)?;
                }
                write_file(&name_file, holder.as_bytes())?;
                return Ok((holder, size));
            }
            Err(e) => errors.push(e),
        }
    }
    Err(format!(
        "no kernel of {} ({}, {}) could be downloaded: {}",
        kernel.package,
        kernel.suite,
        apt.arch,
        errors.join("; ")
    ))
}

/// Whether `name` is `linux-image-<version>-<flavour>` for exactly this flavour: the part
/// between is a version (digits, dots, `+debNN`, a `-NN` ABI), not another flavour such as
/// `-cloud` or `-rt` that shares the suffix.
fn same_flavour(name: &str, flavour: &str) -> bool {
    let Some(version) = name
        .strip_prefix("linux-image-")
        .and_then(|rest| rest.strip_suffix(flavour))
        .and_then(|rest| rest.strip_suffix('-'))
    else {
        return false;
    };
    version.starts_with(|c: char| c.is_ascii_digit())
        && !version
            .split('-')
            .skip(1)
            .any(|part| part.starts_with(|c: char| !c.is_ascii_digit()))
        && !version.ends_with("-dbg")
}

/// Compares digit runs as numbers (`6.12.117` after `6.12.99`).
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits > 0 {
                out.push((rest[..digits].parse().unwrap_or(u64::MAX), String::new()));
                rest = &rest[digits..];
            } else {
                let text = rest
                    .find(|c: char| c.is_ascii_digit())
                    .unwrap_or(rest.len());
                out.push((0, rest[..text].to_string()));
                rest = &rest[text..];
            }
        }
        out
    }
    chunks(a).cmp(&chunks(b))
}

/// A file of a package for the host's architecture (or for all), from the cache or the archive.
fn host_file(file: &DebFile) -> Result<(PathBuf, u64)> {
    let arch = host_debian_arch()?;
    Apt::open(file.suite, &arch)?.file(file.package, file.path)
}

/// The host's Debian architecture, as dpkg names it.
fn host_debian_arch() -> Result<String> {
    let out = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .map_err(|e| format!("dpkg --print-architecture: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A private apt state: its own sources.list (one suite, one architecture), lists and cache,
/// and the host's dpkg status replaced by an empty one, so nothing on the host is read or
/// changed but apt's configuration (which may name a proxy).
struct Apt {
    dir: PathBuf,
    suite: String,
    arch: String,
}

impl Apt {
    fn open(suite: &str, arch: &str) -> Result<Apt> {
        let dir = kernels_dir().join("apt").join(format!("{suite}-{arch}"));
        for sub in ["lists/partial", "cache/archives/partial", "debs", "files"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let archive = archive()?;
        write_file(
            &dir.join("sources.list"),
            format!("deb [arch={arch}] {archive} {suite} main\n").as_bytes(),
        )?;
        write_file(&dir.join("status"), b"")?;
        Ok(Apt {
            dir,
            suite: suite.to_string(),
            arch: arch.to_string(),
        })
    }

    /// Tests run concurrently and may share a state (arm64's two kernels, the firmware and
    /// amd64's kernel): apt's own lock would fail the second, so they take turns.
    fn lock(&self) -> Result<FileLock> {
        FileLock::take(&self.dir.join("turn.lock"))
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
        let out = Command::new(program)
            .args(self.options())
            .args(args)
            .current_dir(self.dir.join("debs"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{program}: {e} (Debian package apt)"))?;
        if !out.status.success() {
            return Err(format!(
                "`{program} {}` for {} {} failed: {}",
                args.join(" "),
                self.suite,
                self.arch,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
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
    fn download(&self, package: &str) -> Result<(PathBuf, u64)> {
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
    fn depends_on(&self, package: &str, prefix: &str) -> Result<String> {
        self.update()?;
        let out = self.apt("apt-cache", &["depends", package])?;
        out.lines()
            .filter_map(|line| line.trim().strip_prefix("Depends: "))
            .find(|dep| dep.starts_with(prefix))
            .map(str::to_string)
            .ok_or_else(|| {
                format!(
                    "{package} ({} {}) depends on no {prefix}* package",
                    self.suite, self.arch
                )
            })
    }

    fn package_names(&self, prefix: &str) -> Result<Vec<String>> {
        self.update()?;
        let out = self.apt("apt-cache", &["pkgnames", prefix])?;
        Ok(out.lines().map(str::to_string).collect())
    }

    /// Downloads one package into `debs/`, returning the file and its size.
    fn download_once(&self, package: &str) -> Result<(PathBuf, u64)> {
        let debs = self.dir.join("debs");
        let before: Vec<_> = list_debs(&debs);
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
            .ok_or_else(|| format!("apt-get download {package} left no .deb"))?;
        let size = fs::metadata(&deb).map(|m| m.len()).unwrap_or(0);
        Ok((deb, size))
    }

    /// One file of `package` matching `pattern`, cached under `files/<package>/`.
    fn file(&self, package: &str, pattern: &str) -> Result<(PathBuf, u64)> {
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
        let files = files.map_err(|e| format!("{e} ({} {})", self.suite, self.arch))?;
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        write_file(&path, &files[0])?;
        Ok((path, size))
    }
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

/// For each pattern, the contents of the first file in `deb` whose path matches it. dpkg-deb
/// unpacks the data member whatever its compression; we stop reading once we have them all,
/// so a kernel's modules are never written out.
fn extract(deb: &Path, patterns: &[&str]) -> Result<Vec<Vec<u8>>> {
    let mut child = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("dpkg-deb: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let mut found: Vec<Option<Vec<u8>>> = vec![None; patterns.len()];
    let mut archive = tar::Archive::new(stdout);
    let entries = archive
        .entries()
        .map_err(|e| format!("{}: {e}", deb.display()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("{}: {e}", deb.display()))?;
        let path = entry
            .path()
            .map_err(|e| format!("{}: {e}", deb.display()))?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let wanted = patterns
            .iter()
            .zip(&found)
            .position(|(pattern, got)| got.is_none() && glob_match(pattern, &path));
        if let Some(i) = wanted {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| format!("{}: {e}", deb.display()))?;
            found[i] = Some(bytes);
            if found.iter().all(Option::is_some) {
                break;
            }
        }
    }
    drop(archive);
    // Killed (or ended by the closed pipe) once we have what we came for.
    let _ = child.kill();
    let _ = child.wait();
    patterns
        .iter()
        .zip(found)
        .map(|(pattern, got)| {
            got.ok_or_else(|| {
                format!(
                    "{} holds no file matching {pattern}",
                    deb.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect()
}

/// `*` matches any run of characters, `/` included; everything else matches itself.
fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| glob_match(tail, &rest[i..]))
        }
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    // Written aside and renamed, so a reader never sees half a file.
    let tmp = path.with_extension("part");
    fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// An exclusive flock(2), released when dropped.
struct FileLock {
    _held: File,
}

impl FileLock {
    fn take(path: &Path) -> Result<FileLock> {
        let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(format!(
                "flock {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ));
        }
        Ok(FileLock { _held: file })
    }
}

/// A newc initramfs: `/init`, `/bin/busybox`, the given files at the root (all 0755), and the
/// directories and `/dev/console` node the kernel and /init need before anything is mounted.
/// Owners are root and times zero, so the same inputs give the same bytes.
pub fn initramfs(init: &[u8], busybox: &[u8], files: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    const DIR: u32 = 0o040755;
    const FILE: u32 = 0o100755;
    // Without /dev/console in the initramfs, init starts with no stdin, stdout or stderr.
    const CONSOLE: u32 = 0o020600;
    let mut out = Vec::new();
    let mut ino = 0;
    let mut entry = |name: &str, mode: u32, data: &[u8], rdev: (u32, u32)| -> Result<()> {
        ino += 1;
        let size = u32::try_from(data.len()).map_err(|_| format!("{name} is too large"))?;
        let mut writer = cpio::newc::Builder::new(name)
            .ino(ino)
            .mode(mode)
            .uid(0)
            .gid(0)
            .nlink(if mode == DIR { 2 } else { 1 })
            .mtime(0)
            .rdev_major(rdev.0)
            .rdev_minor(rdev.1)
            .write(&mut out, size);
        writer.write_all(data).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
        Ok(())
    };
    for dir in ["bin", "dev", "proc", "tmp"] {
        entry(dir, DIR, &[], (0, 0))?;
    }
    entry("dev/console", CONSOLE, &[], (5, 1))?;
    entry("bin/busybox", FILE, busybox, (0, 0))?;
    entry("init", FILE, init, (0, 0))?;
    for (name, data) in files {
        entry(name, FILE, data, (0, 0))?;
    }
    cpio::newc::trailer(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// One boot: what the console said and how qemu ended.
#[derive(Debug)]
pub struct Boot {
    /// The qemu command line, for failure messages.
    pub command: String,
    /// The serial console, line endings as the guest's tty wrote them (`\r\n`).
    pub console: String,
    /// qemu's own stderr.
    pub qemu_stderr: String,
    /// None when the boot outlived the timeout and qemu was killed.
    pub status: Option<ExitStatus>,
    pub elapsed: Duration,
}

/// The qemu command that boots `kernel` with this initramfs: one CPU, no disk, no network, no
/// display, the first serial port on stdout, no reboot (a panic ends qemu).
pub fn qemu_command(kernel: &Kernel, fetched: &Fetched, initramfs: &Path) -> Command {
    let mut cmd = Command::new(&fetched.qemu);
    cmd.args(kernel.machine);
    if let Some(firmware) = &fetched.firmware {
        cmd.arg("-bios").arg(firmware);
    }
    cmd.args(["-m", &kernel.memory_mib.to_string(), "-smp", "1"]);
    cmd.args(["-display", "none", "-monitor", "none", "-serial", "stdio"]);
    cmd.args(["-nic", "none", "-no-reboot"]);
    cmd.arg("-kernel").arg(&fetched.image);
    cmd.arg("-initrd").arg(initramfs);
    if let Some(dtb) = &fetched.dtb {
        cmd.arg("-dtb").arg(dtb);
    }
    cmd.arg("-append").arg(
        format!(
            "console={} quiet panic=-1 {}",
            kernel.console, kernel.append
        )
        .trim_end(),
    );
    cmd
}

/// Runs `cmd` (from [`qemu_command`]) until qemu exits or `timeout` passes, then kills it.
pub fn boot(mut cmd: Command, timeout: Duration) -> Result<Boot> {
    let command = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let console = dir.path().join("console");
    let stderr = dir.path().join("stderr");
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&console).map_err(|e| e.to_string())?)
        .stderr(File::create(&stderr).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("{command}: {e}"))?;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let elapsed = start.elapsed();
    let read =
        |path: &Path| String::from_utf8_lossy(&fs::read(path).unwrap_or_default()).into_owned();
    Ok(Boot {
        command,
        console: read(&console),
        qemu_stderr: read(&stderr),
        status,
        elapsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("boot/vmlinu*", "boot/vmlinuz-6.1.0-50-686"));
        assert!(glob_match("*bin/busybox", "bin/busybox"));
        assert!(glob_match("*bin/busybox", "usr/bin/busybox"));
        assert!(!glob_match("*bin/busybox", "usr/bin/busybox.sig"));
        assert!(glob_match(
            "usr/lib/modules/*/vmlinuz",
            "usr/lib/modules/7.2.13+deb14-loong64/vmlinuz"
        ));
        assert!(!glob_match("boot/vmlinu*", "usr/boot/vmlinuz"));
    }

    #[test]
    fn flavours() {
        assert!(same_flavour("linux-image-6.12.117+deb13-arm64", "arm64"));
        assert!(same_flavour("linux-image-6.1.0-50-686", "686"));
        assert!(!same_flavour(
            "linux-image-6.12.117+deb13-cloud-arm64",
            "arm64"
        ));
        assert!(!same_flavour(
            "linux-image-6.12.117+deb13-arm64-16k",
            "arm64"
        ));
        assert!(!same_flavour("linux-image-6.12.117+deb13-686-pae", "686"));
        assert!(!same_flavour("linux-image-arm64", "arm64"));
    }

    #[test]
    fn versions_newest_first() {
        let mut v = ["6.12.99+deb13", "6.12.117+deb13", "6.12.107+deb13"];
        v.sort_by(|a, b| natural_cmp(b, a));
        assert_eq!(v, ["6.12.117+deb13", "6.12.107+deb13", "6.12.99+deb13"]);
    }
}
