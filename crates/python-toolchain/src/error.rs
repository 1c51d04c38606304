//! Everything that can stop a build. Each message names the bad value and,
//! when the user can fix it, ends with a `hint:` saying how.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A failed `spin py2wasm` build.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The app name is not an importable Python module name.
    #[error(
        "`{module}` is not a Python module name\n\nhint: pass the module's import name, \
         e.g. `spin py2wasm app` for `app.py`"
    )]
    InvalidModuleName {
        /// The name as given.
        module: String,
    },

    /// No python-path entry contains the app module.
    #[error(
        "cannot find the Python module `{module}` in {}\n\nhint: run the command in the \
         directory that holds `{}`, or add that directory with `-p/--python-path`",
        list_paths(searched),
        module_file(module)
    )]
    ModuleNotFound {
        /// The module name.
        module: String,
        /// The directories that were searched.
        searched: Vec<PathBuf>,
    },

    /// The Python interpreter could not be started.
    #[error(
        "cannot run the Python interpreter `{}`: {message}\n\nhint: install Python 3 \
         (3.9 or later), or set SPIN_PYTHON to the interpreter to use",
        python.display()
    )]
    PythonNotFound {
        /// The interpreter that was tried.
        python: PathBuf,
        /// Why it could not be started.
        message: String,
    },

    /// `python -m venv` failed.
    #[error(
        "cannot create a Python virtual environment in `{}` with `{}`:\n{output}\n\nhint: on \
         Debian and Ubuntu, install the `python3-venv` package; or set SPIN_PYTHON to a \
         Python 3 interpreter that includes `venv`",
        dir.display(),
        python.display()
    )]
    VenvFailed {
        /// The base interpreter.
        python: PathBuf,
        /// Where the environment was to be created.
        dir: PathBuf,
        /// What `venv` printed.
        output: String,
    },

    /// pip could not install componentize-py.
    #[error(
        "cannot install `{package}` with pip:\n{output}\n\nhint: check that this machine can \
         reach the Python package index (https://pypi.org, or the index in PIP_INDEX_URL), \
         then run the build again"
    )]
    ToolchainInstallFailed {
        /// The requirement, e.g. `componentize-py==0.16.0`.
        package: String,
        /// pip's error output.
        output: String,
    },

    /// pip could not install the app's dependencies.
    #[error(
        "cannot install the dependencies listed in `{}`:\n{output}\n\nhint: components can use \
         only pure-Python packages that publish a wheel (`py3-none-any`); check the names and \
         versions in `{}`, and that this machine can reach the Python package index",
        file.display(),
        file.display()
    )]
    DependencyInstallFailed {
        /// `requirements.txt` or `Pipfile`.
        file: PathBuf,
        /// pip's error output.
        output: String,
    },

    /// The Pipfile could not be read as TOML.
    #[error("invalid Pipfile `{}`: {message}\n\nhint: fix the Pipfile, or list the dependencies in `requirements.txt` instead", path.display())]
    InvalidPipfile {
        /// The Pipfile.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },

    /// A Pipfile package is not a plain index requirement.
    #[error(
        "the Pipfile `{}` takes `{name}` from git, a path or a URL, which `spin py2wasm` cannot \
         install\n\nhint: list the dependencies in `requirements.txt` instead, which pip \
         installs as written",
        path.display()
    )]
    UnsupportedPipfileEntry {
        /// The Pipfile.
        path: PathBuf,
        /// The package name.
        name: String,
    },

    /// Importing the app raised a Python exception (a syntax error, a missing
    /// module, an error in top-level code, ...).
    #[error("{0}")]
    Python(PythonFailure),

    /// componentize-py failed for a reason other than the app's Python code.
    #[error(
        "componentize-py {version} failed to build the component:\n{output}\n\nhint: if the \
         message does not point at your app, delete `{}` so the toolchain is reinstalled, \
         and run the build again",
        toolchain.display()
    )]
    ComponentizeFailed {
        /// The componentize-py version.
        version: &'static str,
        /// Its error output, with Rust backtraces removed.
        output: String,
        /// The toolchain directory.
        toolchain: PathBuf,
    },

    /// A file system operation failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done, e.g. "write".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// A Python exception raised while componentize-py imported the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonFailure {
    /// The innermost source location in the traceback that belongs to the
    /// app or its dependencies (SDK glue frames are skipped), with host paths.
    pub location: Option<(PathBuf, u32)>,
    /// The exception line, e.g. `SyntaxError: expected ':'`.
    pub message: String,
    /// The traceback, with guest paths mapped back to host paths and the
    /// SDK's own frames removed.
    pub traceback: String,
}

impl fmt::Display for PythonFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some((file, line)) => write!(f, "{}:{line}: {}", file.display(), self.message)?,
            None => write!(f, "{}", self.message)?,
        }
        let traceback = self.traceback.trim_end();
        if traceback != self.message {
            write!(f, "\n\n{traceback}")?;
        }
        if self.message.starts_with("ModuleNotFoundError") {
            write!(
                f,
                "\n\nhint: list the package in `requirements.txt` (or the Pipfile's \
                 `[packages]`), or activate the virtual environment that has it, then run the \
                 build again"
            )
        } else {
            write!(
                f,
                "\n\nhint: componentize-py imports the app module at build time; fix the error \
                 above and run the build again"
            )
        }
    }
}

/// Adapts an `io::Error` into [`Error::Io`] for `map_err`.
pub(crate) fn io_error(
    action: &'static str,
    path: impl AsRef<Path>,
) -> impl FnOnce(io::Error) -> Error {
    let path = path.as_ref().to_owned();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn module_file(module: &str) -> String {
    format!("{}.py", module.replace('.', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_failure_leads_with_file_and_line() {
        let failure = PythonFailure {
            location: Some((PathBuf::from("/app/app.py"), 3)),
            message: "SyntaxError: expected ':'".into(),
            traceback: "  File \"/app/app.py\", line 3\nSyntaxError: expected ':'\n".into(),
        };
        let text = Error::Python(failure).to_string();
        assert!(
            text.starts_with("/app/app.py:3: SyntaxError: expected ':'\n"),
            "{text}"
        );
        assert!(text.trim_end().ends_with("run the build again"), "{text}");
    }

    #[test]
    fn missing_package_hint_points_at_requirements() {
        let failure = PythonFailure {
            location: Some((PathBuf::from("app.py"), 1)),
            message: "ModuleNotFoundError: No module named 'humanize'".into(),
            traceback: String::new(),
        };
        let text = failure.to_string();
        assert!(
            text.contains("hint: list the package in `requirements.txt`"),
            "{text}"
        );
    }

    #[test]
    fn module_not_found_names_the_file_to_look_for() {
        let error = Error::ModuleNotFound {
            module: "pkg.app".into(),
            searched: vec![".".into()],
        };
        let text = error.to_string();
        assert!(text.contains("`pkg/app.py`"), "{text}");
        assert!(text.contains("in `.`"), "{text}");
    }
}
