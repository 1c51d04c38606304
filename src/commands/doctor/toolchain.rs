//! The Python toolchain a component's build command needs: the private
//! componentize-py that `spin py2wasm` provisions, or a `componentize-py`
//! on `PATH` for apps built with the official SDK.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use spin_manifest::{App, Component, ComponentSource};
use spin_python_toolchain::{COMPONENTIZE_PY_VERSION, Toolchain};

use super::report::{Finding, Status};

const SUBJECT: &str = "Python toolchain";

/// The oldest interpreter componentize-py can be installed with.
const MIN_PYTHON: (u32, u32) = (3, 9);

/// Where an app keeps its virtual environment, by convention.
const VENV_DIRS: &[&str] = &[".venv", "venv", "env"];

/// Whether a build command compiles Python (and so needs a toolchain).
pub fn is_python_build(command: &str) -> bool {
    uses_py2wasm(command) || uses_componentize_py(command)
}

/// `spin py2wasm …`: the toolchain `spin` provisions itself.
fn uses_py2wasm(command: &str) -> bool {
    words(command).any(|w| w == "py2wasm" || w.ends_with("/py2wasm"))
}

/// `componentize-py …` (or `python -m componentize_py`) run directly.
fn uses_componentize_py(command: &str) -> bool {
    words(command).any(|w| {
        let name = w.rsplit('/').next().unwrap_or(w);
        name == "componentize-py" || name == "componentize_py"
    })
}

fn words(command: &str) -> impl Iterator<Item = &str> {
    command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .filter(|w| !w.is_empty())
}

/// Checks the toolchains the app's build commands use; none when no
/// component builds with Python.
pub fn check(app: &App) -> Vec<Finding> {
    let builds_with = |uses: fn(&str) -> bool| -> Vec<&Component> {
        app.components
            .iter()
            .filter(|c| c.build.as_ref().is_some_and(|b| uses(&b.command)))
            .collect()
    };
    let mut findings = Vec::new();
    let py2wasm = builds_with(uses_py2wasm);
    if !py2wasm.is_empty() {
        findings.push(check_py2wasm(
            &spin_python_toolchain::default_cache_dir(),
            &spin_python_toolchain::default_python(),
            urgency(app, &py2wasm),
        ));
    }
    let componentize = builds_with(|c| uses_componentize_py(c) && !uses_py2wasm(c));
    if !componentize.is_empty() {
        findings.push(check_componentize_py(
            app,
            &componentize,
            urgency(app, &componentize),
        ));
    }
    findings
}

/// A missing toolchain stops the app from running when a component it
/// builds has no source yet; otherwise only the next build needs it.
fn urgency(app: &App, components: &[&Component]) -> Status {
    let unbuilt = components.iter().any(|c| match &c.source.value {
        ComponentSource::Local(path) => !app.dir.join(path).is_file(),
        ComponentSource::Remote { .. } => false,
    });
    if unbuilt {
        Status::Problem
    } else {
        Status::Warning
    }
}

/// `spin py2wasm`'s componentize-py, under `cache`.
fn check_py2wasm(cache: &Path, python: &Path, urgency: Status) -> Finding {
    let dir = Toolchain::dir_in(cache);
    if let Some(toolchain) = Toolchain::find(cache) {
        return Finding::ok(
            SUBJECT,
            format!(
                "componentize-py {COMPONENTIZE_PY_VERSION} is provisioned in `{}`",
                toolchain.dir().display()
            ),
        );
    }
    let python_name = python.display();
    let retry = "then run `spin build`; it provisions componentize-py on first use";
    match python_version(python) {
        Ok(version) if version >= MIN_PYTHON => Finding::warning(
            SUBJECT,
            format!("componentize-py {COMPONENTIZE_PY_VERSION} is not provisioned yet"),
        )
        .hint(format!(
            "run `spin build` once with network access: it creates a virtual environment in `{}` with `{python_name}` (Python {}.{}) and installs componentize-py {COMPONENTIZE_PY_VERSION} from PyPI",
            dir.display(),
            version.0,
            version.1
        )),
        Ok((major, minor)) => with_status(
            urgency,
            format!(
                "componentize-py {COMPONENTIZE_PY_VERSION} is not provisioned, and `{python_name}` is Python {major}.{minor}; it needs {}.{} or later",
                MIN_PYTHON.0, MIN_PYTHON.1
            ),
        )
        .hint(format!(
            "install Python {}.{} or later, or set SPIN_PYTHON to one; {retry}",
            MIN_PYTHON.0, MIN_PYTHON.1
        )),
        Err(PythonProbe::NotFound) => with_status(
            urgency,
            format!(
                "componentize-py {COMPONENTIZE_PY_VERSION} is not provisioned, and `{python_name}` (to provision it with) was not found"
            ),
        )
        .hint(format!(
            "install Python 3 (3.9 or later), or set SPIN_PYTHON to an interpreter; {retry}"
        )),
        Err(PythonProbe::NoVenv) => with_status(
            urgency,
            format!(
                "componentize-py {COMPONENTIZE_PY_VERSION} is not provisioned, and `{python_name}` cannot create virtual environments (no `venv`/`ensurepip`)"
            ),
        )
        .hint(format!(
            "on Debian and Ubuntu install the `python3-venv` package, or set SPIN_PYTHON to another interpreter; {retry}"
        )),
    }
}

