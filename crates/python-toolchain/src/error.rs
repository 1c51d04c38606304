//! Everything that can stop a build. Each message names the bad value and,
//! when the user can fix it, [`Error::hint`] says how; the CLI prints that
//! once, after the whole cause chain.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A failed `spin py2wasm` build.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The app name is not an importable Python module name.
    #[error("`{module}` is not a Python module name")]
    InvalidModuleName {
        /// The name as given.
        module: String,
    },

    /// No python-path entry contains the app module.
    #[error("cannot find the Python module `{module}` in {}", list_paths(searched))]
    ModuleNotFound {
        /// The module name.
        module: String,
        /// The directories that were searched.
        searched: Vec<PathBuf>,
    },

    /// The Python interpreter could not be started.
    #[error("cannot run the Python interpreter `{}`: {message}", python.display())]
    PythonNotFound {
        /// The interpreter that was tried.
        python: PathBuf,
        /// Why it could not be started.
        message: String,
    },

    /// `python -m venv` failed.
    #[error(
        "cannot create a Python virtual environment in `{}` with `{}`:\n{output}",
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
    #[error("cannot install `{package}` with pip:\n{output}")]
    ToolchainInstallFailed {
        /// The requirement, e.g. `componentize-py==0.16.0`.
        package: String,
        /// pip's error output.
        output: String,
    },

    /// pip could not install the app's dependencies.
    #[error("cannot install the dependencies listed in `{}`:\n{output}", file.display())]
    DependencyInstallFailed {
        /// `requirements.txt` or `Pipfile`.
        file: PathBuf,
        /// pip's error output.
        output: String,
    },

    /// The Pipfile could not be read as TOML.
    #[error("invalid Pipfile `{}`: {message}", path.display())]
    InvalidPipfile {
        /// The Pipfile.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },

    /// A Pipfile package is not a plain index requirement.
    #[error(
        "the Pipfile `{}` takes `{name}` from git, a path or a URL, which `spin py2wasm` cannot \
         install",
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
    #[error("componentize-py {version} failed to build the component:\n{output}")]
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
        if !traceback.is_empty() && traceback != self.message {
            write!(f, "\n\n{traceback}")?;
        }
        Ok(())
    }
}

impl PythonFailure {
    /// What to do about it: a missing module is usually a missing
    /// dependency; anything else is an error in the app's code.
    pub fn hint(&self) -> &'static str {
        if self.message.starts_with("ModuleNotFoundError") {
            "list the package in `requirements.txt` (or the Pipfile's `[packages]`), or \
             activate the virtual environment that has it, then run the build again"
        } else {
            "componentize-py imports the app module at build time; fix the error above and run \
             the build again"
        }
    }
}

impl Error {
    /// What to do about it; `None` when there is nothing the user can do
    /// beyond what the message says.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::InvalidModuleName { .. } => {
                "pass the module's import name, e.g. `spin py2wasm app` for `app.py`".into()
            }
            Self::ModuleNotFound { module, .. } => format!(
                "run the command in the directory that holds `{}`, or add that directory with \
                 `-p/--python-path`",
                module_file(module)
            ),
            Self::PythonNotFound { .. } => "install Python 3 (3.9 or later), or set SPIN_PYTHON \
                                            to the interpreter to use"
                .into(),
            Self::VenvFailed { .. } => "on Debian and Ubuntu, install the `python3-venv` package; \
                                        or set SPIN_PYTHON to a Python 3 interpreter that \
                                        includes `venv`"
                .into(),
            Self::ToolchainInstallFailed { .. } => "check that this machine can reach the Python \
                                                    package index (https://pypi.org, or the index \
                                                    in PIP_INDEX_URL), then run the build again"
                .into(),
            Self::DependencyInstallFailed { file, .. } => format!(
                "components can use only pure-Python packages that publish a wheel \
                 (`py3-none-any`); check the names and versions in `{}`, and that this machine \
                 can reach the Python package index",
                file.display()
            ),
            Self::InvalidPipfile { .. } => {
                "fix the Pipfile, or list the dependencies in `requirements.txt` instead".into()
            }
            Self::UnsupportedPipfileEntry { .. } => {
                "list the dependencies in `requirements.txt` instead, which pip installs as \
                 written"
                    .into()
            }
            Self::Python(failure) => failure.hint().into(),
            Self::ComponentizeFailed { toolchain, .. } => format!(
                "if the message does not point at your app, delete `{}` so the toolchain is \
                 reinstalled, and run the build again",
                toolchain.display()
            ),
            Self::Io { .. } => return None,
        })
    }
}

