//! The Python edit loop: components built by `spin py2wasm` are served from
//! an interpreter built once per set of dependencies
//! (`spin_python_toolchain::build_dev`), with a copy of their sources taken
//! at each edit, so an edit restarts from compiled code instead of running
//! componentize-py and compiling a new component.

use anyhow::{Context as _, Result};
use clap::Parser;
use std::path::{Component as PathPart, Path, PathBuf};

use spin_manifest::{App, Component, ComponentSource};
use spin_python_toolchain::{BuildOptions, DevComponent, DevSource, build_dev, snapshot_sources};

use crate::commands::py2wasm::Py2wasmCommand;
use crate::commands::python_dev::{DevComponentSpec, DevSpec};

/// A component whose build is `spin py2wasm` writing its `source`.
#[derive(Debug, Clone)]
pub struct PythonComponent {
    /// The component id.
    pub id: String,
    /// The build's options, paths resolved against its `workdir`.
    pub options: BuildOptions,
}

#[derive(Parser, Debug)]
#[command(no_binary_name = true)]
struct Py2wasmWords {
    #[command(flatten)]
    command: Py2wasmCommand,
}

/// The components of `app` that the edit loop can serve: a build command
/// that is exactly `spin py2wasm …` (no shell syntax), writing the
/// component's `source`.
pub fn python_components(app: &App) -> Vec<PythonComponent> {
    app.components
        .iter()
        .filter_map(|component| python_component(app, component))
        .collect()
}

fn python_component(app: &App, component: &Component) -> Option<PythonComponent> {
    let build = component.build.as_ref()?;
    let ComponentSource::Local(source) = &component.source.value else {
        return None;
    };
    if build.command.contains([
        '&', '|', ';', '<', '>', '$', '`', '"', '\'', '\\', '(', '\n',
    ]) {
        return None;
    }
    let mut words = build.command.split_whitespace();
    let program = words.next()?;
    if Path::new(program).file_name()? != "spin" || words.next()? != "py2wasm" {
        return None;
    }
    let parsed = Py2wasmWords::try_parse_from(words).ok()?.command;
    let workdir = match &build.workdir {
        Some(dir) => app.dir.join(dir),
        None => app.dir.clone(),
    };
    if normalized(&workdir.join(&parsed.output)) != normalized(&app.dir.join(source)) {
        return None;
    }
    let python_path = parsed
        .python_path
        .iter()
        .map(|p| normalized(&workdir.join(p)))
        .collect();
    let mut options = BuildOptions::new(parsed.app_name, python_path, workdir.join(&parsed.output));
    options.project_dir = workdir;
    Some(PythonComponent {
        id: component.id.clone(),
        options,
    })
}

/// `path` without `.` parts, for comparing two spellings of one file.
fn normalized(path: &Path) -> PathBuf {
    path.components()
        .filter(|part| !matches!(part, PathPart::CurDir))
        .collect()
}

/// How this user's `spin watch` snapshot directories begin; the owning
/// process's id follows.
const SNAPSHOTS_PREFIX: &str = "spin-python-dev-";

/// The file a running watch holds locked in its snapshot directory.
const LOCK_FILE: &str = ".lock";

