//! `spin build`, run as the real binary on applications whose build
//! commands are small shell commands.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn spin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spin"))
        .args(args)
        .current_dir(dir)
        .env("SPIN_DATA_DIR", dir.join(".spin-data"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A v1 application with two components; the second builds in `sub/`.
fn write_app(dir: &Path, first_command: &str) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("spin.toml"),
        format!(
            r#"spin_version = "1"
authors = ["Test <test@example.com>"]
name = "two"
trigger = {{ type = "http", base = "/" }}
version = "0.1.0"

[[component]]
id = "first"
source = "first.wasm"
[component.trigger]
route = "/first/..."
[component.build]
command = "{first_command}"

[[component]]
id = "second"
source = "sub/second.wasm"
[component.trigger]
route = "/second/..."
[component.build]
command = "echo second-output && touch second.built"
workdir = "sub"

[[component]]
id = "prebuilt"
source = "prebuilt.wasm"
[component.trigger]
route = "/prebuilt/..."
"#
        ),
    )
    .unwrap();
}

#[test]
fn builds_every_component_in_order_in_its_workdir() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), "echo first-output && touch first.built");

    let output = spin(dir.path(), &["build"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let workdir = dir.path().join("sub").canonicalize().unwrap();
    assert_eq!(
        text(&output.stdout),
        format!(
            "Building component first with `echo first-output && touch first.built`\n\
             first-output\n\
             Building component second with `echo second-output && touch second.built`\n\
             Working directory: {}\n\
             second-output\n\
             Component prebuilt has no build command; skipping it\n\
             Finished building all Spin components\n",
            workdir.display()
        )
    );
    assert!(dir.path().join("first.built").exists());
    assert!(dir.path().join("sub/second.built").exists());
}

#[test]
fn a_failing_command_stops_the_build_with_its_status() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), "echo broken >&2; exit 3");

    let output = spin(dir.path(), &["build"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("broken\n"), "{stderr}");
    assert!(
        stderr.contains("Error: Build command for component first failed with status 3\n"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("sub/second.built").exists(),
        "later components are not built"
    );
    assert!(!text(&output.stdout).contains("Finished"));
}

#[test]
fn builds_only_the_chosen_components_of_the_chosen_app() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    write_app(&app, "touch first.built");

    let output = spin(dir.path(), &["build", "--from", "app", "-c", "second"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(app.join("sub/second.built").exists());
    assert!(!app.join("first.built").exists());

    let output = spin(dir.path(), &["build", "-f", "app/spin.toml", "-c", "third"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("Unknown component(s) third"), "{stderr}");
    assert!(stderr.contains("first, second, prebuilt"), "{stderr}");
}

#[test]
fn says_where_the_manifest_should_be() {
    let dir = tempfile::tempdir().unwrap();
    let output = spin(dir.path(), &["build"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("no application manifest at `spin.toml`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn up_arguments_go_to_spin_up_after_the_build() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), "touch first.built");

    // `spin up` rejects the address, which shows it received the arguments
    // after `--up`, and only after the build ran.
    let output = spin(dir.path(), &["build", "--up", "--listen", "not-an-address"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(dir.path().join("first.built").exists());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("not-an-address"), "{stderr}");
}

#[test]
fn spin_s_build_flags_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), "touch first.built");
    // Spin checks deployment targets and generates WITs for dependencies;
    // this build does neither, so its flags to skip them change nothing.
    let output = spin(
        dir.path(),
        &[
            "build",
            "--skip-target-checks",
            "--skip-generate-wits",
            "-c",
            "first",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(dir.path().join("first.built").exists());
}