/// The message with its hint (if any) kept apart, for the CLI to print last.
impl From<&Error> for spin_hint::Hinted {
    fn from(error: &Error) -> Self {
        spin_hint::Hinted::new(error.to_string(), error.hint().unwrap_or_default())
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
        let error = Error::Python(failure);
        let text = error.to_string();
        assert!(
            text.starts_with("/app/app.py:3: SyntaxError: expected ':'\n"),
            "{text}"
        );
        assert!(!text.contains("hint: "), "{text}");
        let hint = error.hint().unwrap();
        assert!(
            hint.starts_with("componentize-py imports the app module"),
            "{hint}"
        );
        assert!(hint.ends_with("run the build again"), "{hint}");
    }

    #[test]
    fn missing_package_hint_points_at_requirements() {
        let failure = PythonFailure {
            location: Some((PathBuf::from("app.py"), 1)),
            message: "ModuleNotFoundError: No module named 'humanize'".into(),
            traceback: String::new(),
        };
        assert_eq!(
            failure.to_string(),
            "app.py:1: ModuleNotFoundError: No module named 'humanize'"
        );
        assert!(
            failure
                .hint()
                .starts_with("list the package in `requirements.txt`"),
            "{}",
            failure.hint()
        );
    }

    #[test]
    fn module_not_found_names_the_file_to_look_for() {
        let error = Error::ModuleNotFound {
            module: "pkg.app".into(),
            searched: vec![".".into()],
        };
        let hinted = spin_hint::Hinted::from(&error);
        assert_eq!(
            hinted.message,
            "cannot find the Python module `pkg.app` in `.`"
        );
        assert!(hinted.hint.contains("`pkg/app.py`"), "{}", hinted.hint);
    }

    /// One of each error, with the start of the hint it must carry as data
    /// (never in its message), or `None`.
    fn examples() -> Vec<(Error, Option<&'static str>)> {
        vec![
            (
                Error::InvalidModuleName {
                    module: "app.py".into(),
                },
                Some("pass the module's import name"),
            ),
            (
                Error::ModuleNotFound {
                    module: "app".into(),
                    searched: vec![".".into()],
                },
                Some("run the command in the directory that holds `app.py`"),
            ),
            (
                Error::PythonNotFound {
                    python: "python3".into(),
                    message: "No such file or directory".into(),
                },
                Some("install Python 3 (3.9 or later), or set SPIN_PYTHON to the interpreter"),
            ),
            (
                Error::VenvFailed {
                    python: "python3".into(),
                    dir: "/cache/venv".into(),
                    output: "ensurepip is not available".into(),
                },
                Some(
                    "on Debian and Ubuntu, install the `python3-venv` package; or set SPIN_PYTHON",
                ),
            ),
            (
                Error::ToolchainInstallFailed {
                    package: "componentize-py==0.16.0".into(),
                    output: "No matching distribution".into(),
                },
                Some(
                    "check that this machine can reach the Python package index (https://pypi.org",
                ),
            ),
            (
                Error::DependencyInstallFailed {
                    file: "requirements.txt".into(),
                    output: "no wheel for numpy".into(),
                },
                Some("components can use only pure-Python packages that publish a wheel"),
            ),
            (
                Error::InvalidPipfile {
                    path: "Pipfile".into(),
                    message: "expected `=`".into(),
                },
                Some("fix the Pipfile, or list the dependencies in `requirements.txt` instead"),
            ),
            (
                Error::UnsupportedPipfileEntry {
                    path: "Pipfile".into(),
                    name: "mine".into(),
                },
                Some("list the dependencies in `requirements.txt` instead, which pip installs"),
            ),
            (
                Error::Python(PythonFailure {
                    location: None,
                    message: "ModuleNotFoundError: No module named 'x'".into(),
                    traceback: String::new(),
                }),
                Some("list the package in `requirements.txt`"),
            ),
            (
                Error::ComponentizeFailed {
                    version: "0.16.0",
                    output: "thread panicked".into(),
                    toolchain: "/cache/toolchain".into(),
                },
                Some("if the message does not point at your app, delete `/cache/toolchain`"),
            ),
            (
                Error::Io {
                    action: "write",
                    path: "app.wasm".into(),
                    source: io::Error::other("disk full"),
                },
                None,
            ),
        ]
    }

    #[test]
    fn every_hint_is_data_not_message_text() {
        for (error, expected) in examples() {
            let hinted = spin_hint::Hinted::from(&error);
            assert_eq!(hinted.message, error.to_string());
            assert!(!hinted.message.contains("hint"), "{}", hinted.message);
            match expected {
                Some(start) => {
                    assert!(hinted.hint.starts_with(start), "{error:?}: {}", hinted.hint)
                }
                None => assert_eq!(hinted.hint, "", "{error:?}"),
            }
        }
    }
}
