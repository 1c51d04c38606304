//! A private MariaDB server, with TLS or without, for the tests of
//! `ssl-mode` (whatever the machine's own MariaDB offers): a data directory
//! made by `mariadb-install-db` in a temporary directory, `mariadbd` on a
//! free loopback port, with no grant tables (any user may log in). With
//! TLS it serves a certificate made for the test, for `localhost`; point
//! the client's `SSL_CERT_FILE` at [`MariaDb::certificate`] to trust it.
//! Stopped when dropped.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MariaDb {
    pub port: u16,
    server: Child,
    dir: tempfile::TempDir,
}

impl MariaDb {
    /// Starts a server offering TLS (`tls`) or refusing it.
    pub fn start(tls: bool) -> Self {
        let mut dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        run(Command::new("mariadb-install-db")
            .args(["--no-defaults", "--user=root", "--skip-test-db"])
            .arg(format!("--datadir={}", data.display())));
        if tls {
            run(Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                ])
                .args([
                    "-subj",
                    "/CN=localhost",
                    "-addext",
                    "subjectAltName=DNS:localhost",
                ])
                // A server's certificate, not a CA's (webpki refuses a CA
                // certificate as the end entity).
                .args(["-addext", "basicConstraints=critical,CA:FALSE"])
                .args(["-addext", "extendedKeyUsage=serverAuth"])
                .arg("-keyout")
                .arg(dir.path().join("key.pem"))
                .arg("-out")
                .arg(dir.path().join("cert.pem")));
        }
        // The port is free when picked; another process may take it before
        // mariadbd binds it, and then mariadbd exits: pick again.
        for _ in 0..5 {
            let port = super::spin::free_port();
            let mut command = Command::new("mariadbd");
            command
                .args(["--no-defaults", "--user=root", "--skip-grant-tables"])
                .arg(format!("--datadir={}", data.display()))
                .arg(format!("--socket={}", dir.path().join("sock").display()))
                .arg(format!("--pid-file={}", dir.path().join("pid").display()))
                .arg(format!(
                    "--log-error={}",
                    dir.path().join("err.log").display()
                ))
                .arg("--bind-address=127.0.0.1")
                .arg(format!("--port={port}"));
            if tls {
                command
                    .arg(format!(
                        "--ssl-cert={}",
                        dir.path().join("cert.pem").display()
                    ))
                    .arg(format!(
                        "--ssl-key={}",
                        dir.path().join("key.pem").display()
                    ));
            } else {
                command.arg("--skip-ssl");
            }
            let server = command
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("mariadbd starts (MariaDB's server package)");
            let mut db = Self { port, server, dir };
            if db.listening() {
                return db;
            }
            dir = std::mem::replace(&mut db.dir, tempfile::tempdir().unwrap());
        }
        panic!("mariadbd never listened");
    }

    /// The certificate a TLS server serves, for `SSL_CERT_FILE`.
    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// Waits until the server accepts connections; false if it exited.
    fn listening(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if self.server.try_wait().unwrap().is_some() {
                eprintln!("mariadbd exited:\n{}", self.log());
                return false;
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd never listened:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("err.log")).unwrap_or_default()
    }
}

/// Runs `command` to success, quietly.
fn run(command: &mut Command) {
    let out = command.output().expect("the command runs");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}
