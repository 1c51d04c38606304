//! The Wagi executor (`executor = { type = "wagi" }`): WASI preview 1
//! command modules (written here in WAT, `tests/apps/wagi/`) run CGI-style
//! per request through the real `spin up`.

mod support;

use std::path::{Path, PathBuf};

use support::spin::{SpinUp, spin};

/// The module `name` of `tests/apps/wagi/`, compiled into `dir`.
fn module(dir: &Path, name: &str) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/apps/wagi/{name}.wat"));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wat::parse_file(&source).unwrap()).unwrap();
    path
}

/// An app directory whose `spin.toml` is `manifest`, with the test
/// modules beside it.
fn app(manifest: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    module(dir.path(), "echo");
    module(dir.path(), "misbehave");
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    (dir, path)
}

const MANIFEST: &str = r#"spin_manifest_version = 2
[application]
name = "wagi"
[[trigger.http]]
route = "/echo/..."
component = "echo"
executor = { type = "wagi" }
[[trigger.http]]
route = "/odd"
component = "odd"
executor = { type = "wagi", entrypoint = "main", argv = "${SCRIPT_NAME} ${ARGS}" }
[component.echo]
source = "echo.wasm"
environment = { GREETING = "hi" }
[component.odd]
source = "misbehave.wasm"
"#;

#[test]
fn a_wagi_module_answers_cgi_style_and_its_failures_fail_one_request() {
    let (_dir, manifest) = app(MANIFEST);
    let up = SpinUp::start(&manifest, &["--request-timeout", "2"]);

    let echoed = support::http::request(
        up.addr,
        "POST",
        "/echo/a%20b?x=1&y=2",
        &[("x-custom", "yes"), ("authorization", "secret")],
        b"payload",
    )
    .unwrap();
    assert_eq!(echoed.status, 200);
    assert_eq!(echoed.header("content-type"), Some("text/plain"));
    let text = echoed.text();
    let port = up.addr.port();
    for line in [
        "ARG /echo/a%20b\nARG x=1\nARG y=2\n".to_owned(),
        "ENV GREETING=hi\n".to_owned(),
        "ENV REQUEST_METHOD=POST\n".to_owned(),
        "ENV QUERY_STRING=x=1&y=2\n".to_owned(),
        "ENV SCRIPT_NAME=/echo\n".to_owned(),
        "ENV PATH_INFO=/a%20b\n".to_owned(),
        "ENV PATH_TRANSLATED=/a b\n".to_owned(),
        "ENV X_RAW_PATH_INFO=/a%20b\n".to_owned(),
        "ENV CONTENT_LENGTH=7\n".to_owned(),
        "ENV HTTP_X_CUSTOM=yes\n".to_owned(),
        "ENV REMOTE_ADDR=127.0.0.1\n".to_owned(),
        "ENV SERVER_PORT={port}\n".replace("{port}", &port.to_string()),
        format!("ENV X_FULL_URL=http://127.0.0.1:{port}/echo/a%20b?x=1&y=2\n"),
        "ENV X_MATCHED_ROUTE=/echo/...\n".to_owned(),
        "ENV GATEWAY_INTERFACE=CGI/1.1\n".to_owned(),
    ] {
        assert!(text.contains(&line), "no {line:?} in:\n{text}");
    }
    assert!(text.ends_with("STDIN payload"), "{text}");
    assert!(!text.contains("secret"), "{text}");

    // A redirect, a custom entry point.
    let redirect = up.get("/odd");
    assert_eq!(redirect.status, 302);
    assert_eq!(redirect.header("location"), Some("/elsewhere"));

    // Each failure fails its request, logged with the component.
    for (query, logged) in [
        ("exit", "the Wagi module exited with status 3"),
        ("nohead", "wrote no valid CGI response"),
        ("spin", "ran longer than the 2s limit"),
    ] {
        let failed = up.get(&format!("/odd?{query}"));
        assert_eq!(failed.status, 500, "{query}: {}", failed.text());
        let log = up.wait_for_stderr(logged);
        assert!(log.contains("component `odd`"), "{query}: {log}");
    }
    assert!(
        up.stderr().contains("hint: a Wagi module writes headers"),
        "{}",
        up.stderr()
    );
    assert!(up.get("/echo/again").text().contains("ARG /echo/again\n"));
}

