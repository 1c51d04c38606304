//! `spin plugins` and plugin dispatch, run as the real binary with a fresh
//! data directory per test. Plugins are real packages: shell scripts in
//! `.tar.gz` archives, served from `file://` URLs, a local index directory
//! or a local HTTP server.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};

/// A throwaway user with its own data directory and plugin index setting.
struct User {
    home: tempfile::TempDir,
    index: String,
}

impl User {
    /// A user whose plugin index is a repository that does not exist, as
    /// when offline.
    fn offline() -> Self {
        let home = tempfile::tempdir().unwrap();
        let index = home.path().join("unreachable-index").display().to_string();
        Self { home, index }
    }

    fn with_index(index: &Path) -> Self {
        Self {
            index: index.display().to_string(),
            ..Self::offline()
        }
    }

    fn path(&self) -> &Path {
        self.home.path()
    }

    fn spin(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_spin"))
            .args(args)
            .current_dir(self.path())
            .env("HOME", self.path())
            .env("SPIN_DATA_DIR", self.path().join("data"))
            .env("SPIN_PLUGINS_INDEX", &self.index)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn spin_ok(&self, args: &[&str]) -> (String, String) {
        let output = self.spin(args);
        assert!(
            output.status.success(),
            "spin {args:?}:\n{}",
            describe(&output)
        );
        (
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }

    fn spin_err(&self, args: &[&str]) -> String {
        let output = self.spin(args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "spin {args:?}:\n{}",
            describe(&output)
        );
        String::from_utf8(output.stderr).unwrap()
    }
}

fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A plugin that prints its arguments and Spin's variables, then exits 7.
const ECHO_PLUGIN: &str = "#!/bin/sh\necho \"args: $*\"\necho \"version: $SPIN_VERSION\"\necho \"bin: $SPIN_BIN_PATH\"\nexit 7\n";

/// Packages `script` as plugin `name` (a `.tar.gz` made by the system
/// `tar`) and returns (archive path, its SHA-256).
fn package(dir: &Path, name: &str, script: &str) -> (PathBuf, String) {
    package_with(dir, name, script, "755", &[])
}

/// Like `package`, with the executable's mode (for `chmod`) and extra
/// member paths, relative to the package's staging directory, stored as
/// written (`tar -P`), so `../x` stays `../x`.
fn package_with(
    dir: &Path,
    name: &str,
    script: &str,
    mode: &str,
    extra: &[&str],
) -> (PathBuf, String) {
    let staging = dir.join(format!("{name}-package"));
    std::fs::create_dir_all(&staging).unwrap();
    let exe = staging.join(name);
    std::fs::write(&exe, script).unwrap();
    let chmod = Command::new("chmod").arg(mode).arg(&exe).status().unwrap();
    assert!(chmod.success());
    let archive = dir.join(format!("{name}.tar.gz"));
    let tar = Command::new("tar")
        .arg("-czPf")
        .arg(&archive)
        .arg("-C")
        .arg(&staging)
        .arg(name)
        .args(extra)
        .status()
        .unwrap();
    assert!(tar.success());
    let sha = hex::encode(Sha256::digest(std::fs::read(&archive).unwrap()));
    (archive, sha)
}

/// A Spin plugin manifest with one package for this machine.
fn manifest(name: &str, version: &str, url: &str, sha256: &str) -> String {
    let os = match std::env::consts::OS {
        "macos" => "macos",
        "windows" => "windows",
        _ => "linux",
    };
    let arch = match std::env::consts::ARCH {
        "aarch64" => "aarch64",
        "arm" => "arm",
        _ => "amd64",
    };
    serde_json::json!({
        "name": name,
        "description": "Echoes its arguments",
        "homepage": "https://example.com/echo",
        "version": version,
        "spinCompatibility": ">=1.0",
        "license": "Apache-2.0",
        "packages": [{ "os": os, "arch": arch, "url": url, "sha256": sha256 }]
    })
    .to_string()
}

#[test]
fn py2wasm_installs_offline_after_a_failed_update() {
    let user = User::offline();
    let (out, err) = user.spin_ok(&["plugin", "update"]);
    assert_eq!(out, "");
    assert!(
        err.contains("Could not fetch the plugin index from"),
        "{err}"
    );
    assert!(
        err.contains("Using the built-in plugin index (py2wasm)"),
        "{err}"
    );

    let (out, _) = user.spin_ok(&["plugin", "install", "py2wasm"]);
    assert!(
        out.starts_with("Plugin 'py2wasm' was installed successfully!\n"),
        "{out}"
    );
    let version = env!("CARGO_PKG_VERSION");
    let (out, _) = user.spin_ok(&["plugins", "list", "--installed"]);
    assert_eq!(out, format!("py2wasm {version} [installed]\n"));

    let (_, err) = user.spin_ok(&["plugin", "install", "py2wasm"]);
    assert_eq!(
        err,
        format!("Plugin 'py2wasm' is already installed with version {version}.\n")
    );

    // A failed update leaves it installed.
    user.spin_ok(&["plugin", "update"]);
    let (out, _) = user.spin_ok(&["plugins", "list", "--installed"]);
    assert!(out.contains("py2wasm"), "{out}");
}

#[test]
fn install_from_a_file_manifest_then_run_and_uninstall() {
    let user = User::offline();
    let (archive, sha) = package(user.path(), "echo", ECHO_PLUGIN);
    let manifest_path = user.path().join("echo.json");
    std::fs::write(
        &manifest_path,
        manifest(
            "echo",
            "1.2.3",
            &format!("file://{}", archive.display()),
            &sha,
        ),
    )
    .unwrap();

    let err = user.spin_err(&["plugins", "install", "--file", "echo.json"]);
    assert!(err.contains("hint: pass `--yes`"), "{err}");

    let (out, _) = user.spin_ok(&["plugins", "install", "--file", "echo.json", "--yes"]);
    assert_eq!(
        out,
        "Plugin 'echo' was installed successfully!\n\nDescription:\n\tEchoes its arguments\n\nHomepage:\n\thttps://example.com/echo\n"
    );
    let (out, _) = user.spin_ok(&["plugins", "list", "--installed"]);
    assert_eq!(out, "echo 1.2.3 [installed]\n");

    let run = user.spin(&["echo", "first", "--second", "third word"]);
    assert_eq!(run.status.code(), Some(7), "{}", describe(&run));
    let stdout = String::from_utf8(run.stdout).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_spin")).display().to_string();
    assert_eq!(
        stdout,
        format!("args: first --second third word\nversion: 1.5.1\nbin: {bin}\n")
    );

    let (out, _) = user.spin_ok(&["plugins", "uninstall", "echo"]);
    assert_eq!(out, "Plugin echo was successfully uninstalled\n");
    let (out, _) = user.spin_ok(&["plugins", "rm", "echo"]);
    assert_eq!(out, "Plugin echo isn't present, so no changes were made\n");

    let err = user.spin_err(&["echo", "again"]);
    assert!(
        err.contains("'echo' is not a known command or plugin"),
        "{err}"
    );
    assert!(err.contains("`spin plugins install echo`"), "{err}");
    assert!(err.contains("`spin plugins list`"), "{err}");
}

#[test]
fn a_package_with_the_wrong_checksum_is_not_installed() {
    let user = User::offline();
    let (archive, _) = package(user.path(), "echo", ECHO_PLUGIN);
    let url = format!("file://{}", archive.display());
    std::fs::write(
        user.path().join("echo.json"),
        manifest("echo", "1.0.0", &url, &"0".repeat(64)),
    )
    .unwrap();
    let err = user.spin_err(&[
        "plugins",
        "install",
        "--url",
        &format!("file://{}/echo.json", user.path().display()),
        "-y",
    ]);
    assert!(err.contains("Checksum did not match"), "{err}");
    let (out, _) = user.spin_ok(&["plugins", "list", "--installed"]);
    assert_eq!(out, "No plugins found\n");
}

#[test]
fn install_by_name_from_a_local_index() {
    let index = tempfile::tempdir().unwrap();
    let (archive, sha) = package(index.path(), "echo", ECHO_PLUGIN);
    let url = format!("file://{}", archive.display());
    let plugin_dir = index.path().join("manifests/echo");
    std::fs::create_dir_all(&plugin_dir).unwrap();
    std::fs::write(
        plugin_dir.join("echo.json"),
        manifest("echo", "2.0.0", &url, &sha),
    )
    .unwrap();
    std::fs::write(
        plugin_dir.join("echo@1.0.0.json"),
        manifest("echo", "1.0.0", &url, &sha),
    )
    .unwrap();

    let user = User::with_index(index.path());
    let (out, _) = user.spin_ok(&["plugins", "update"]);
    assert_eq!(out, "Plugin information updated successfully\n");
    let (out, _) = user.spin_ok(&["plugins", "list"]);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(out, format!("echo 1.0.0\necho 2.0.0\npy2wasm {version}\n"));

    user.spin_ok(&["plugins", "install", "echo", "--version", "1.0.0", "-y"]);
    let (out, _) = user.spin_ok(&["plugins", "list", "--summary"]);
    assert_eq!(
        out,
        format!("echo 2.0.0 [installed version: 1.0.0]\npy2wasm {version}\n")
    );

    let (out, _) = user.spin_ok(&["plugins", "upgrade", "--all", "-y"]);
    assert!(
        out.contains("Plugin 'echo' was installed successfully!"),
        "{out}"
    );
    let (out, _) = user.spin_ok(&["plugins", "list", "--installed"]);
    assert_eq!(out, "echo 2.0.0 [installed]\n");

    let err = user.spin_err(&["plugins", "install", "echo", "--version", "1.0.0", "-y"]);
    assert!(
        err.contains("Newer version 2.0.0 of plugin 'echo' is already installed"),
        "{err}"
    );
    user.spin_ok(&[
        "plugins",
        "upgrade",
        "echo",
        "--version",
        "1.0.0",
        "--downgrade",
        "-y",
    ]);

    let err = user.spin_err(&["plugins", "install", "nope", "-y"]);
    assert!(
        err.contains("Plugin 'nope' was not found in the plugin index"),
        "{err}"
    );
    assert!(err.contains("hint: run `spin plugins update`"), "{err}");
}

/// Serves files over HTTP on 127.0.0.1 until `requests` requests have
/// been answered. `files` gets the server's base URL and returns
/// (URL path, body) pairs; other paths get a 404.
fn serve(
    requests: usize,
    files: impl FnOnce(&str) -> Vec<(String, Vec<u8>)>,
) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let files = files(&base);
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut header = String::new();
            while reader.read_line(&mut header).unwrap() > 2 {
                header.clear();
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = match files.iter().find(|(p, _)| p == path) {
                Some((_, body)) => ("200 OK", body.as_slice()),
                None => ("404 Not Found", &[][..]),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(body).unwrap();
        }
    });
    (base, handle)
}