/// Takes `file`'s lock without waiting; whether it was free.
fn try_lock(file: &std::fs::File) -> bool {
    use std::os::fd::AsRawFd as _;
    // SAFETY: a valid open descriptor; the lock goes with the descriptor.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Removes from `temp` the snapshot directories of this user's `spin
/// watch`es whose process is gone (killed with `SIGKILL`, or by the OOM
/// killer). A directory whose process still runs (or whose id was reused),
/// or whose lock is held (a watch in another PID namespace), is left
/// alone. (The `spin up` a killed watch started gets `SIGTERM` and may
/// still finish requests from it for a moment.)
fn remove_abandoned_snapshots(temp: &Path) {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(SNAPSHOTS_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<libc::pid_t>().ok())
            .filter(|pid| *pid > 0)
        else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if !meta.is_dir() || meta.uid() != uid || process_exists(pid) {
            continue;
        }
        let in_use =
            std::fs::File::open(entry.path().join(LOCK_FILE)).is_ok_and(|lock| !try_lock(&lock));
        if in_use {
            continue;
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// Whether a process with id `pid` exists (one of another user's counts).
fn process_exists(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that `pid` could be signalled.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// The interpreters of an app's Python components and the snapshots of
/// their sources.
pub struct PythonDev {
    /// A private directory of this `spin watch`'s own, removed when it
    /// ends (not under the app's `.spin`: an application's directory could
    /// link that elsewhere, and snapshots are written and removed there).
    dir: tempfile::TempDir,
    /// Held (locked) while this watch runs: a watch in another PID
    /// namespace sharing the temporary directory sees it in use.
    _lock: std::fs::File,
    generation: u64,
    /// The generations of the version serving and of the one before it,
    /// which may still be finishing requests: the snapshots kept.
    serving: [Option<u64>; 2],
    interpreters: Vec<(PythonComponent, DevComponent)>,
}

impl PythonDev {
    /// Keeps its snapshots in a new private temporary directory, named
    /// with this process's id; those of `spin watch`es that were killed
    /// (and so could not remove theirs) are removed first.
    pub fn new() -> Result<Self> {
        remove_abandoned_snapshots(&std::env::temp_dir());
        let dir = tempfile::Builder::new()
            .prefix(&format!("{SNAPSHOTS_PREFIX}{}-", std::process::id()))
            .tempdir()
            .context("creating a directory for the sources' snapshots")?;
        let lock = std::fs::File::create(dir.path().join(LOCK_FILE))
            .context("creating the snapshots' lock file")?;
        // Fresh and private: nobody else can hold it yet.
        let _ = try_lock(&lock);
        Ok(Self {
            dir,
            _lock: lock,
            generation: 0,
            serving: [None, None],
            interpreters: Vec::new(),
        })
    }

    /// Builds (or finds in the cache) the interpreter of each of
    /// `components`; seconds the first time, milliseconds after.
    pub fn prepare(&mut self, components: Vec<PythonComponent>) -> Result<()> {
        self.interpreters = components
            .into_iter()
            .map(|component| {
                let interpreter = build_dev(&component.options, &mut |stage| {
                    if matches!(stage, spin_python_toolchain::Stage::Componentizing) {
                        eprintln!(
                            "Building the Python interpreter for `{}` (once per set of dependencies)",
                            component.id
                        );
                    }
                })
                .with_context(|| {
                    spin_hint::Hinted::new(
                        format!("building the edit-loop interpreter of `{}`", component.id),
                        "fix the error above (the interpreter holds the SDK and the dependencies, not the app), or run `spin watch --full-build` to build with the component's own command",
                    )
                })?;
                Ok((component, interpreter))
            })
            .collect::<Result<_>>()?;
        Ok(())
    }

    /// Whether any component is served from an interpreter.
    pub fn is_empty(&self) -> bool {
        self.interpreters.is_empty()
    }

    /// Copies every component's sources into a new generation and writes
    /// the spec that points `spin up` at them; returns the spec's path.
    pub fn snapshot(&mut self) -> Result<PathBuf> {
        self.generation += 1;
        let generation = self.dir.path().join(self.generation.to_string());
        let mut spec = DevSpec::default();
        for (component, interpreter) in &self.interpreters {
            let copies = snapshot_sources(
                &component.options.python_path,
                &generation.join(&component.id),
            )
            .with_context(|| format!("copying the sources of `{}`", component.id))?;
            let mounts = interpreter
                .mounts
                .iter()
                .map(|mount| {
                    let host = match &mount.source {
                        DevSource::Sources(index) => copies[*index].clone(),
                        DevSource::Dir(dir) => dir.clone(),
                    };
                    (host, mount.guest.clone())
                })
                .collect();
            spec.components.insert(
                component.id.clone(),
                DevComponentSpec {
                    wasm: interpreter.wasm.clone(),
                    mounts,
                },
            );
        }
        let path = self.dir.path().join(format!("{}.json", self.generation));
        spec.write(&path)?;
        Ok(path)
    }

    /// Records that the last snapshot serves now, and removes every other
    /// snapshot but the one before it (including those of versions that
    /// failed to start).
    pub fn serving_last_snapshot(&mut self) {
        self.serving = [Some(self.generation), self.serving[0]];
        let Ok(entries) = std::fs::read_dir(self.dir.path()) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let number = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u64>().ok());
            let Some(number) = number else { continue };
            if !self.serving.contains(&Some(number)) {
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_of_a_watch_that_is_gone_are_removed_and_others_kept() {
        let temp = tempfile::tempdir().unwrap();
        // A child that has exited and been reaped: its id names no process.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        let gone = temp
            .path()
            .join(format!("{SNAPSHOTS_PREFIX}{}-abc", child.id()));
        let running = temp
            .path()
            .join(format!("{SNAPSHOTS_PREFIX}{}-def", std::process::id()));
        let other = temp.path().join("spin-python-devtools");
        let locked = temp
            .path()
            .join(format!("{SNAPSHOTS_PREFIX}{}-ghi", child.id()));
        for dir in [&gone, &running, &other, &locked] {
            std::fs::create_dir(dir).unwrap();
            std::fs::write(dir.join("app.py"), "x").unwrap();
        }
        // A watch of another PID namespace holds this one's lock.
        let lock = std::fs::File::create(locked.join(LOCK_FILE)).unwrap();
        assert!(try_lock(&lock));
        // A link named like a dead watch's directory is not followed.
        let target = tempfile::tempdir().unwrap();
        std::fs::write(target.path().join("keep"), "x").unwrap();
        let link = temp
            .path()
            .join(format!("{SNAPSHOTS_PREFIX}{}-jkl", child.id()));
        std::os::unix::fs::symlink(target.path(), &link).unwrap();
        remove_abandoned_snapshots(temp.path());
        assert!(!gone.exists());
        assert!(running.exists() && other.exists() && locked.exists());
        assert!(target.path().join("keep").exists());
    }

    fn app(build: &str, source: &str) -> (tempfile::TempDir, App) {
        let dir = tempfile::tempdir().unwrap();
        let manifest = format!(
            "spin_manifest_version = 2\n[application]\nname = \"a\"\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n\
             [component.hello]\nsource = \"{source}\"\n[component.hello.build]\ncommand = \"{build}\"\n"
        );
        std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
        let app = spin_manifest::load_file(&dir.path().join("spin.toml")).unwrap();
        (dir, app)
    }

    #[test]
    fn py2wasm_builds_of_the_source_are_python_components() {
        let (dir, app) = app("spin py2wasm app -p src -o app.wasm", "./app.wasm");
        let found = python_components(&app);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "hello");
        assert_eq!(found[0].options.module, "app");
        assert_eq!(found[0].options.python_path, [app.dir.join("src")]);
        assert_eq!(found[0].options.project_dir, app.dir);
        drop(dir);
    }

    #[test]
    fn other_builds_are_not() {
        for (build, source) in [
            ("spin py2wasm app -o other.wasm", "app.wasm"),
            ("spin py2wasm app -o app.wasm && cp x y", "app.wasm"),
            ("py2wasm app -o app.wasm", "app.wasm"),
            ("spin build", "app.wasm"),
            ("spin py2wasm --bogus -o app.wasm", "app.wasm"),
            ("componentize-py componentize app -o app.wasm", "app.wasm"),
        ] {
            let (_dir, app) = app(build, source);
            assert!(python_components(&app).is_empty(), "{build}");
        }
    }
}
