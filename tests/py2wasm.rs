//! `spin py2wasm` through the real binary: the seed page's hello app from
//! build to `curl`, build errors, third-party packages, and the 2023 SDK's
//! behaviour when served by `spin up`.
//!
//! The first run installs componentize-py into the test cache under
//! `target/`, which needs the Python package index; later runs reuse it.

#[path = "../crates/python-toolchain/tests/component_imports/mod.rs"]
mod component_imports;
mod support;

use component_imports::{imports, spin_provides};

use support::seed::SEED_MANIFEST;

use std::fs;
use std::path::Path;
use std::process::Output;

use support::http::request;
use support::spin::{SpinUp, spin};

/// The seed page's hello-world `app.py`.
const HELLO: &str = r#"from spin_http import Response

def handle_request(request):
    return Response(200,
                    [("content-type", "text/plain")],
                    bytes(f"Hello from the Python SDK", "utf-8"))
"#;

/// Writes `files` into a new app directory.
fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// Runs `spin py2wasm app -o app.wasm` in `dir`, outside any virtualenv.
fn py2wasm(dir: &Path) -> Output {
    spin(dir)
        .args(["py2wasm", "app", "-o", "app.wasm"])
        .env_remove("VIRTUAL_ENV")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_built(dir: &Path) {
    let output = py2wasm(dir);
    assert!(
        output.status.success(),
        "spin py2wasm failed:\n{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("Built `app.wasm`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn seed_hello_app_builds_serves_and_is_not_rebuilt() {
    let dir = app(&[("app.py", HELLO), ("spin.toml", SEED_MANIFEST)]);
    assert_built(dir.path());

    let imports = imports(&dir.path().join("app.wasm"));
    assert!(
        imports
            .iter()
            .any(|i| i == "wasi:http/outgoing-handler@0.2.0"),
        "{imports:?}"
    );
    let foreign: Vec<_> = imports.iter().filter(|i| !spin_provides(i)).collect();
    assert!(
        foreign.is_empty(),
        "imports Spin does not provide: {foreign:?}"
    );

    let again = py2wasm(dir.path());
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("`app.wasm` is up to date"),
        "{}",
        stderr(&again)
    );

    let up = SpinUp::start(&dir.path().join("spin.toml"), &[]);
    let response = up.get("/hello");
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("content-type"), Some("text/plain"));
    assert_eq!(response.header("content-length"), Some("25"));
    assert_eq!(response.text(), "Hello from the Python SDK");
}

#[test]
fn syntax_error_is_reported_with_file_and_line() {
    let broken = "from spin_http import Response\n\ndef handle_request(request)\n    return None\n";
    let dir = app(&[("app.py", broken)]);
    let output = py2wasm(dir.path());
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let location = format!(
        "{}:3: SyntaxError: expected ':'",
        dir.path().join("app.py").display()
    );
    assert!(text.contains(&location), "no `{location}` in:\n{text}");
    assert!(text.contains("hint: "), "{text}");
    for noise in [
        "panicked",
        "stack backtrace",
        "Stack backtrace",
        "RUST_BACKTRACE",
        "/0/",
    ] {
        assert!(!text.contains(noise), "`{noise}` in:\n{text}");
    }
    assert!(!dir.path().join("app.wasm").exists());
}

#[test]
fn pure_python_dependency_from_requirements_txt() {
    let source = "import humanize\nfrom spin_http import Response\n\n\
        def handle_request(request):\n    \
        return Response(200, {\"content-type\": \"text/plain\"}, humanize.naturalsize(1_000_000).encode())\n";
    let manifest = SEED_MANIFEST.replace("hello-world", "humanized");
    let dir = app(&[
        ("app.py", source),
        ("requirements.txt", "humanize==4.9.0\n"),
        ("spin.toml", &manifest),
    ]);
    assert_built(dir.path());

    let up = SpinUp::start(&dir.path().join("spin.toml"), &[]);
    assert_eq!(up.get("/").text(), "1.0 MB");
}

/// Exercises the 2023 SDK surface against `spin up`.
const SDK_APP: &str = r#"import os
from spin_http import Request, Response, http_send
from spin_config import config_get
from spin_key_value import kv_open_default

def handle_request(request):
    path = request.uri.split("?")[0]
    if path == "/echo":
        text = f"{request.method} {request.uri} {request.headers.get('x-test')} ".encode()
        return Response(201, [("x-multi", "a"), ("x-multi", "b")], text + request.body)
    if path == "/big":
        return Response(200, {"content-type": "application/octet-stream"}, b"0123456789" * 10_000)
    if path == "/fail":
        raise ValueError("the handler exploded")
    if path == "/outbound":
        http_send(Request("GET", "https://example.com/", {}, None))
    if path == "/config":
        return Response(200, {}, config_get("greeting").encode())
    if path == "/env":
        return Response(200, {}, os.environ.get("APP_MODE", "unset").encode())
    if path == "/kv":
        store = kv_open_default()
        store.set("key", b"value")
        found = (store.get("key"), store.get("missing"), store.exists("key"), "key" in store.get_keys())
        store.delete("key")
        return Response(200, {}, repr(found + (store.exists("key"),)).encode())
    return Response(404, {}, None)
"#;

const SDK_MANIFEST: &str = r#"spin_version = "1"
name = "sdk"
trigger = { type = "http", base = "/" }
version = "0.1.0"

[[component]]
id = "sdk"
source = "app.wasm"
environment = { APP_MODE = "testing" }
config = { greeting = "hi there" }
key_value_stores = ["default"]
[component.trigger]
route = "/..."
"#;

#[test]
fn sdk_modules_behave_like_the_2023_sdk() {
    let dir = app(&[("app.py", SDK_APP), ("spin.toml", SDK_MANIFEST)]);
    assert_built(dir.path());
    let up = SpinUp::start(&dir.path().join("spin.toml"), &[]);

    let echo = request(
        up.addr,
        "POST",
        "/echo?x=1",
        &[("x-test", "yes")],
        b"payload",
    )
    .unwrap();
    assert_eq!(echo.status, 201);
    assert_eq!(echo.text(), "POST /echo?x=1 yes payload");
    let multi: Vec<_> = echo
        .headers
        .iter()
        .filter(|(n, _)| n == "x-multi")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(multi, ["a", "b"]);

    let big = up.get("/big");
    assert_eq!(big.body.len(), 100_000);
    assert_eq!(big.header("content-length"), Some("100000"));

    assert_eq!(up.get("/config").text(), "hi there");
    assert_eq!(up.get("/env").text(), "testing");
    assert_eq!(up.get("/kv").text(), "(b'value', None, True, True, False)");

    let failed = up.get("/fail");
    assert_eq!(failed.status, 500);
    let log = up.wait_for_stderr("ValueError: the handler exploded");
    assert!(log.contains("ValueError: the handler exploded"), "{log}");
    // Tracebacks name the app's files as the user knows them and quote the
    // source line, though no source file exists at run time.
    assert!(
        log.contains("File \"app.py\", line 14, in handle_request"),
        "{log}"
    );
    assert!(
        log.contains("raise ValueError(\"the handler exploded\")"),
        "{log}"
    );
    assert!(!log.contains("spin_py2wasm/handler.py"), "{log}");

    let denied = up.get("/outbound");
    assert_eq!(denied.status, 500);
    let log = up.wait_for_stderr("AssertionError: HttpError::DestinationNotAllowed");
    assert!(
        log.contains("AssertionError: HttpError::DestinationNotAllowed"),
        "{log}"
    );

    // The server keeps serving after failures.
    assert_eq!(up.get("/env").status, 200);
}