fn with_status(status: Status, message: String) -> Finding {
    match status {
        Status::Problem => Finding::problem(SUBJECT, message),
        _ => Finding::warning(SUBJECT, format!("{message} (the next build needs it)")),
    }
}

/// Why an interpreter cannot provision the toolchain.
#[derive(Debug, PartialEq, Eq)]
enum PythonProbe {
    NotFound,
    NoVenv,
}

/// The interpreter's version, if it runs and can create virtual
/// environments (what `Toolchain::install` needs).
fn python_version(python: &Path) -> Result<(u32, u32), PythonProbe> {
    let output = Command::new(python)
        .args([
            "-c",
            "import sys, venv, ensurepip; print(*sys.version_info[:2])",
        ])
        .output()
        .map_err(|_| PythonProbe::NotFound)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(if stderr.contains("ModuleNotFoundError") {
            PythonProbe::NoVenv
        } else {
            PythonProbe::NotFound
        });
    }
    parse_version(&String::from_utf8_lossy(&output.stdout)).ok_or(PythonProbe::NotFound)
}

/// `3 12` → `(3, 12)`.
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split_whitespace().map(str::parse::<u32>);
    Some((parts.next()?.ok()?, parts.next()?.ok()?))
}

/// `componentize-py` run directly by the build commands.
fn check_componentize_py(app: &App, components: &[&Component], urgency: Status) -> Finding {
    if let Some(found) = find_on_path("componentize-py", std::env::var_os("PATH").as_deref()) {
        return Finding::ok(
            SUBJECT,
            format!("`componentize-py` is on PATH (`{}`)", found.display()),
        );
    }
    let workdirs = components
        .iter()
        .filter_map(|c| c.build.as_ref()?.workdir.as_ref())
        .map(|w| app.dir.join(w));
    let in_venv = workdirs
        .chain([app.dir.clone()])
        .flat_map(|dir| VENV_DIRS.iter().map(move |venv| dir.join(venv)))
        .find(|venv| venv.join("bin").join("componentize-py").is_file());
    match in_venv {
        Some(venv) => with_status(
            urgency,
            format!(
                "`componentize-py` is not on PATH, but the virtual environment `{}` has it",
                super::sources::shown(&venv, &app.dir)
            ),
        )
        .hint(format!(
            "activate it before building: `source {}/bin/activate`, then `spin build`",
            super::sources::shown(&venv, &app.dir)
        )),
        None => {
            let install = if app.dir.join("requirements.txt").is_file() {
                "pip install -r requirements.txt"
            } else {
                "pip install componentize-py spin-sdk"
            };
            with_status(urgency, "`componentize-py` is not on PATH".to_owned()).hint(format!(
                "install it in a virtual environment in the app's directory: `python3 -m venv .venv && source .venv/bin/activate && {install}`, then `spin build`"
            ))
        }
    }
}

/// The executable `name` in one of `path`'s directories.
fn find_on_path(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_commands_are_told_apart_by_their_programs() {
        assert!(uses_py2wasm("spin py2wasm app -o app.wasm"));
        assert!(uses_py2wasm("cd src && /usr/bin/py2wasm app"));
        assert!(!uses_py2wasm("cargo build --target wasm32-wasip2"));
        assert!(uses_componentize_py(
            "componentize-py -w spin-http componentize app -o app.wasm"
        ));
        assert!(uses_componentize_py(
            "python3 -m componentize_py componentize app"
        ));
        assert!(!uses_componentize_py("spin py2wasm app"));
        assert!(is_python_build("spin py2wasm app"));
        assert!(!is_python_build("npm run build"));
    }

    #[test]
    fn versions_parse_from_the_probe_output() {
        assert_eq!(parse_version("3 12\n"), Some((3, 12)));
        assert_eq!(parse_version("3"), None);
        assert_eq!(parse_version(""), None);
        assert!((3, 8) < MIN_PYTHON && (3, 12) >= MIN_PYTHON);
    }

    #[test]
    fn a_provisioned_toolchain_is_ok_and_a_missing_interpreter_is_named() {
        let cache = tempfile::tempdir().unwrap();
        let missing_python = cache.path().join("no-such-python");
        let finding = check_py2wasm(cache.path(), &missing_python, Status::Problem);
        assert_eq!(finding.status, Status::Problem);
        assert!(finding.message.contains("no-such-python"), "{finding:?}");
        assert!(finding.hint.unwrap().contains("SPIN_PYTHON"));
        let warning = check_py2wasm(cache.path(), &missing_python, Status::Warning);
        assert_eq!(warning.status, Status::Warning);

        // `Toolchain::find` wants the virtual environment's interpreter.
        let bin = Toolchain::dir_in(cache.path()).join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("python"), "").unwrap();
        let finding = check_py2wasm(cache.path(), &missing_python, Status::Problem);
        assert_eq!(finding.status, Status::Ok, "{finding:?}");
    }

    #[cfg(unix)]
    #[test]
    fn only_executables_on_path_count() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("componentize-py");
        std::fs::write(&tool, "").unwrap();
        let path = std::env::join_paths([dir.path()]).unwrap();
        assert_eq!(find_on_path("componentize-py", Some(&path)), None);
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find_on_path("componentize-py", Some(&path)), Some(tool));
        assert_eq!(find_on_path("componentize-py", None), None);
    }
}
