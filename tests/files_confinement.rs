//! Issue 10: a manifest's `files`, and what is committed under `.spin/`,
//! cannot make `spin up` read or write outside the application directory.
//! Each test runs the real binary on an app built with the official SDK,
//! whose `/file/<path>` route reads a file in the guest.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::python::{build_sdk_app, test_app};
use support::spin::{app_dir, free_port, spin};

const MANIFEST: &str = r#"
spin_manifest_version = 2

[application]
name = "files"

[[trigger.http]]
route = "/..."
component = "reader"

[component.reader]
source = "{source}"
"#;

/// An app whose component has `files` (a TOML value), and its manifest.
fn app_with_files(files: &str) -> (tempfile::TempDir, PathBuf) {
    let component = build_sdk_app(&test_app("sdk-http"));
    app_dir(&format!("{MANIFEST}files = {files}\n"), component.as_path())
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A `spin up` that either refused to start or is serving (killed on drop).
enum Up {
    Refused { stderr: String },
    Serving { child: Child, addr: SocketAddr },
}

impl Drop for Up {
    fn drop(&mut self) {
        if let Up::Serving { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Up {
    fn start(manifest: &Path) -> Up {
        Up::start_with(manifest, &[])
    }

    fn start_with(manifest: &Path, args: &[&str]) -> Up {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let stderr_path = manifest.with_file_name("spin-up.stderr");
        let mut child = spin(manifest.parent().unwrap())
            .arg("up")
            .arg("-f")
            .arg(manifest)
            .arg("--listen")
            .arg(addr.to_string())
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        // Generous: the first start in a fresh cache compiles the component.
        let deadline = Instant::now() + Duration::from_secs(600);
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                let stderr = std::fs::read_to_string(&stderr_path).unwrap();
                return Up::Refused { stderr };
            }
            if support::http::get(addr, "/.well-known/spin/health").is_ok_and(|r| r.status == 200) {
                return Up::Serving { child, addr };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("spin up neither served nor exited");
    }

    fn refused(self) -> String {
        match &self {
            Up::Refused { stderr } => stderr.clone(),
            Up::Serving { .. } => panic!("spin up served, but it should have refused"),
        }
    }

    fn get(&self, path: &str) -> support::http::Response {
        match self {
            Up::Serving { addr, .. } => support::http::get(*addr, path).unwrap(),
            Up::Refused { stderr } => panic!("spin up refused to start:\n{stderr}"),
        }
    }
}

#[test]
fn a_destination_above_the_root_writes_nothing_outside_the_staging_dir() {
    let (dir, manifest) =
        app_with_files(r#"[{ source = "note.txt", destination = "/../../../escaped.txt" }]"#);
    write(&dir.path().join("note.txt"), "a note");
    let err = Up::start(&manifest).refused();
    assert!(
        err.contains("spin.toml:13"),
        "names the file and line: {err}"
    );
    assert!(err.contains("climbs above `/`"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    // `.spin/files/reader/../../../escaped.txt` is the app directory.
    assert!(!dir.path().join("escaped.txt").exists());
}

#[test]
fn a_linked_source_directory_outside_the_app_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    write(&outside.path().join("secret.txt"), "host secret");
    let (dir, manifest) = app_with_files(r#"[{ source = "assets", destination = "/assets" }]"#);
    std::os::unix::fs::symlink(outside.path(), dir.path().join("assets")).unwrap();
    let err = Up::start(&manifest).refused();
    assert!(err.contains("component `reader`"), "{err}");
    assert!(err.contains("outside the application directory"), "{err}");
    assert!(
        err.contains(&outside.path().canonicalize().unwrap().display().to_string()),
        "names where the link leads: {err}"
    );
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn a_glob_match_linking_outside_the_app_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    write(&outside.path().join("secret.txt"), "host secret");
    let (dir, manifest) = app_with_files(r#"["static/*"]"#);
    write(&dir.path().join("static/hello.txt"), "hello");
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        dir.path().join("static/leak.txt"),
    )
    .unwrap();
    let err = Up::start(&manifest).refused();
    assert!(err.contains("component `reader`"), "{err}");
    assert!(err.contains("static/leak.txt"), "names the match: {err}");
    assert!(err.contains("exclude_files"), "{err}");

    // Excluding the link is the way out.
    std::fs::write(
        &manifest,
        std::fs::read_to_string(&manifest).unwrap() + "exclude_files = [\"static/leak.txt\"]\n",
    )
    .unwrap();
    let up = Up::start(&manifest);
    assert_eq!(up.get("/file/static/hello.txt").text(), "hello");
    assert_eq!(up.get("/file/static/leak.txt").status, 404);
}

#[test]
fn a_linked_directory_leading_outside_the_app_is_not_copied() {
    let outside = tempfile::tempdir().unwrap();
    write(&outside.path().join("secret.txt"), "host secret");
    let (dir, manifest) = app_with_files(r#"["static/**/*"]"#);
    write(&dir.path().join("static/hello.txt"), "hello");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("static/host")).unwrap();
    let up = Up::start(&manifest);
    assert_eq!(up.get("/file/static/hello.txt").text(), "hello");
    assert_eq!(up.get("/file/static/host/secret.txt").status, 404);
}

#[test]
fn a_linked_staging_directory_is_not_emptied() {
    let elsewhere = tempfile::tempdir().unwrap();
    let canary = elsewhere.path().join("reader/canary.txt");
    write(&canary, "alive");
    let (dir, manifest) = app_with_files(r#"["note.txt"]"#);
    write(&dir.path().join("note.txt"), "a note");
    std::fs::create_dir_all(dir.path().join(".spin")).unwrap();
    let link = dir.path().join(".spin/files");
    std::os::unix::fs::symlink(elsewhere.path(), &link).unwrap();

    let err = Up::start(&manifest).refused();
    assert!(
        err.contains(&format!("`{}` is a symbolic link", link.display())),
        "{err}"
    );
    assert!(err.contains("hint: remove the link"), "{err}");
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "alive");
    assert!(!elsewhere.path().join("reader/note.txt").exists());

    // The same for the component's own staging directory.
    std::fs::remove_file(&link).unwrap();
    std::fs::create_dir_all(&link).unwrap();
    std::os::unix::fs::symlink(elsewhere.path().join("reader"), link.join("reader")).unwrap();
    let err = Up::start(&manifest).refused();
    assert!(err.contains("is a symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "alive");
}

/// `.spin` beside the manifest is where the application's databases and
/// logs go: an application directory whose `.spin` is a link elsewhere is
/// refused before anything is written there.
#[test]
fn a_linked_state_directory_is_refused() {
    let elsewhere = tempfile::tempdir().unwrap();
    let (dir, manifest) = app_with_files("[]");
    let link = dir.path().join(".spin");
    std::os::unix::fs::symlink(elsewhere.path(), &link).unwrap();
    let err = Up::start(&manifest).refused();
    assert!(
        err.contains(&format!(
            "`{}` is a symbolic link (to `{}`)",
            link.display(),
            elsewhere.path().display()
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: replace the link with a directory"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);

    // Named by the user, a linked state directory is theirs to choose.
    let up = Up::start_with(&manifest, &["--state-dir", link.to_str().unwrap()]);
    assert_eq!(up.get("/.well-known/spin/health").status, 200);
    drop(up);

    // No state kept (the runtime config's `state_dir = ""`): `.spin`
    // still stages `files`.
    let (dir, manifest) = app_with_files(r#"["note.txt"]"#);
    write(&dir.path().join("note.txt"), "a note");
    write(&dir.path().join("rc.toml"), "state_dir = \"\"\n");
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join(".spin")).unwrap();
    let before = std::fs::read_dir(elsewhere.path()).unwrap().count();
    let rc = dir.path().join("rc.toml");
    let err = Up::start_with(&manifest, &["--runtime-config-file", rc.to_str().unwrap()]).refused();
    assert!(err.contains("is a symbolic link"), "{err}");
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), before);

    // Nor may its `logs` lead elsewhere.
    let (dir, manifest) = app_with_files("[]");
    std::fs::create_dir(dir.path().join(".spin")).unwrap();
    let logs = dir.path().join(".spin/logs");
    let other = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(other.path(), &logs).unwrap();
    let err = Up::start(&manifest).refused();
    assert!(
        err.contains(&format!("`{}` is a symbolic link", logs.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
}

#[test]
fn a_linked_log_file_is_not_written_through() {
    let elsewhere = tempfile::tempdir().unwrap();
    let canary = elsewhere.path().join("canary.txt");
    write(&canary, "alive\n");
    let (dir, manifest) = app_with_files("[]");
    let logs = dir.path().join(".spin/logs");
    std::fs::create_dir_all(&logs).unwrap();
    let link = logs.join("reader_stderr.txt");
    std::os::unix::fs::symlink(&canary, &link).unwrap();

    let up = Up::start(&manifest);
    if let Up::Serving { .. } = up {
        // What the old code did: the traceback went through the link.
        up.get("/boom");
        std::thread::sleep(Duration::from_millis(500));
        panic!(
            "spin up served with a linked log file; the canary now reads {:?}",
            std::fs::read_to_string(&canary).unwrap()
        );
    }
    let err = up.refused();
    assert!(
        err.contains(&format!(
            "the log file `{}` is a symbolic link",
            link.display()
        )),
        "{err}"
    );
    assert!(err.contains("hint: remove the link"), "{err}");
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "alive\n");
}

#[test]
fn long_lines_of_guest_output_are_split_at_the_limit() {
    let (dir, manifest) = app_with_files("[]");
    let limit = 16;
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut child = spin(dir.path())
        .args([
            "up",
            "-q",
            "--max-log-line-length",
            &limit.to_string(),
            "--listen",
        ])
        .arg(addr.to_string())
        .arg("-f")
        .arg(&manifest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let up_deadline = Instant::now() + Duration::from_secs(600);
    while !support::http::get(addr, "/.well-known/spin/health").is_ok_and(|r| r.status == 200) {
        assert!(child.try_wait().unwrap().is_none(), "spin up exited");
        assert!(Instant::now() < up_deadline, "spin up did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The traceback of `/boom` goes to the component's stderr.
    assert_eq!(support::http::get(addr, "/boom").unwrap().status, 500);
    let log = dir.path().join(".spin/logs/reader_stderr.txt");
    let marker = " [line continues]";
    let deadline = Instant::now() + Duration::from_secs(20);
    let (text, rejoined) = loop {
        let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
        let rejoined = text.replace(&format!("{marker}\n"), "");
        if rejoined.contains("ValueError: boom from Python") {
            break (text, rejoined);
        }
        assert!(
            Instant::now() < deadline,
            "no traceback in the log: {text:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains(marker), "{text}");
    assert!(rejoined.len() < text.len());
    for line in text.lines() {
        let payload = line.strip_suffix(marker).unwrap_or(line);
        assert!(payload.len() <= limit, "{line:?} is over the limit");
    }

    let out = spin(dir.path())
        .args(["up", "--max-log-line-length", "0", "-f"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 1 byte"), "{err}");
}
