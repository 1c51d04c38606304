//! Spin 4's build profiles, end to end through the real `spin`: `spin build
//! --profile`, `spin up --profile` (alone and with `--build`), and `spin
//! build --profile --up`, on an official-SDK component.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::python::{build_sdk_app, test_app};
use support::spin::{SpinUp, spin};

/// One component whose default and `debug` profiles build (by copying the
/// test component) and run different files, with different environments.
const MANIFEST: &str = r#"spin_manifest_version = 2

[application]
name = "profiles"

[[trigger.http]]
route = "/..."
component = "hello"

[component.hello]
source = "release.wasm"
environment = { MODE = "release", SHARED = "kept" }
build = { command = "cp built.wasm release.wasm && echo building release" }

[component.hello.profile.debug]
source = "debug.wasm"
environment = { MODE = "debug" }
build.command = "cp built.wasm debug.wasm && echo building debug"
"#;

/// The app in a temp dir, nothing built yet.
fn app() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        build_sdk_app(&test_app("sdk-http")),
        dir.path().join("built.wasm"),
    )
    .unwrap();
    let manifest = dir.path().join("spin.toml");
    std::fs::write(&manifest, MANIFEST).unwrap();
    (dir, manifest)
}

fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = spin(dir).args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_build_profile_builds_and_runs_its_own_source_and_environment() {
    let (dir, manifest) = app();
    let built = |name: &str| dir.path().join(name).exists();
    let (ok, stdout, stderr) = run(dir.path(), &["build", "--profile", "debug"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("building debug"), "{stdout}");
    assert!(built("debug.wasm") && !built("release.wasm"));

    // The profile's source (the default one was never built), and its
    // environment over the component's.
    let up = SpinUp::start(&manifest, &["--profile", "debug"]);
    assert_eq!(up.get("/env/MODE").text(), "debug");
    assert_eq!(up.get("/env/SHARED").text(), "kept");
    assert!(!up.stderr().contains("last built"), "{}", up.stderr());
    drop(up);

    // Without it, the default source is missing, and the error says so.
    let (ok, _, stderr) = run(dir.path(), &["up"]);
    assert!(!ok);
    assert!(stderr.contains("release.wasm"), "{stderr}");
    assert!(stderr.contains("run `spin build` to build it"), "{stderr}");
    // A profile's missing source names the build that makes it.
    std::fs::remove_file(dir.path().join("debug.wasm")).unwrap();
    let (ok, _, stderr) = run(dir.path(), &["up", "--profile", "debug"]);
    assert!(!ok);
    assert!(stderr.contains("debug.wasm"), "{stderr}");
    assert!(
        stderr.contains("run `spin build --profile debug`"),
        "{stderr}"
    );

    // `spin up --build` builds the profile it runs.
    let up = SpinUp::start(&manifest, &["--build", "--profile", "debug"]);
    assert!(up.stdout().contains("building debug"), "{}", up.stdout());
    assert_eq!(up.get("/env/MODE").text(), "debug");
    drop(up);
    let up = SpinUp::start(&manifest, &["--build"]);
    assert_eq!(up.get("/env/MODE").text(), "release");
    drop(up);
    // Running another profile than the one built last, without a build,
    // is warned about, as in Spin (`.spin/last-build.txt`).
    let up = SpinUp::start(&manifest, &["--profile", "debug"]);
    let warned = up.wait_for_stderr("was last built for the default profile");
    assert!(warned.contains("and this runs profile `debug`"), "{warned}");
    drop(up);

    // `spin build --up` runs what it built, the profile named before
    // `--up` or after it.
    for (build_args, up_args) in [
        (&["--profile", "debug"][..], &[][..]),
        (&[], &["--profile", "debug"]),
    ] {
        std::fs::remove_file(dir.path().join("debug.wasm")).unwrap();
        let up = SpinUp::start_built(&manifest, build_args, up_args);
        assert!(up.stdout().contains("building debug"), "{}", up.stdout());
        assert_eq!(up.get("/env/MODE").text(), "debug");
    }
    let (ok, _, stderr) = run(
        dir.path(),
        &[
            "build",
            "--profile",
            "debug",
            "--up",
            "--listen",
            "127.0.0.1:0",
            "--profile",
            "release",
        ],
    );
    assert!(!ok);
    assert!(stderr.contains("two build profiles"), "{stderr}");
}

#[test]
fn a_profile_no_component_defines_is_refused_naming_the_ones_that_do() {
    let (dir, _manifest) = app();
    let listen = format!("127.0.0.1:{}", support::spin::free_port());
    let watch = [
        "watch",
        "--profile",
        "debgu",
        "--",
        "--listen",
        listen.as_str(),
    ];
    for args in [
        &["up", "--profile", "debgu"][..],
        &["build", "--profile", "debgu"],
        &watch,
    ] {
        let mut child = spin(dir.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `spin watch` would otherwise wait for edits: it must stop at once.
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("{args:?} kept running with an unknown profile");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr.contains("no component defines the build profile `debgu`"),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("the profiles defined are `debug`"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!dir.path().join("release.wasm").exists());
}
