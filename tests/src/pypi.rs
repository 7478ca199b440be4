//! Python tools from PyPI, for checks that belong to another project (the SPDX project's own
//! validator): installed with pip, at a pinned version, into a virtualenv under target/pypi/,
//! once per machine; tests running at the same time share the install through a lock file.

use fs_err as fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const INSTALL_PATIENCE: Duration = Duration::from_secs(300);

/// The console script `binary` of `package`==`version`, installed if it is not yet.
pub fn tool(package: &str, version: &str, binary: &str) -> PathBuf {
    let venv = xtask::target_dir()
        .join("pypi")
        .join(format!("{package}-{version}"));
    fs::create_dir_all(venv.parent().unwrap()).unwrap();
    // Released when `lock` is dropped.
    let lock = fs::File::create(venv.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    let path = venv.join("bin").join(binary);
    if path.exists() {
        return path;
    }
    let python = python_with_venv();
    run(Command::new(python).args(["-m", "venv"]).arg(&venv));
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("{package}=={version}")));
    assert!(path.exists(), "{package} {version} installed no {binary}");
    path
}

fn run(cmd: &mut Command) {
    crate::run_bounded(cmd, INSTALL_PATIENCE);
}

/// The `python3` on PATH, once it is known to make virtualenvs with pip in them: `venv` and
/// `ensurepip`, which Debian's python3 leaves to the package python3-venv (a pyenv or
/// upstream build has both).
fn python_with_venv() -> PathBuf {
    let python = crate::require_tool("python3", "python3");
    let probe =
        crate::containers::output_of(Command::new(&python).args(["-c", "import venv, ensurepip"]));
    assert!(
        probe.status.success(),
        "{} has no venv with pip: install the Debian package python3-venv ({})",
        python.display(),
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    python
}
