//! A `redis-server` of a test's own on a loopback port (so that it can be
//! restarted, given a password, or serve TLS), with `redis-cli` to drive it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` on a loopback port, stopped when dropped.
pub struct RedisServer {
    pub port: u16,
    /// The default user's password (`requirepass`), if any.
    password: Option<String>,
    /// The directory of the test CA and certificates when it serves TLS
    /// only ([`crate::support::tls::make_certificates`]).
    tls: Option<PathBuf>,
    child: Option<Child>,
}

impl RedisServer {
    pub fn start(port: u16) -> Self {
        Self::start_with(port, None, None)
    }

    pub fn start_with_password(port: u16, password: Option<&str>) -> Self {
        Self::start_with(port, password, None)
    }

    /// A server that speaks TLS only, with the certificate for `localhost`
    /// in `certs` (made by [`crate::support::tls::make_certificates`]).
    pub fn start_tls(port: u16, certs: &Path) -> Self {
        Self::start_with(port, None, Some(certs))
    }

    fn start_with(port: u16, password: Option<&str>, tls: Option<&Path>) -> Self {
        let mut command = Command::new("redis-server");
        command.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        match tls {
            None => command.args(["--port", &port.to_string()]),
            Some(certs) => command
                .args(["--port", "0", "--tls-port", &port.to_string()])
                .arg("--tls-cert-file")
                .arg(certs.join("server.pem"))
                .arg("--tls-key-file")
                .arg(certs.join("server.key"))
                .arg("--tls-ca-cert-file")
                .arg(certs.join("ca.pem"))
                .args(["--tls-auth-clients", "no"]),
        };
        if let Some(password) = password {
            command.args(["--requirepass", password]);
        }
        let child = command
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let mut server = Self {
            port,
            password: password.map(str::to_owned),
            tls: tls.map(Path::to_owned),
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.cli(&["ping"]).trim() != "PONG" {
            // Exited (the port taken, TLS not built in): say so at once,
            // rather than wait, or ping another test's server.
            let child = server.child.as_mut().expect("started");
            if let Some(status) = child.try_wait().unwrap() {
                panic!("redis-server on port {port} exited with {status}");
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `redis-cli` for this server, with its password.
    fn redis_cli(&self) -> Command {
        let mut command = Command::new("redis-cli");
        command.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some(password) = &self.password {
            command.args(["--no-auth-warning", "-a", password]);
        }
        if let Some(certs) = &self.tls {
            command
                .arg("--tls")
                .arg("--cacert")
                .arg(certs.join("ca.pem"));
        }
        command
    }

    pub fn cli(&self, args: &[&str]) -> String {
        let out = self
            .redis_cli()
            .args(args)
            .output()
            .expect("redis-cli is installed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends `commands`, one a line, through one `redis-cli`.
    pub fn pipe(&self, commands: &str) {
        let mut cli = self
            .redis_cli()
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-cli is installed");
        use std::io::Write as _;
        cli.stdin
            .take()
            .unwrap()
            .write_all(commands.as_bytes())
            .unwrap();
        cli.wait().unwrap();
    }

    /// Publishes `message`, returning how many subscribers received it.
    pub fn publish(&self, channel: &str, message: &str) -> u32 {
        self.cli(&["publish", channel, message])
            .trim()
            .parse()
            .unwrap_or(0)
    }

    /// Waits until `subscribers` clients listen on `channel`.
    pub fn wait_for_subscribers(&self, channel: &str, subscribers: u32) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let listed = self.cli(&["pubsub", "numsub", channel]);
            let count = listed.lines().nth(1).and_then(|n| n.trim().parse().ok());
            if count.is_some_and(|n: u32| n >= subscribers) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nobody subscribed to `{channel}`: {listed}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