/// A raw HTTP/1.1 exchange: `request` written, the status line read.
fn status_line(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use std::io::{BufRead, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut line)
        .unwrap();
    line
}

#[test]
fn a_wagi_module_is_held_to_the_body_and_output_limits() {
    let (_dir, manifest) = app(MANIFEST);
    let up = SpinUp::start(
        &manifest,
        &[
            "--max-request-body-size",
            "1K",
            "--max-wagi-output-size",
            "4K",
        ],
    );
    // A chunked body past the limit: 413, before the module runs.
    let chunk = "x".repeat(2048);
    let request = format!(
        "POST /echo/big HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n800\r\n{chunk}\r\n0\r\n\r\n"
    );
    let status = status_line(up.addr, request.as_bytes());
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    // Output past `--max-wagi-output-size` (the environment and a 1K body
    // echoed 4 times over would be more; here one body and the headers).
    let small = support::http::request(up.addr, "POST", "/echo/ok", &[], &[b'y'; 1000]).unwrap();
    assert_eq!(small.status, 200);
    let big_header = "z".repeat(3500);
    let over = support::http::request(
        up.addr,
        "POST",
        "/echo/over",
        &[("x-big", big_header.as_str())],
        &[b'y'; 1000],
    )
    .unwrap();
    assert_eq!(over.status, 500);
    let log = up.wait_for_stderr("the most one response may be");
    assert!(log.contains("wrote 4096 bytes or more to stdout"), "{log}");
    assert!(log.contains("--max-wagi-output-size"), "{log}");
    assert_eq!(up.get("/odd").status, 302, "still serving");
}

#[test]
fn spin_up_dev_shows_a_failed_wagi_module_s_stderr() {
    let (_dir, manifest) = app(MANIFEST);
    let up = SpinUp::start(&manifest, &["--dev"]);
    let failed = up.get("/odd?exit");
    assert_eq!(failed.status, 500);
    let page = failed.text();
    assert!(page.contains("exiting with status 3"), "{page}");
    assert!(page.contains("exited with status 3"), "{page}");
    // Only what this request wrote.
    let again = up.get("/odd?exit").text();
    assert_eq!(again.matches("exiting with status 3").count(), 1, "{again}");
}

#[test]
fn a_component_s_triggers_run_it_the_same_way() {
    let manifest = MANIFEST.replace(
        "[component.echo]",
        "[[trigger.http]]\nroute = \"/plain\"\ncomponent = \"echo\"\n[component.echo]",
    );
    let (_dir, path) = app(&manifest);
    let err = fails_to_start(&path);
    assert!(err.contains("spin.toml:12"), "{err}");
    assert!(
        err.contains("run with another `executor` by the HTTP trigger at line 4"),
        "{err}"
    );
    assert!(
        err.contains("hint: give every HTTP trigger of a component the same `executor`"),
        "{err}"
    );
}

/// `spin up` on `manifest`, in its directory, expected to stop; its stderr.
fn fails_to_start(manifest: &Path) -> String {
    support::spin::fails_to_start(manifest.parent().unwrap(), manifest, &[])
}

