//! A private MariaDB server offering TLS, for the tests of `ssl-mode` (the
//! machine's own MariaDB has TLS off): a data directory made by
//! `mariadb-install-db` in a temporary directory, `mariadbd` on a free
//! loopback port with Debian's snakeoil certificate (for `localhost`, and
//! listed among the platform's roots), and no grant tables (any user may
//! log in). Stopped when dropped.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's self-signed certificate for `localhost`, and its key.
const CERT: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
const KEY: &str = "/etc/ssl/private/ssl-cert-snakeoil.key";

pub struct TlsMariaDb {
    pub port: u16,
    server: Child,
    _dir: tempfile::TempDir,
}

impl TlsMariaDb {
    /// Starts the server (MariaDB's server package and Debian's
    /// `ssl-cert` are on every machine these tests run on).
    pub fn start() -> Self {
        for needed in [CERT, KEY] {
            assert!(Path::new(needed).exists(), "{needed} is missing");
        }
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let installed = Command::new("mariadb-install-db")
            .args(["--no-defaults", "--user=root", "--skip-test-db"])
            .arg(format!("--datadir={}", data.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        assert!(
            installed.is_ok_and(|s| s.success()),
            "mariadb-install-db failed or is missing"
        );
        let port = super::spin::free_port();
        let server = Command::new("mariadbd")
            .args(["--no-defaults", "--user=root", "--skip-grant-tables"])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.path().join("sock").display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .arg(format!(
                "--log-error={}",
                dir.path().join("err.log").display()
            ))
            .args(["--bind-address=127.0.0.1", "--skip-networking=0"])
            .arg(format!("--port={port}"))
            .arg(format!("--ssl-cert={CERT}"))
            .arg(format!("--ssl-key={KEY}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadbd starts");
        let db = Self {
            port,
            server,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "mariadbd never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        db
    }
}

impl Drop for TlsMariaDb {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}
