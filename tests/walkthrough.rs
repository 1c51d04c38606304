//! The seed page's hello-world walkthrough, command for command, through the
//! real `spin` binary on a fresh HOME: plugin update and install, template
//! install (GitHub is unreachable here, so the built-in copy is used), `spin
//! new`, `spin build`, `spin up`, and `curl -i localhost:3000/hello`.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `spin <args>` in `dir` with a fresh HOME and data dir. The toolchain cache
/// (componentize-py, compiled code) is shared with the other tests.
fn spin(home: &Path, dir: &Path, args: &[&str]) -> Output {
    let out = support::spin::spin(dir)
        .env("HOME", home)
        .env("SPIN_DATA_DIR", home.join(".local/share/spin"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "spin {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn seed_hello_world_walkthrough() {
    let home = tempfile::tempdir().unwrap();
    let work = home.path().join("work");
    std::fs::create_dir_all(&work).unwrap();

    spin(home.path(), &work, &["plugin", "update"]);
    spin(home.path(), &work, &["plugin", "install", "py2wasm"]);
    let installed = spin(
        home.path(),
        &work,
        &[
            "templates",
            "install",
            "--git",
            "https://github.com/fermyon/spin-python-sdk",
            "--update",
        ],
    );
    let stdout = String::from_utf8_lossy(&installed.stdout);
    assert!(stdout.contains("Installed 1 template(s)"), "{stdout}");
    assert!(
        stdout.contains("http-py   HTTP request handler using Python"),
        "{stdout}"
    );

    spin(
        home.path(),
        &work,
        &["new", "http-py", "hello-world", "--accept-defaults"],
    );
    let app = work.join("hello-world");
    for file in ["app.py", "Pipfile", "spin.toml"] {
        assert!(app.join(file).is_file(), "{file} was not created");
    }
    spin(home.path(), &app, &["build"]);

    let mut up = support::spin::spin(&app)
        .env("HOME", home.path())
        .arg("up")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let curl = loop {
        let out = Command::new("curl")
            .args(["-si", "localhost:3000/hello"])
            .output()
            .unwrap();
        if out.status.success() || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = up.kill();
    let _ = up.wait();

    let text = String::from_utf8_lossy(&curl.stdout);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("a complete HTTP response");
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("HTTP/1.1 200 OK"));
    let mut headers: Vec<&str> = lines.filter(|l| !l.starts_with("date:")).collect();
    headers.sort();
    assert_eq!(headers, ["content-length: 25", "content-type: text/plain"]);
    assert_eq!(body, "Hello from the Python SDK");
}