#[test]
fn install_from_an_http_manifest_url() {
    let user = User::offline();
    let (archive, sha) = package(user.path(), "echo", ECHO_PLUGIN);
    let archive = std::fs::read(&archive).unwrap();
    let (base, server) = serve(3, |base| {
        let manifest = manifest("echo", "3.0.0", &format!("{base}/echo.tar.gz"), &sha);
        vec![
            ("/echo.json".to_owned(), manifest.into_bytes()),
            ("/echo.tar.gz".to_owned(), archive),
        ]
    });

    let (out, _) = user.spin_ok(&[
        "plugins",
        "install",
        "--url",
        &format!("{base}/echo.json"),
        "--yes",
    ]);
    assert!(
        out.starts_with("Plugin 'echo' was installed successfully!"),
        "{out}"
    );
    let run = user.spin(&["echo", "hi"]);
    assert_eq!(run.status.code(), Some(7), "{}", describe(&run));

    let err = user.spin_err(&[
        "plugins",
        "install",
        "--url",
        &format!("{base}/missing.json"),
        "-y",
    ]);
    assert!(
        err.contains(&format!("{base}/missing.json")) && err.contains("404"),
        "{err}"
    );
    server.join().unwrap();
}

/// Writes a manifest for `name` whose package is `archive` into the user's
/// directory and returns its file name.
fn write_manifest(user: &User, name: &str, (archive, sha): &(PathBuf, String)) -> String {
    let url = format!("file://{}", archive.display());
    std::fs::write(
        user.path().join("plugin.json"),
        manifest(name, "1.0.0", &url, sha),
    )
    .unwrap();
    "plugin.json".to_owned()
}

