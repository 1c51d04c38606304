//! `spin watch`: rebuilds the app when its files change and swaps the new
//! version in without closing the listening socket.
//!
//! `spin watch` binds the listen address itself and hands the socket to
//! each `spin up` it starts (`SPIN_LISTEN_FD`). On a change it runs the
//! build commands of the components whose files changed, starts a new
//! `spin up` on the same socket, and only once that one serves does it
//! stop the old one, which finishes its in-flight requests. Connections
//! that arrive meanwhile wait in the socket's backlog or are taken by
//! either version: none is refused. A failed build or a version that fails
//! to start is reported once, and the last good version keeps serving.
//!
//! Components built by `spin py2wasm` take a faster path (see [`python`]):
//! an edit to their Python files is served by an interpreter component
//! built once, with a fresh copy of the sources, so it needs no build.
//! Under `spin watch`, `spin up` runs with `--dev`.

mod python;

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use spin_manifest::App;

/// Rebuild and restart the application when its files change.
#[derive(Parser, Debug)]
pub struct WatchCommand {
    #[command(flatten)]
    pub app: super::app_source::AppSource,

    #[command(flatten)]
    pub profile: super::app_source::BuildProfile,

    /// Clear the screen before each rebuild.
    #[arg(short = 'c', long)]
    pub clear: bool,

    /// Don't build: watch the components' Wasm files and restart when they
    /// change.
    #[arg(long)]
    pub skip_build: bool,

    /// Rebuild `spin py2wasm` components with their build command at every
    /// edit, instead of serving the edited sources from a prebuilt
    /// interpreter.
    #[arg(long)]
    pub full_build: bool,

    /// How long the files must stay unchanged before a rebuild starts, in
    /// milliseconds.
    #[arg(short = 'd', long, default_value_t = 100)]
    pub debounce: u64,

    /// Arguments for `spin up` (after `--`), e.g. `-- --listen 127.0.0.1:3001`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub up_args: Vec<String>,
}

/// How often the watched files are looked at.
const POLL: Duration = Duration::from_millis(100);

/// The environment variable that passes the listening socket to `spin up`.
pub const LISTEN_FD_ENV: &str = "SPIN_LISTEN_FD";

impl WatchCommand {
    pub fn run(self) -> Result<ExitCode> {
        let manifest = super::up::resolve_manifest_path(&self.app.from)?;
        // The builds and the `spin up`s run one profile, named here or after `--`.
        let (profile, profile_to_up) = self.profile.shared_with_up(&self.up_args)?;
        // A mistyped `--profile` is no edit away from working: say so now,
        // rather than watching an app that never builds.
        if let Err(err) = spin_manifest::load_file_for_profile(&manifest, profile.as_deref())
            && matches!(err.kind(), spin_manifest::ErrorKind::UnknownProfile { .. })
        {
            return Err(err.into());
        }
        let listen = listen_address(&self.up_args)?;
        let listener = TcpListener::bind(listen).map_err(|err| {
            spin_hint::Hinted::new(
                format!("cannot listen on {listen}: {err}"),
                "stop the program using the port, or pass another address: `spin watch -- --listen 127.0.0.1:<port>`",
            )
        })?;
        let mut watcher = Watcher {
            manifest,
            profile,
            profile_to_up,
            listener,
            options: self,
            serving: None,
            stopping: Vec::new(),
            python: python::PythonDev::new()?,
        };
        watcher.run()
    }
}

struct Watcher {
    manifest: PathBuf,
    /// The build profile of the builds and the `spin up`s.
    profile: Option<String>,
    /// Whether `profile` must be passed to `spin up` (it was not named
    /// after `--`).
    profile_to_up: bool,
    listener: TcpListener,
    options: WatchCommand,
    serving: Option<Child>,
    /// The versions told to stop, finishing their requests: waited for
    /// before the watch ends, since they read the Python snapshots the
    /// watch removes when it ends.
    stopping: Vec<std::thread::JoinHandle<()>>,
    python: python::PythonDev,
}

