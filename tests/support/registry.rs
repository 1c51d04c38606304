//! A real OCI registry on loopback: Debian's `docker-registry` (CNCF
//! distribution 2.8), with its storage and access log in a temp dir, with
//! or without htpasswd auth. `.ci/run` installs it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The user the auth-enabled registry accepts.
pub const USER: &str = "tester";
/// Their password.
pub const PASSWORD: &str = "s3cret-pass";

/// A running registry, stopped when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub host: String,
    /// The registry's files.
    pub dir: tempfile::TempDir,
    log: Arc<Mutex<String>>,
}

impl Registry {
    /// Starts a registry; with `auth`, every request needs [`USER`]'s
    /// credentials.
    pub fn start(auth: bool) -> Registry {
        let binary = which("docker-registry").unwrap_or_else(|| {
            panic!("`docker-registry` is not installed; `.ci/run` installs it (apt-get install docker-registry apache2-utils)")
        });
        let dir = tempfile::tempdir().unwrap();
        let port = super::spin::free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
            dir.path().join("storage").display()
        );
        if auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", USER, PASSWORD])
                .output()
                .expect("running htpasswd (apache2-utils)");
            assert!(out.status.success());
            std::fs::write(dir.path().join("htpasswd"), out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: spin-tests\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let mut child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = log.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 8192];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let registry = Registry {
            child,
            host,
            dir,
            log,
        };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&self) {
        let addr = self.host.parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = super::http::get(addr, "/v2/")
                && (r.status == 200 || r.status == 401)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the registry did not start:\n{}", self.log());
    }

    /// Everything the registry logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The digests of the blob uploads the registry completed, in order
    /// (from its access log: the `PUT .../blobs/uploads/...?digest=...`
    /// that finishes each upload).
    pub fn uploaded_blobs(&self) -> Vec<String> {
        let mut digests = Vec::new();
        for line in self.log().lines() {
            if !(line.contains("\"PUT /v2/") && line.contains("/blobs/uploads/")) {
                continue;
            }
            let Some(at) = line.find("digest=sha256") else {
                continue;
            };
            let rest = &line[at + "digest=sha256".len()..];
            let rest = rest
                .strip_prefix("%3A")
                .or_else(|| rest.strip_prefix(':'))
                .unwrap_or(rest);
            let hex: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
            if line.contains("\" 201 ") && hex.len() == 64 {
                digests.push(format!("sha256:{hex}"));
            }
        }
        digests
    }

    /// Where the registry keeps the blob `digest`.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// `spin up -f <reference> -k` (`-f` takes a reference when no file has
/// that name, as in Spin), with the cache and docker config under `home`.
pub fn up_from_registry(reference: &str, home: &Path, extra: &[&str]) -> super::spin::SpinUp {
    let scratch = home.join("run");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut args = vec!["-k"];
    args.extend_from_slice(extra);
    super::spin::SpinUp::start_with(Path::new(reference), &args, |cmd| {
        cmd.current_dir(&scratch)
            .env("DOCKER_CONFIG", home.join("docker"))
            .env("SPIN_REGISTRY_CACHE_DIR", home.join("oci-cache"));
    })
}
