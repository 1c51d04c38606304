//! Snapshots of what the real `spin` prints for the common failures: exit
//! code, stderr (the message, the `Caused by:` chain and one `hint:`, last)
//! and stdout when there is any (issue 12).
//!
//! The snapshots live in `tests/snapshots/`. After an intended change, run
//! the tests and `cargo insta review` (or `INSTA_UPDATE=always`), then read
//! the diff. In CI (`CI=true`) a changed or missing snapshot fails the test.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::python::{build_sdk_app, test_app};
use support::spin::spin;

/// A manifest with one HTTP component, `{source}` being its file.
const MANIFEST: &str = r#"spin_manifest_version = 2

[application]
name = "errors"

[[trigger.http]]
route = "/..."
component = "hello"

[component.hello]
source = "{source}"
"#;

/// Runs `cmd` with no input and snapshots its outcome as `name`, with the
/// temp directory `dir` shown as `[TEMP]` and loopback ports as `[PORT]`.
fn assert_fails(name: &str, dir: &Path, cmd: &mut Command) {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(!out.status.success(), "{name} succeeded:\n{}", render(&out));
    let mut filters = Vec::new();
    // The directory as given and as the binary may see it (canonical).
    for path in [dir.to_path_buf(), dir.canonicalize().unwrap()] {
        filters.push((regex::escape(path.to_str().unwrap()), "[TEMP]"));
    }
    filters.push((r"127\.0\.0\.1:\d+".to_owned(), "127.0.0.1:[PORT]"));
    insta::with_settings!({
        filters => filters.iter().map(|(re, to)| (re.as_str(), *to)).collect::<Vec<_>>(),
        omit_expression => true,
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, render(&out));
    });
}

/// Exit code, stdout (when there is any) and stderr.
fn render(out: &Output) -> String {
    let code = out
        .status
        .code()
        .map_or_else(|| out.status.to_string(), |c| c.to_string());
    let mut text = format!("exit code: {code}\n");
    if !out.stdout.is_empty() {
        text.push_str("----- stdout -----\n");
        text.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    text.push_str("----- stderr -----\n");
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// A temp directory holding `spin.toml` with `manifest`.
fn app(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    dir
}

#[test]
fn no_manifest() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails("no_manifest", dir.path(), spin(dir.path()).arg("up"));
}

#[test]
fn port_in_use() {
    // Loading (and so a real component) comes before binding.
    let component = build_sdk_app(&test_app("sdk-http"));
    let dir = app(&MANIFEST.replace("{source}", component.to_str().unwrap()));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    assert_fails(
        "port_in_use",
        dir.path(),
        spin(dir.path()).args(["up", "--listen", &addr]),
    );
}

#[test]
fn bad_runtime_config() {
    let dir = app(&MANIFEST.replace("{source}", "app.wasm"));
    std::fs::write(
        dir.path().join("runtime-config.toml"),
        "[key_value_store.default]\ntype = \"dynamo\"\n",
    )
    .unwrap();
    assert_fails(
        "bad_runtime_config",
        dir.path(),
        spin(dir.path()).args(["up", "--runtime-config-file", "runtime-config.toml"]),
    );
}

#[test]
fn unknown_runtime_config_key() {
    let dir = app(&MANIFEST.replace("{source}", "app.wasm"));
    std::fs::write(
        dir.path().join("runtime-config.toml"),
        "[key_value_store.default]\ntype = \"spin\"\npth = \"data.db\"\n",
    )
    .unwrap();
    assert_fails(
        "unknown_runtime_config_key",
        dir.path(),
        spin(dir.path()).args(["up", "--runtime-config-file", "runtime-config.toml"]),
    );
}

#[test]
fn client_tls_certificate_without_its_key() {
    let dir = app(&MANIFEST.replace("{source}", "app.wasm"));
    std::fs::write(dir.path().join("client.pem"), "").unwrap();
    std::fs::write(
        dir.path().join("runtime-config.toml"),
        "[[client_tls]]\ncomponent_ids = [\"hello\"]\nhosts = [\"api.example.com\"]\nclient_cert_file = \"client.pem\"\n",
    )
    .unwrap();
    assert_fails(
        "client_tls_certificate_without_its_key",
        dir.path(),
        spin(dir.path()).args(["up", "--runtime-config-file", "runtime-config.toml"]),
    );
}

#[test]
fn unknown_template() {
    let home = tempfile::tempdir().unwrap();
    assert_fails(
        "unknown_template",
        home.path(),
        spin(home.path())
            .args(["new", "-t", "no-such-template", "x", "--accept-defaults"])
            .env("HOME", home.path())
            .env("SPIN_DATA_DIR", home.path().join("data")),
    );
}

#[test]
fn build_command_fails() {
    let dir = app(&format!(
        "{}\n[component.hello.build]\ncommand = \"sh -c 'echo building; exit 3'\"\n",
        MANIFEST.replace("{source}", "app.wasm")
    ));
    assert_fails(
        "build_command_fails",
        dir.path(),
        spin(dir.path()).arg("build"),
    );
}

#[test]
fn component_file_missing() {
    let dir = app(&MANIFEST.replace("{source}", "app.wasm"));
    assert_fails(
        "component_file_missing",
        dir.path(),
        spin(dir.path()).arg("up"),
    );
}

#[test]
fn manifest_error_under_context() {
    // `spin build` adds a context above the manifest's diagnostic: the
    // hint still comes last, after the cause that explains it.
    let dir = app(&MANIFEST
        .replace("{source}", "app.wasm")
        .replace("name = \"errors\"", "name = \"errors\"\nfoo = 1"));
    assert_fails(
        "manifest_error_under_context",
        dir.path(),
        spin(dir.path()).arg("build"),
    );
}

#[test]
fn plugin_not_in_an_unusable_index() {
    // The index is a directory without `manifests/`: the plugin cannot be
    // looked up, and the hint says how to fix the index, not the name.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("index")).unwrap();
    assert_fails(
        "plugin_not_in_an_unusable_index",
        home.path(),
        spin(home.path())
            .args(["plugins", "install", "tool", "--yes"])
            .env("HOME", home.path())
            .env("SPIN_DATA_DIR", home.path().join("data"))
            .env("SPIN_PLUGINS_INDEX", home.path().join("index")),
    );
}

#[test]
fn undeclared_variable() {
    let dir = app(&MANIFEST.replace("{source}", "app.wasm"));
    std::fs::write(dir.path().join("app.wasm"), b"\0asm\x0d\0\x01\0").unwrap();
    assert_fails(
        "undeclared_variable",
        dir.path(),
        spin(dir.path()).args(["up", "--variable", "tokn=x"]),
    );
}

#[test]
fn undefined_key_value_store() {
    let dir = app(&format!(
        "{}key_value_stores = [\"cache\"]\n",
        MANIFEST.replace("{source}", "app.wasm")
    ));
    std::fs::write(dir.path().join("app.wasm"), b"\0asm\x0d\0\x01\0").unwrap();
    assert_fails(
        "undefined_key_value_store",
        dir.path(),
        spin(dir.path()).arg("up"),
    );
}
