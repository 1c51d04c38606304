//! The private componentize-py installation: a virtual environment under the
//! user's cache directory, created on first use and reused afterwards.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::error::{Error, io_error};

/// The componentize-py release every build uses. Pinned, because the SDK
/// relies on the names of the bindings it generates and on its CPython
/// version (3.12).
pub const COMPONENTIZE_PY_VERSION: &str = "0.16.0";

/// The CPython version embedded by [`COMPONENTIZE_PY_VERSION`]; dependencies
/// are resolved for it rather than for the interpreter that runs pip.
pub(crate) const GUEST_PYTHON_VERSION: &str = "3.12";

/// A ready componentize-py installation.
#[derive(Debug, Clone)]
pub struct Toolchain {
    dir: PathBuf,
}

impl Toolchain {
    /// Where the installation lives (or will live) under `cache`.
    pub fn dir_in(cache: &Path) -> PathBuf {
        cache.join(format!("componentize-py-{COMPONENTIZE_PY_VERSION}"))
    }

    /// The installation under `cache`, if one is complete and its interpreter
    /// still exists (a removed base Python leaves a dangling link behind).
    pub fn find(cache: &Path) -> Option<Toolchain> {
        let toolchain = Toolchain {
            dir: Self::dir_in(cache),
        };
        toolchain.python().exists().then_some(toolchain)
    }

    /// Creates the installation under `cache` with the interpreter `python`:
    /// `python -m venv`, then `pip install componentize-py==<version>`.
    ///
    /// Everything happens in a staging directory that is renamed into place
    /// only once pip has succeeded, so an interrupted install is never
    /// mistaken for a complete one, and concurrent builds don't collide.
    pub fn install(cache: &Path, python: &Path) -> Result<Toolchain, Error> {
        let _lock = install_lock(cache)?;
        if let Some(toolchain) = Toolchain::find(cache) {
            // Another build installed it while this one waited for the lock.
            return Ok(toolchain);
        }
        let dir = Self::dir_in(cache);
        if dir.exists() {
            // Present but unusable (see `find`): start again.
            fs::remove_dir_all(&dir).map_err(io_error("remove", &dir))?;
        }
        let staging = tempfile::Builder::new()
            .prefix(".componentize-py-")
            .tempdir_in(cache)
            .map_err(io_error("create a directory in", cache))?;

        let venv = run(
            Command::new(python)
                .arg("-m")
                .arg("venv")
                .arg(staging.path()),
            python,
        )?;
        if !venv.status.success() {
            return Err(Error::VenvFailed {
                python: python.to_owned(),
                dir: dir.clone(),
                output: tail(&venv),
            });
        }
        let staged = Toolchain {
            dir: staging.path().to_owned(),
        };
        let package = format!("componentize-py=={COMPONENTIZE_PY_VERSION}");
        let pip = run(staged.pip().arg(&package), &staged.python())?;
        if !pip.status.success() {
            return Err(Error::ToolchainInstallFailed {
                package,
                output: tail(&pip),
            });
        }

        let staged = staging.keep();
        fs::rename(&staged, &dir).map_err(io_error("move the new toolchain to", &dir))?;
        Toolchain::find(cache).ok_or_else(|| Error::Io {
            action: "install componentize-py into",
            path: dir,
            source: ErrorKind::NotFound.into(),
        })
    }

    /// The installation's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The virtual environment's interpreter.
    ///
    /// componentize-py is started through it (`python -c ...`) rather than
    /// through its console script, whose `#!` line would still name the
    /// staging directory the environment was created in.
    pub(crate) fn python(&self) -> PathBuf {
        if cfg!(windows) {
            self.dir.join("Scripts").join("python.exe")
        } else {
            self.dir.join("bin").join("python")
        }
    }

    /// `python -m pip install`, non-interactive. Its output is only shown
    /// when it fails, and then the retry warnings that name an unreachable
    /// index are the useful part, so it is not made quiet.
    pub(crate) fn pip(&self) -> Command {
        let mut command = Command::new(self.python());
        command
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .env("PIP_NO_WARN_SCRIPT_LOCATION", "1");
        command
    }

    /// componentize-py with Rust backtraces off, so failures carry only the
    /// error text.
    pub(crate) fn componentize_py(&self) -> Command {
        let mut command = Command::new(self.python());
        command
            .args([
                "-c",
                "import sys, componentize_py; sys.exit(componentize_py.script())",
            ])
            .env("RUST_BACKTRACE", "0")
            .env("RUST_LIB_BACKTRACE", "0");
        command
    }
}

/// Serialises installs into `dir` across processes (`spin build` may run
/// several `spin py2wasm` at once), so only one of them downloads. The lock
/// is released when the returned file is dropped. Installs still go through
/// a staging directory, so a killed install leaves nothing half-made.
pub(crate) fn install_lock(dir: &Path) -> Result<fs::File, Error> {
    fs::create_dir_all(dir).map_err(io_error("create", dir))?;
    let path = dir.join(".install.lock");
    let file = fs::File::create(&path).map_err(io_error("create", &path))?;
    file.lock().map_err(io_error("lock", &path))?;
    Ok(file)
}

/// The interpreter to provision with: `SPIN_PYTHON` if set, else `python3`
/// (`python` on Windows, where `python3` is often a store shim).
pub fn default_python() -> PathBuf {
    match std::env::var_os("SPIN_PYTHON") {
        Some(python) if !python.is_empty() => PathBuf::from(python),
        _ if cfg!(windows) => PathBuf::from("python"),
        _ => PathBuf::from("python3"),
    }
}

/// Runs `command`, mapping a failure to start it onto
/// [`Error::PythonNotFound`] (every command here is a Python interpreter).
pub(crate) fn run(command: &mut Command, python: &Path) -> Result<Output, Error> {
    command.output().map_err(|error| Error::PythonNotFound {
        python: python.to_owned(),
        message: error.to_string(),
    })
}

/// The last lines of a failed command's output, where pip and venv put the
/// reason.
pub(crate) fn tail(output: &Output) -> String {
    const LINES: usize = 20;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let start = lines.len().saturating_sub(LINES);
    lines[start..]
        .iter()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_interpreter_is_a_python_not_found_error() {
        let cache = tempfile::tempdir().unwrap();
        let missing = cache.path().join("no-such-python");
        let error = Toolchain::install(cache.path(), &missing).unwrap_err();
        match &error {
            Error::PythonNotFound { python, .. } => assert_eq!(python, &missing),
            other => panic!("unexpected error: {other}"),
        }
        assert!(error.hint().unwrap().starts_with("install Python 3"));
        // Nothing half-made is left behind to be mistaken for a toolchain.
        assert!(Toolchain::find(cache.path()).is_none());
        assert!(!Toolchain::dir_in(cache.path()).exists());
    }

    #[test]
    fn find_rejects_an_environment_without_an_interpreter() {
        let cache = tempfile::tempdir().unwrap();
        fs::create_dir_all(Toolchain::dir_in(cache.path()).join("bin")).unwrap();
        assert!(Toolchain::find(cache.path()).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn tail_keeps_the_last_lines() {
        let output = Command::new("sh")
            .args([
                "-c",
                "for i in $(seq 1 30); do echo line$i; done; echo oops >&2",
            ])
            .output()
            .unwrap();
        let text = tail(&output);
        assert!(text.ends_with("  oops"), "{text}");
        assert!(!text.contains("line10\n"), "{text}");
        assert_eq!(text.lines().count(), 20);
    }
}
