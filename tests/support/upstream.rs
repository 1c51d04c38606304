//! A real HTTP(S) server on loopback for outbound requests to reach:
//! `tests/upstreams/http_upstream.py`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running upstream; killed on drop.
pub struct Upstream {
    child: Child,
    /// Its loopback port.
    pub port: u16,
}

impl Upstream {
    /// Starts the upstream over HTTPS for `localhost`, with a certificate
    /// from a test CA written into `certs` (`ca.pem` is the CA to trust).
    pub fn start_tls(certs: &Path) -> Upstream {
        super::tls::make_certificates(certs);
        Upstream::start(Some((&certs.join("server.pem"), &certs.join("server.key"))))
    }

    /// Starts the upstream over HTTPS for `localhost` as [`Self::start_tls`]
    /// does, asking every client for a certificate issued by the test CA.
    pub fn start_mutual_tls(certs: &Path) -> Upstream {
        super::tls::make_certificates(certs);
        Self::spawn(&[
            &certs.join("server.pem"),
            &certs.join("server.key"),
            &certs.join("ca.pem"),
        ])
    }

    /// Starts `tests/upstreams/http_upstream.py`, over TLS with `tls`
    /// (certificate and key files).
    pub fn start(tls: Option<(&Path, &Path)>) -> Upstream {
        match tls {
            Some((cert, key)) => Self::spawn(&[cert, key]),
            None => Self::spawn(&[]),
        }
    }

    fn spawn(args: &[&Path]) -> Upstream {
        Self::script("http_upstream.py", args)
    }

    /// Starts `tests/upstreams/<name>` with `args`; it prints its port.
    pub fn script(name: &str, args: &[impl AsRef<std::ffi::OsStr>]) -> Upstream {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/upstreams")
            .join(name);
        let mut cmd = Command::new("python3");
        cmd.arg(script).args(args).stdout(Stdio::piped());
        let mut child = cmd.spawn().expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the upstream prints its port");
        Upstream { child, port }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