impl Watcher {
    /// `--profile`, for the builds and the `spin up`s.
    fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    fn run(&mut self) -> Result<ExitCode> {
        let interrupted = interrupted();
        let mut stamps = self.stamps();
        if let Err(err) = self.rebuild(&[], &[]) {
            eprint!("{}", crate::render_error(&err));
            eprintln!("spin watch: nothing is serving; fix the error and save again");
        }
        loop {
            if interrupted.try_recv().is_ok() {
                if let Some(child) = self.serving.take() {
                    self.stopping.push(stop(child));
                }
                for stopping in self.stopping.drain(..) {
                    let _ = stopping.join();
                }
                return Ok(ExitCode::SUCCESS);
            }
            std::thread::sleep(POLL);
            let now = self.stamps();
            if now == stamps {
                continue;
            }
            // Wait for the edits to settle (an editor writes in steps).
            let settled = self.settle(now);
            let changed_files = changed_files(&stamps, &settled);
            let changed = changed_components(&changed_files);
            stamps = settled;
            if self.options.clear {
                print!("\x1b[2J\x1b[H");
            }
            if let Err(err) = self.rebuild(&changed, &changed_files) {
                eprint!("{}", crate::render_error(&err));
                match self.serving {
                    Some(_) => eprintln!("spin watch: still serving the last good version"),
                    None => {
                        eprintln!("spin watch: nothing is serving; fix the error and save again")
                    }
                }
            }
        }
    }

    /// Polls until the stamps stop changing for the debounce time.
    fn settle(&self, mut last: Stamps) -> Stamps {
        let quiet = Duration::from_millis(self.options.debounce);
        let mut since = Instant::now();
        loop {
            std::thread::sleep(POLL.min(quiet));
            let now = self.stamps();
            if now != last {
                last = now;
                since = Instant::now();
            } else if since.elapsed() >= quiet {
                return last;
            }
        }
    }

    /// Builds the components in `changed` (all when empty or when the
    /// manifest changed), then starts the new version and stops the old.
    /// `files` are the changed files, by component.
    fn rebuild(&mut self, changed: &[String], files: &[(String, PathBuf)]) -> Result<()> {
        let everything = changed.is_empty() || changed.iter().any(|c| c == MANIFEST_KEY);
        if !self.options.skip_build {
            let app = spin_manifest::load_file_for_profile(&self.manifest, self.profile())?;
            let python = if self.options.full_build {
                Vec::new()
            } else {
                python::python_components(&app)
            };
            let is_python = |id: &str| python.iter().any(|c| c.id == id);
            // Only a change to something other than a Python file (the
            // manifest, `requirements.txt`) can change an interpreter.
            let interpreters_stale = everything
                || files
                    .iter()
                    .any(|(id, path)| is_python(id) && path.extension().is_none_or(|e| e != "py"));
            if interpreters_stale {
                self.python.prepare(python.clone())?;
            }
            let others: Vec<String> = app
                .components
                .iter()
                .filter(|c| c.build.is_some() && !is_python(&c.id))
                .filter(|c| everything || changed.contains(&c.id))
                .map(|c| c.id.clone())
                .collect();
            if !others.is_empty() {
                super::build::build_manifest(&self.manifest, &others, self.profile())
                    .context("the build failed")?;
            }
        }
        let spec = if self.python.is_empty() {
            None
        } else {
            Some(self.python.snapshot()?)
        };
        let child = self.start(spec.as_deref())?;
        if spec.is_some() {
            self.python.serving_last_snapshot();
        }
        if let Some(old) = self.serving.replace(child) {
            self.stopping.retain(|s| !s.is_finished());
            self.stopping.push(stop(old));
        }
        Ok(())
    }

    /// Starts `spin up` on the watch's socket and waits until it serves.
    /// `python_dev` is the spec of the Python components' interpreters.
    fn start(&self, python_dev: Option<&Path>) -> Result<Child> {
        let fd = self.listener.as_raw_fd();
        // The socket must survive `exec` in the child.
        clear_cloexec(fd)?;
        let mut command = Command::new(std::env::current_exe().context("finding the spin binary")?);
        command
            .arg("up")
            .arg("-f")
            .arg(&self.manifest)
            .args(
                self.profile()
                    .filter(|_| self.profile_to_up)
                    .into_iter()
                    .flat_map(|profile| ["--profile", profile]),
            )
            .args(&self.options.up_args)
            .env(LISTEN_FD_ENV, fd.to_string())
            .stdout(Stdio::piped());
        // A `spin up` never outlives its `spin watch`, however that ends.
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        // A failed request shows its error and traceback to a client on
        // this machine.
        if !self.options.up_args.iter().any(|a| a == "--dev") {
            command.arg("--dev");
        }
        if let Some(spec) = python_dev {
            command.arg("--python-dev").arg(spec);
        }
        let mut child = command.spawn().context("starting `spin up`")?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (ready, ready_rx) = mpsc::channel();
        // Forward the child's output; tell when it serves.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("Serving ") {
                    let _ = ready.send(());
                }
                println!("{line}");
            }
        });
        loop {
            if ready_rx.recv_timeout(POLL).is_ok() {
                return Ok(child);
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "the new version did not start (`spin up` exited with {status}; its error is above)"
                );
            }
        }
    }

    /// Modification stamps of everything watched, keyed by what each file
    /// belongs to.
    fn stamps(&self) -> Stamps {
        let mut stamps = Stamps::new();
        stamps.insert(
            (MANIFEST_KEY.to_owned(), self.manifest.clone()),
            stamp(&self.manifest),
        );
        let Ok(app) = spin_manifest::load_file_for_profile(&self.manifest, self.profile()) else {
            return stamps;
        };
        for component in &app.components {
            for path in self.watched(&app, component) {
                let stamp = stamp(&path);
                stamps.insert((component.id.clone(), path), stamp);
            }
        }
        stamps
    }

    /// A component's watched files: its Wasm under `--skip-build`, else
    /// what its build reads (`watch` globs, or the Python sources).
    fn watched(&self, app: &App, component: &spin_manifest::Component) -> Vec<PathBuf> {
        let spin_manifest::ComponentSource::Local(source) = &component.source.value else {
            return Vec::new();
        };
        let source = app.dir.join(source);
        if self.options.skip_build {
            return vec![source];
        }
        super::doctor::sources::watched_files(app, component, &source)
            .into_iter()
            .map(|(path, _)| path)
            .collect()
    }
}

