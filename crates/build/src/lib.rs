//! Runs the build commands of a Spin application's components
//! (`[component.build]` in the manifest), one after another, stopping at the
//! first failure.
//!
//! Each command runs through `sh -c` in its component's `workdir` (relative
//! to the manifest's directory), with its output going straight to the
//! terminal. Progress is reported through a callback rather than printed,
//! so `spin build` and `spin up --build` word it the same way.
//!
//! ```no_run
//! let app = spin_manifest::load_file(std::path::Path::new("spin.toml")).unwrap();
//! spin_build::build(&app, &[], &mut |event| eprintln!("{event:?}"))?;
//! # Ok::<(), spin_build::Error>(())
//! ```

#![deny(missing_docs)]

pub mod last_build;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use spin_manifest::{App, BuildConfig, Component};

/// Progress of a build.
#[derive(Debug, PartialEq)]
pub enum BuildEvent<'a> {
    /// A component's build command is about to run.
    Building {
        /// The component.
        component: &'a str,
        /// Its build command.
        command: &'a str,
        /// The directory it runs in, when the manifest sets one.
        workdir: Option<&'a Path>,
    },
    /// A selected component has no build command and is skipped.
    NoBuildCommand {
        /// The component.
        component: &'a str,
    },
    /// None of the selected components has a build command.
    NothingToBuild,
    /// Every build command succeeded.
    Finished,
}

/// Why a build stopped. Each error has a [`hint`](Error::hint) saying what
/// to do, kept out of its message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `--component-id` named components the application does not have.
    #[error(
        "Unknown component(s) {}", .unknown.join(", ")
    )]
    UnknownComponents {
        /// The IDs not found.
        unknown: Vec<String>,
        /// The application's component IDs.
        known: Vec<String>,
    },
    /// A `workdir` that is absolute.
    #[error(
        "The workdir {} of component {component} must be relative to the manifest's directory", .workdir.display()
    )]
    AbsoluteWorkdir {
        /// The component.
        component: String,
        /// The workdir as written.
        workdir: PathBuf,
    },
    /// A `workdir` that does not exist.
    #[error(
        "The workdir {} of component {component} does not exist", .workdir.display()
    )]
    MissingWorkdir {
        /// The component.
        component: String,
        /// The resolved directory.
        workdir: PathBuf,
    },
    /// The shell could not be started.
    #[error("Cannot run the build command `{command}` for component {component}: {error}")]
    Spawn {
        /// The component.
        component: String,
        /// The command.
        command: String,
        /// The spawn error.
        error: std::io::Error,
    },
    /// A build command exited unsuccessfully.
    #[error("Build command for component {component} failed with status {status}")]
    Failed {
        /// The component.
        component: String,
        /// The exit code, or `signal N`.
        status: String,
    },
}

impl Error {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            Self::UnknownComponents { known, .. } => {
                format!("the application's components are: {}", known.join(", "))
            }
            Self::AbsoluteWorkdir { .. } => {
                "change it in the manifest's [component.build] table".into()
            }
            Self::MissingWorkdir { .. } => {
                "create it, or fix `workdir` in the manifest's [component.build] table".into()
            }
            Self::Spawn { .. } => "check that `sh` is installed".into(),
            Self::Failed { .. } => {
                "its output is above; fix the problem and run `spin build` again".into()
            }
        }
    }
}

/// The message with its hint kept apart, for the CLI to print last.
impl From<&Error> for spin_hint::Hinted {
    fn from(error: &Error) -> Self {
        spin_hint::Hinted::new(error.to_string(), error.hint())
    }
}

/// Runs the build command of each component named in `component_ids`
/// (every component if it is empty), in manifest order, calling `on_event`
/// before each component and at the end.
pub fn build(
    app: &App,
    component_ids: &[String],
    on_event: &mut dyn FnMut(BuildEvent),
) -> Result<(), Error> {
    let components = select(app, component_ids)?;
    if components.iter().all(|c| c.build.is_none()) {
        on_event(BuildEvent::NothingToBuild);
        return Ok(());
    }
    let path = search_path_with_this_executable();
    for component in components {
        match &component.build {
            Some(build) => run_one(app, component, build, path.as_ref(), on_event)?,
            None => on_event(BuildEvent::NoBuildCommand {
                component: &component.id,
            }),
        }
    }
    // Only a build that succeeded counts; best effort, as in Spin (without
    // the file, only a warning is lost).
    let _ = last_build::record(&app.dir, app.profile.as_deref());
    on_event(BuildEvent::Finished);
    Ok(())
}

fn select<'a>(app: &'a App, component_ids: &[String]) -> Result<Vec<&'a Component>, Error> {
    let unknown: Vec<_> = component_ids
        .iter()
        .filter(|id| !app.components.iter().any(|c| &c.id == *id))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(Error::UnknownComponents {
            unknown,
            known: app.components.iter().map(|c| c.id.clone()).collect(),
        });
    }
    Ok(app
        .components
        .iter()
        .filter(|c| component_ids.is_empty() || component_ids.contains(&c.id))
        .collect())
}