#[test]
fn what_the_wagi_executor_cannot_run_stops_spin_up_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    module(dir.path(), "echo");
    let write = |name: &str, wat: &str| {
        std::fs::write(dir.path().join(name), wat::parse_str(wat).unwrap()).unwrap();
    };
    write("component.wasm", "(component)");
    write(
        "spin1.wasm",
        r#"(module (import "fermyon:spin/http" "send-request" (func)) (func (export "_start")))"#,
    );
    write("nostart.wasm", "(module (func (export \"other\")))");
    let manifest = |source: &str, executor: &str| {
        let path = dir.path().join("spin.toml");
        std::fs::write(
            &path,
            format!(
                "spin_manifest_version = 2\n[application]\nname = \"w\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"w\"\n{executor}\n[component.w]\nsource = \"{source}\"\n"
            ),
        )
        .unwrap();
        path
    };
    let wagi = "executor = { type = \"wagi\" }";

    let err = fails_to_start(&manifest("echo.wasm", ""));
    assert!(
        err.contains("is a core WebAssembly module that exports neither `handle-http-request` nor `handle-redis-message`"),
        "{err}"
    );
    assert!(err.contains("executor = { type = \"wagi\" }"), "{err}");

    let err = fails_to_start(&manifest("component.wasm", wagi));
    // At the executor, not at the trigger.
    assert!(err.contains("spin.toml:7:12"), "{err}");
    assert!(
        err.contains("is a component, not a WASI preview 1 module"),
        "{err}"
    );
    assert!(err.contains("hint: drop `executor`"), "{err}");

    let err = fails_to_start(&manifest("spin1.wasm", wagi));
    assert!(err.contains("cannot be linked"), "{err}");
    assert!(err.contains("fermyon:spin/http"), "{err}");
    assert!(
        err.contains("hint: a Wagi module may import WASI preview 1"),
        "{err}"
    );

    let err = fails_to_start(&manifest("nostart.wasm", wagi));
    assert!(err.contains("exports no function `_start`"), "{err}");
}

/// A Wagi app keeps its executor through a registry: pushed (the locked
/// app says `executor = { type = "wagi", … }`, as Spin writes it), pulled
/// into another cache and run.
#[test]
fn a_wagi_app_runs_from_a_registry() {
    let registry = support::registry::Registry::start(false);
    let (dir, manifest) = app(MANIFEST);
    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/tests/wagi:v1", registry.host);
    let pushed = spin(dir.path())
        .env("DOCKER_CONFIG", home.path().join("docker"))
        .env("SPIN_REGISTRY_CACHE_DIR", home.path().join("push-cache"))
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest)
        .arg(&reference)
        .output()
        .unwrap();
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    // Pulled into another cache than the push's.
    let elsewhere = tempfile::tempdir().unwrap();
    let up = support::registry::up_from_registry(&reference, elsewhere.path(), &[]);
    let echoed = up.get("/echo/from-registry?q=1").text();
    assert!(
        echoed.contains("ARG /echo/from-registry\nARG q=1\n"),
        "{echoed}"
    );
    assert!(echoed.contains("ENV GREETING=hi\n"), "{echoed}");
    let redirect = up.get("/odd");
    assert_eq!(redirect.status, 302, "the custom entry point came along");
}

/// Wagi modules are compiled once: the artifacts are kept in the cache as
/// components' are, and a second start loads them (an artifact is written
/// by a rename, so a recompiled one would be another file).
#[test]
fn a_wagi_module_is_compiled_once() {
    use std::os::unix::fs::MetadataExt as _;
    let (_dir, manifest) = app(MANIFEST);
    let cache = tempfile::tempdir().unwrap();
    let artifacts = || -> Vec<(String, u64)> {
        let dir = cache.path().join("spin/wasmtime/components");
        let mut found: Vec<(String, u64)> = std::fs::read_dir(dir)
            .map(|d| {
                d.map(|e| e.unwrap())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
                    .map(|e| {
                        let name = e.file_name().into_string().unwrap();
                        (name, e.metadata().unwrap().ino())
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    };
    let mut first = Vec::new();
    for run in 0..2 {
        let up = SpinUp::start_with(&manifest, &[], |cmd| {
            cmd.env("XDG_CACHE_HOME", cache.path());
        });
        assert_eq!(up.get("/odd").status, 302, "run {run}");
        let now = artifacts();
        assert_eq!(now.len(), 2, "run {run}: {now:?}");
        assert!(!up.stderr().contains("ignoring"), "{}", up.stderr());
        if run == 0 {
            first = now;
        } else {
            assert_eq!(now, first, "the second start loaded the same artifacts");
        }
    }
}