#[test]
fn a_plugin_name_that_is_a_path_is_refused() {
    let user = User::offline();
    // `<data>/plugins/../../victim` is this directory, outside the store.
    let victim = user.path().join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("canary.txt"), "alive").unwrap();
    // and `<data>/plugins/manifests/../../victim.json` is this file.
    std::fs::create_dir_all(user.path().join("data")).unwrap();
    std::fs::write(user.path().join("data/victim.json"), "{}").unwrap();

    let package = package(user.path(), "echo", ECHO_PLUGIN);
    for name in ["../../victim", "a/b", ".."] {
        let file = write_manifest(&user, name, &package);
        let err = user.spin_err(&["plugins", "install", "--file", &file, "--yes"]);
        assert!(
            err.contains(&format!("Invalid plugin name '{name}'")),
            "{err}"
        );
        assert!(err.contains("hint: a plugin name is made of"), "{err}");
    }
    let err = user.spin_err(&["plugins", "uninstall", "../../victim"]);
    assert!(err.contains("Invalid plugin name '../../victim'"), "{err}");

    assert_eq!(
        std::fs::read_to_string(victim.join("canary.txt")).unwrap(),
        "alive"
    );
    assert!(user.path().join("data/victim.json").exists());
    let (out, _) = user.spin_ok(&["plugins", "list", "--installed"]);
    assert_eq!(out, "No plugins found\n");
}