/// The key of the manifest's own stamp: a change there rebuilds everything.
const MANIFEST_KEY: &str = "";

type Stamps = BTreeMap<(String, PathBuf), Option<(SystemTime, u64)>>;

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The files added, removed or changed, with the component each belongs to.
fn changed_files(before: &Stamps, after: &Stamps) -> Vec<(String, PathBuf)> {
    before
        .iter()
        .filter(|(key, stamp)| after.get(*key) != Some(*stamp))
        .chain(after.iter().filter(|(key, _)| !before.contains_key(*key)))
        .map(|(key, _)| key.clone())
        .collect()
}

/// The components whose files were added, removed or changed.
fn changed_components(files: &[(String, PathBuf)]) -> Vec<String> {
    let mut changed: Vec<String> = files
        .iter()
        .map(|(component, _)| component.clone())
        .collect();
    changed.sort();
    changed.dedup();
    changed
}

/// `--listen` from the `spin up` arguments, else `SPIN_HTTP_LISTEN_ADDR`,
/// else `spin up`'s default.
fn listen_address(up_args: &[String]) -> Result<SocketAddr> {
    let mut args = up_args.iter();
    let mut given = None;
    while let Some(arg) = args.next() {
        if arg == "--listen" {
            given = args.next().cloned();
        } else if let Some(value) = arg.strip_prefix("--listen=") {
            given = Some(value.to_owned());
        }
    }
    let text = given
        .or_else(|| std::env::var("SPIN_HTTP_LISTEN_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    text.parse()
        .with_context(|| format!("`{text}` is not an address such as 127.0.0.1:3000"))
}

fn clear_cloexec(fd: i32) -> Result<()> {
    // SAFETY: fcntl on a descriptor this process owns; no memory involved.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) } < 0 {
        bail!(
            "cannot pass the listening socket to `spin up`: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

/// Stops a `spin up` gracefully (SIGTERM: it stops accepting and finishes
/// its in-flight requests), in the background.
fn stop(mut child: Child) -> std::thread::JoinHandle<()> {
    // SAFETY: signalling a child process we started and still own.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    std::thread::spawn(move || {
        let _ = child.wait();
    })
}

/// A channel that receives once on Ctrl-C or SIGTERM.
fn interrupted() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a signal runtime");
        runtime.block_on(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("installing the SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        let _ = tx.send(());
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_comes_from_the_up_arguments() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            listen_address(&args(&["--listen", "127.0.0.1:4000"])).unwrap(),
            "127.0.0.1:4000".parse().unwrap()
        );
        assert_eq!(
            listen_address(&args(&["-q", "--listen=0.0.0.0:5000"])).unwrap(),
            "0.0.0.0:5000".parse().unwrap()
        );
        assert!(listen_address(&args(&["--listen", "nope"])).is_err());
    }

    #[test]
    fn changed_components_are_those_whose_stamps_differ() {
        let t = SystemTime::UNIX_EPOCH;
        let key = |c: &str, p: &str| (c.to_owned(), PathBuf::from(p));
        let before: Stamps = [
            (key("a", "a.py"), Some((t, 1))),
            (key("b", "b.py"), Some((t, 1))),
        ]
        .into();
        let mut after = before.clone();
        after.insert(key("b", "b.py"), Some((t, 2)));
        after.insert(key("c", "new.py"), Some((t, 1)));
        assert_eq!(
            changed_components(&changed_files(&before, &after)),
            ["b", "c"]
        );
    }
}