fn run_one(
    app: &App,
    component: &Component,
    build: &BuildConfig,
    path: Option<&OsString>,
    on_event: &mut dyn FnMut(BuildEvent),
) -> Result<(), Error> {
    let workdir = match &build.workdir {
        None => app.dir.clone(),
        Some(dir) if dir.has_root() => {
            return Err(Error::AbsoluteWorkdir {
                component: component.id.clone(),
                workdir: dir.clone(),
            });
        }
        Some(dir) => app.dir.join(dir),
    };
    if !workdir.is_dir() {
        return Err(Error::MissingWorkdir {
            component: component.id.clone(),
            workdir,
        });
    }
    on_event(BuildEvent::Building {
        component: &component.id,
        command: &build.command,
        workdir: build.workdir.as_deref().map(|_| workdir.as_path()),
    });

    let mut command = Command::new("sh");
    command.arg("-c").arg(&build.command).current_dir(&workdir);
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let status = command.status().map_err(|error| Error::Spawn {
        component: component.id.clone(),
        command: build.command.clone(),
        error,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Failed {
            component: component.id.clone(),
            status: describe(status),
        })
    }
}

/// When the running program is `spin`, its directory goes first on the
/// build commands' PATH, so `spin py2wasm` in a manifest runs this spin
/// rather than whichever one happens to be installed.
fn search_path_with_this_executable() -> Option<OsString> {
    let exe = std::env::current_exe().ok()?;
    if exe.file_stem()? != "spin" {
        return None;
    }
    let dir = exe.parent()?.to_owned();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest))).ok()
}

fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return code.to_string();
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return format!("signal {signal}");
    }
    status.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(manifest: &str) -> (tempfile::TempDir, App) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spin.toml");
        std::fs::write(&path, manifest).unwrap();
        let app = spin_manifest::load_file(&path).unwrap();
        (dir, app)
    }

    const TWO_COMPONENTS: &str = r#"spin_manifest_version = 2

[application]
name = "two"

[[trigger.http]]
route = "/a/..."
component = "first"

[[trigger.http]]
route = "/b/..."
component = "second"

[component.first]
source = "first.wasm"
[component.first.build]
command = "echo built > first.out && pwd > first.pwd"

[component.second]
source = "sub/second.wasm"
[component.second.build]
command = "echo built > second.out"
workdir = "sub"
"#;

    fn events(app: &App, ids: &[&str]) -> (Result<(), Error>, Vec<String>) {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        let mut seen = Vec::new();
        let result = build(app, &ids, &mut |e| seen.push(format!("{e:?}")));
        (result, seen)
    }

    #[test]
    fn runs_each_command_in_its_workdir() {
        let (dir, app) = load(TWO_COMPONENTS);
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let (result, seen) = events(&app, &[]);
        result.unwrap();
        assert!(dir.path().join("first.out").exists());
        assert!(dir.path().join("sub/second.out").exists());
        let pwd = std::fs::read_to_string(dir.path().join("first.pwd")).unwrap();
        assert_eq!(
            Path::new(pwd.trim()).canonicalize().unwrap(),
            dir.path().canonicalize().unwrap()
        );
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(
            seen[1].contains("second") && seen[1].contains("sub"),
            "{seen:?}"
        );
        assert_eq!(seen[2], "Finished");
    }

    #[test]
    fn builds_only_the_selected_components() {
        let (dir, app) = load(TWO_COMPONENTS);
        build(&app, &["first".to_owned()], &mut |_| {}).unwrap();
        assert!(dir.path().join("first.out").exists());
        assert!(!dir.path().join("sub").exists());

        let (result, _) = events(&app, &["first", "third"]);
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::UnknownComponents { ref unknown, .. } if unknown == &["third"])
        );
        assert_eq!(err.to_string(), "Unknown component(s) third");
        assert!(err.hint().ends_with("are: first, second"), "{}", err.hint());
    }

    #[test]
    fn stops_at_the_first_failure() {
        let (dir, app) = load(&TWO_COMPONENTS.replace(
            "echo built > first.out && pwd > first.pwd",
            "echo failing >&2; exit 3",
        ));
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let (result, seen) = events(&app, &[]);
        let err = result.unwrap_err();
        assert_eq!(
            err.to_string().lines().next().unwrap(),
            "Build command for component first failed with status 3"
        );
        assert!(!dir.path().join("sub/second.out").exists());
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn reports_bad_workdirs_before_running() {
        let (_dir, app) = load(TWO_COMPONENTS);
        let (result, _) = events(&app, &["second"]);
        assert!(matches!(result, Err(Error::MissingWorkdir { .. })));

        let (_dir, app) = load(&TWO_COMPONENTS.replace("workdir = \"sub\"", "workdir = \"/tmp\""));
        let (result, _) = events(&app, &["second"]);
        assert!(matches!(result, Err(Error::AbsoluteWorkdir { .. })));
    }

    #[test]
    fn components_without_commands_are_noted() {
        let manifest = r#"spin_manifest_version = 2

[application]
name = "one"

[[trigger.http]]
route = "/..."
component = "plain"

[component.plain]
source = "plain.wasm"
"#;
        let (_dir, app) = load(manifest);
        let (result, seen) = events(&app, &[]);
        result.unwrap();
        assert_eq!(seen, ["NothingToBuild"]);

        let mixed = format!(
            "{manifest}\n[[trigger.http]]\nroute = \"/x\"\ncomponent = \"built\"\n\n[component.built]\nsource = \"b.wasm\"\n[component.built.build]\ncommand = \"true\"\n"
        );
        let (_dir, app) = load(&mixed);
        let (result, seen) = events(&app, &[]);
        result.unwrap();
        assert!(
            seen.contains(&"NoBuildCommand { component: \"plain\" }".to_owned()),
            "{seen:?}"
        );
        assert_eq!(seen.last().unwrap(), "Finished");
    }
}
