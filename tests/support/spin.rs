//! Running the real `spin` binary.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `spin` command with a private HOME and cache, so tests never touch the
/// user's real ones. The compiled-component cache is shared between tests
/// (under `target/`) so each component is compiled once per run.
pub fn spin(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spin"));
    cmd.current_dir(dir)
        .env(
            "XDG_CACHE_HOME",
            super::python::target_dir().join("test-cache"),
        )
        .env_remove("SPIN_HTTP_LISTEN_ADDR")
        .env("RUST_BACKTRACE", "0");
    cmd
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `spin up`, killed when dropped.
pub struct SpinUp {
    child: Child,
    pub addr: SocketAddr,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl SpinUp {
    /// Starts `spin up -f <manifest> <args>` on a free port and waits until
    /// it answers its health endpoint.
    pub fn start(manifest: &Path, args: &[&str]) -> SpinUp {
        Self::start_with(manifest, args, |_| {})
    }

    /// Like `start`, with a hook to adjust the command (environment etc.).
    pub fn start_with(manifest: &Path, args: &[&str], adjust: impl FnOnce(&mut Command)) -> SpinUp {
        Self::start_after(&["up"], manifest, &[], args, adjust)
    }

    /// Starts `spin build <build_args> -f <manifest> --up --listen …
    /// <up_args>` and waits until it serves.
    pub fn start_built(manifest: &Path, build_args: &[&str], up_args: &[&str]) -> SpinUp {
        let mut before = vec!["build"];
        before.extend_from_slice(build_args);
        Self::start_after(&before, manifest, &["--up"], up_args, |_| {})
    }

    /// Runs `spin <before> -f <manifest> <between> --listen <free port>
    /// <args>` and waits until it serves.
    fn start_after(
        before: &[&str],
        manifest: &Path,
        between: &[&str],
        args: &[&str],
        adjust: impl FnOnce(&mut Command),
    ) -> SpinUp {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let dir = manifest.parent().unwrap();
        let mut cmd = spin(dir);
        cmd.args(before)
            .arg("-f")
            .arg(manifest)
            .args(between)
            .arg("--listen")
            .arg(addr.to_string())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        adjust(&mut cmd);
        let mut child = cmd.spawn().expect("starting spin up");
        let stdout = capture(child.stdout.take().unwrap());
        let stderr = capture(child.stderr.take().unwrap());
        let mut up = SpinUp {
            child,
            addr,
            stdout,
            stderr,
        };
        up.wait_ready();
        up
    }

    fn wait_ready(&mut self) {
        // Generous: the first start in a fresh cache compiles the component.
        let deadline = Instant::now() + Duration::from_secs(600);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "spin up exited with {status} before serving\nstdout:\n{}\nstderr:\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            if super::http::get(self.addr, "/.well-known/spin/health")
                .is_ok_and(|r| r.status == 200)
            {
                return;
            }
            // Over TLS the plain health check cannot answer; the listener
            // is bound once the address is printed.
            if self.stdout().contains("Serving https://") {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("spin up did not start serving\nstderr:\n{}", self.stderr());
    }

    /// Starts `spin up -f <manifest> <args>` for an application without
    /// HTTP triggers, and waits until its stdout holds `ready`.
    pub fn start_without_http(manifest: &Path, args: &[&str], ready: &str) -> SpinUp {
        Self::start_without_http_with(manifest, args, ready, |_| {})
    }

    /// [`SpinUp::start_without_http`], with `adjust` applied to the command
    /// (an environment variable, say).
    pub fn start_without_http_with(
        manifest: &Path,
        args: &[&str],
        ready: &str,
        adjust: impl FnOnce(&mut Command),
    ) -> SpinUp {
        let dir = manifest.parent().unwrap();
        let mut cmd = spin(dir);
        cmd.arg("up")
            .arg("-f")
            .arg(manifest)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        adjust(&mut cmd);
        let mut child = cmd.spawn().expect("starting spin up");
        let stdout = capture(child.stdout.take().unwrap());
        let stderr = capture(child.stderr.take().unwrap());
        let mut up = SpinUp {
            child,
            addr: "127.0.0.1:9".parse().unwrap(),
            stdout,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(600);
        while !up.stdout().contains(ready) {
            if let Some(status) = up.child.try_wait().unwrap() {
                panic!(
                    "spin up exited with {status}\nstdout:\n{}\nstderr:\n{}",
                    up.stdout(),
                    up.stderr()
                );
            }
            assert!(Instant::now() < deadline, "spin up never printed `{ready}`");
            std::thread::sleep(Duration::from_millis(50));
        }
        up
    }

    /// Starts `spin up -f <manifest> --runtime-config-file rc.toml <args>`
    /// with `text` written as `rc.toml` beside the manifest.
    pub fn start_with_runtime_config(manifest: &Path, text: &str, args: &[&str]) -> SpinUp {
        let rc = runtime_config(manifest, text);
        let mut all = vec!["--runtime-config-file", rc.to_str().unwrap()];
        all.extend_from_slice(args);
        Self::start(manifest, &all)
    }

    /// Waits (up to 30 s) until stdout contains `needle`, and returns it;
    /// fails the test if it never does.
    pub fn wait_for_stdout(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = self.stdout();
            if out.contains(needle) {
                return out;
            }
            assert!(
                Instant::now() < deadline,
                "stdout never held {needle:?}\nstdout:\n{out}\nstderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The `spin up` process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr contains `needle` (output is flushed asynchronously).
    pub fn wait_for_stderr(&self, needle: &str) -> String {
        self.wait_for_stderr_count(needle, 1)
    }

    /// Waits (up to 30 s) until stderr holds `needle` `count` times, and
    /// returns stderr; fails the test if it never does. A log event may
    /// reach the pipe in pieces: wait for its end.
    pub fn wait_for_stderr_count(&self, needle: &str, count: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let err = self.stderr();
            if err.matches(needle).count() >= count {
                return err;
            }
            assert!(
                Instant::now() < deadline,
                "stderr never held {needle:?} {count} time(s)\nstderr:\n{err}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The request timeouts the log names, in order, from its lines "the
    /// request ran longer than the <timeout> limit" (waiting for `count`
    /// of them), in seconds (a timeout under a second, shown in `ms`, is
    /// refused).
    pub fn timeouts_logged(&self, count: usize) -> Vec<f64> {
        const BEFORE: &str = "ran longer than the ";
        let log = self.wait_for_stderr_count(" limit and was stopped", count);
        log.split(BEFORE)
            .skip(1)
            .map(|rest| {
                let shown = rest.split(' ').next().unwrap_or_default();
                let seconds = shown.strip_suffix('s').unwrap_or(shown);
                seconds
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("a timeout in seconds, not `{shown}`, in:\n{log}"))
            })
            .collect()
    }

    /// Sends SIGTERM and waits for exit, returning the exit code.
    pub fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("spin up did not exit after SIGTERM");
    }

    pub fn get(&self, path: &str) -> super::http::Response {
        super::http::get(self.addr, path).unwrap()
    }
}

impl Drop for SpinUp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn capture(stream: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let sink = buf.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    buf
}

/// Writes `text` as `rc.toml` beside `manifest`, returning its path (for
/// `--runtime-config-file`).
pub fn runtime_config(manifest: &Path, text: &str) -> PathBuf {
    let path = manifest.with_file_name("rc.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes `manifest` (with `{source}` replaced by `source`) into a new temp
/// dir, returning the dir and the manifest path.
pub fn app_dir(manifest: &str, source: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spin.toml");
    std::fs::write(
        &path,
        manifest.replace("{source}", &source.display().to_string()),
    )
    .unwrap();
    (dir, path)
}

/// Runs `spin up -f <manifest> <args>` in `dir`, expecting it to stop
/// before serving; its stderr.
pub fn fails_to_start(dir: &Path, manifest: &Path, args: &[&str]) -> String {
    let out = spin(dir)
        .args(["up", "-f"])
        .arg(manifest)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "spin up started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}