#[test]
fn a_setuid_file_in_a_package_installs_without_the_bit() {
    use std::os::unix::fs::PermissionsExt;
    let user = User::offline();
    let package = package_with(user.path(), "echo", ECHO_PLUGIN, "6777", &[]);
    let file = write_manifest(&user, "echo", &package);
    user.spin_ok(&["plugins", "install", "--file", &file, "--yes"]);

    let exe = user.path().join("data/plugins/echo/echo");
    let mode = std::fs::metadata(&exe).unwrap().permissions().mode() & 0o7777;
    assert_eq!(
        mode, 0o755,
        "setid bits and group/other write dropped: {mode:o}"
    );
    let run = user.spin(&["echo", "hi"]);
    assert_eq!(run.status.code(), Some(7), "{}", describe(&run));
}

#[test]
fn a_package_with_an_entry_outside_its_directory_is_refused() {
    let user = User::offline();
    std::fs::write(user.path().join("escape.txt"), "written by the package").unwrap();
    let package = package_with(user.path(), "echo", ECHO_PLUGIN, "755", &["../escape.txt"]);
    std::fs::remove_file(user.path().join("escape.txt")).unwrap();
    let file = write_manifest(&user, "echo", &package);

    let err = user.spin_err(&["plugins", "install", "--file", &file, "--yes"]);
    assert!(
        err.contains("its entry `../escape.txt` has an absolute path or a `..`"),
        "{err}"
    );
    assert!(
        err.contains("hint: the package is broken or malicious"),
        "{err}"
    );
    assert!(!user.path().join("data/plugins/escape.txt").exists());
    assert!(!user.path().join("data/escape.txt").exists());
    let (out, _) = user.spin_ok(&["plugins", "list", "--installed"]);
    assert_eq!(out, "No plugins found\n");
}
