//! Modules of Spin 1's SDKs: core Wasm modules with Spin 1's import and
//! export names (what wit-bindgen 0.2 built), written here in WAT
//! (`tests/apps/spin1/`), turned into components as `spin up` loads them
//! and served with Spin 1's interfaces against the real Redis, SQLite and
//! HTTP servers on loopback.

mod support;

use std::path::{Path, PathBuf};

use support::spin::{SpinUp, fails_to_start};
use support::upstream::Upstream;

/// The module `name` of `tests/apps/spin1/` (its fields, then those of
/// `prelude.wat`), compiled into `dir`.
fn module(dir: &Path, name: &str) -> PathBuf {
    let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps/spin1");
    let read = |file: &str| std::fs::read_to_string(apps.join(file)).unwrap();
    let text = format!(
        "(module\n{}\n{}\n)",
        read(&format!("{name}.wat")),
        read("prelude.wat")
    );
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wat::parse_str(&text).unwrap()).unwrap();
    path
}

/// An app directory with the modules `names` and `manifest`.
fn app(names: &[&str], manifest: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        module(dir.path(), name);
    }
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    (dir, path)
}

/// A Spin 1 manifest, as the apps of Spin 1's SDKs came.
const ECHO_MANIFEST: &str = r#"spin_manifest_version = "1"
name = "spin1"
trigger = { type = "http", base = "/" }
version = "1.0.0"

[[component]]
id = "echo"
source = "echo.wasm"
[component.trigger]
route = "/spin1/echo/..."
"#;

#[test]
fn a_spin_1_module_gets_the_request_as_spin_passes_it_and_fails_alone() {
    let (_dir, manifest) = app(&["echo"], ECHO_MANIFEST);
    let up = SpinUp::start(&manifest, &[]);

    let posted = support::http::request(
        up.addr,
        "POST",
        "/spin1/echo/a?x=1",
        &[("x-spin1", "hello")],
        b"payload",
    )
    .unwrap();
    assert_eq!(posted.status, 200);
    assert_eq!(posted.header("content-type"), Some("text/plain"));
    // Method 1 (POST), the path and query, a client's header and the
    // router's, no route parameters, a body.
    assert_eq!(
        posted.text(),
        "1\n/spin1/echo/a?x=1\nhello\n/a\n0\n1\npayload"
    );

    // A GET has a body too, empty, as Spin passes it.
    let got = up.get("/spin1/echo/");
    assert_eq!(got.text(), "0\n/spin1/echo/\n\n/\n0\n1\n");

    // A method Spin 1 has no name for.
    let other = support::http::request(up.addr, "PROPFIND", "/spin1/echo/", &[], b"").unwrap();
    assert_eq!(other.status, 405);

    // The module's own status; one that is not HTTP's fails that request.
    let teapot = support::http::request(
        up.addr,
        "GET",
        "/spin1/echo/",
        &[("x-spin1-status", "418")],
        b"",
    )
    .unwrap();
    assert_eq!(teapot.status, 418);
    let bad = support::http::request(
        up.addr,
        "GET",
        "/spin1/echo/",
        &[("x-spin1-status", "700")],
        b"",
    )
    .unwrap();
    assert_eq!(bad.status, 500);
    up.wait_for_stderr(
        "answered with status 700, which is not the status of a final HTTP response",
    );
    // Nor is a 1xx one (101 would switch the connection's protocol).
    let switching = support::http::request(
        up.addr,
        "GET",
        "/spin1/echo/",
        &[("x-spin1-status", "101")],
        b"",
    )
    .unwrap();
    assert_eq!(switching.status, 500);
    up.wait_for_stderr("answered with status 101");

    // A trap fails its request; the server goes on.
    let trapped = support::http::request(
        up.addr,
        "GET",
        "/spin1/echo/",
        &[("x-spin1-trap", "1")],
        b"",
    )
    .unwrap();
    assert_eq!(trapped.status, 500);
    up.wait_for_stderr("unreachable");
    assert_eq!(up.get("/spin1/echo/again").status, 200);
}

#[test]
fn a_module_whose_exports_run_its_constructors_is_given_its_request() {
    // The constructors call WASI, which a guest may not do while the host
    // passes it arguments: the realloc the host uses runs without them,
    // and the handler runs them once.
    let manifest = r#"spin_manifest_version = 2
[application]
name = "spin1"
[[trigger.http]]
route = "/..."
component = "command"
[component.command]
source = "command.wasm"
environment = { FIRST = "1", SECOND = "2" }
"#;
    let (_dir, manifest) = app(&["command"], manifest);
    let up = SpinUp::start(&manifest, &[]);
    let answer = support::http::request(up.addr, "POST", "/a/b", &[("x-a", "b")], b"body").unwrap();
    assert_eq!((answer.status, answer.text().as_str()), (200, "2|1"));
}

#[test]
fn a_spin_1_module_reads_variables_and_key_value_stores_it_is_granted() {
    let manifest = r#"spin_manifest_version = 2
[application]
name = "spin1"
[variables]
greeting = { default = "hello from spin 1" }
[[trigger.http]]
route = "/config"
component = "config"
[[trigger.http]]
route = "/kv"
component = "kv"
[component.config]
source = "config.wasm"
[component.config.variables]
greeting = "{{ greeting }}"
[component.kv]
source = "key_value.wasm"
key_value_stores = ["default"]
"#;
    let (_dir, manifest) = app(&["config", "key_value"], manifest);
    let up = SpinUp::start(&manifest, &[]);

    let greeting = up.get("/config");
    assert_eq!(
        (greeting.status, greeting.text().as_str()),
        (200, "hello from spin 1")
    );
    let missing =
        support::http::request(up.addr, "GET", "/config", &[("x-key", "missing")], b"").unwrap();
    // `provider` (case 0), as Spin reports a variable the component lacks.
    assert_eq!(missing.status, 500);
    assert!(missing.text().starts_with("0:"), "{}", missing.text());
    let invalid =
        support::http::request(up.addr, "GET", "/config", &[("x-key", "Not-A-Name")], b"").unwrap();
    // `invalid-key` (case 1).
    assert!(invalid.text().starts_with("1:"), "{}", invalid.text());

    // The value read back, `exists` of a missing key false, `get` of it
    // `no-such-key` (case 4), one key, gone after `delete`.
    let kv = support::http::request(up.addr, "POST", "/kv", &[], b"stored").unwrap();
    assert_eq!((kv.status, kv.text().as_str()), (200, "stored|0|4|1|0"));
    // A store the component is not granted: `access-denied` (case 2).
    let denied =
        support::http::request(up.addr, "POST", "/kv", &[("x-store", "other")], b"x").unwrap();
    assert_eq!((denied.status, denied.text().as_str()), (500, "open:2"));
    up.wait_for_stderr("key_value_stores");
}

#[test]
fn a_spin_1_module_sends_http_requests_and_redis_commands_its_manifest_allows() {
    let upstream = Upstream::start(None);
    let port = upstream.port;
    let deleted = std::process::Command::new("redis-cli")
        .args(["-n", "12", "del", "spin1-counter"])
        .output()
        .unwrap();
    assert!(deleted.status.success());
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "spin1"
[[trigger.http]]
route = "/http"
component = "http"
[[trigger.http]]
route = "/redis"
component = "redis"
[[trigger.http]]
route = "/sqlite"
component = "sqlite"
[component.http]
source = "outbound_http.wasm"
allowed_outbound_hosts = ["http://127.0.0.1:{port}"]
[component.redis]
source = "redis.wasm"
allowed_outbound_hosts = ["redis://127.0.0.1:6379"]
[component.sqlite]
source = "sqlite.wasm"
sqlite_databases = ["default"]
"#
    );
    let (_dir, manifest) = app(&["outbound_http", "redis", "sqlite"], &manifest);
    let up = SpinUp::start(&manifest, &[]);

    // The request's header reached the upstream, and its answer came back.
    let url = format!("http://127.0.0.1:{port}/header/x-from");
    let sent = support::http::request(up.addr, "GET", "/http", &[("x-url", &url)], b"").unwrap();
    assert_eq!((sent.status, sent.text().as_str()), (200, "200|spin1"));
    // `host` is the host's to set, from the URL: the module's is left out,
    // with a warning.
    let url = format!("http://127.0.0.1:{port}/header/host");
    let host = support::http::request(up.addr, "GET", "/http", &[("x-url", &url)], b"").unwrap();
    assert_eq!(host.text(), format!("200|127.0.0.1:{port}"));
    up.wait_for_stderr("the outbound request's headers host were left out");
    // Not allowed: `destination-not-allowed` (case 1), and the log says
    // what to add.
    let other = format!("http://127.0.0.1:{}/", support::spin::free_port());
    let denied =
        support::http::request(up.addr, "GET", "/http", &[("x-url", &other)], b"").unwrap();
    assert_eq!((denied.status, denied.text().as_str()), (502, "error:1"));
    up.wait_for_stderr("is not allowed to send a request to");
    // Not a URL: `invalid-url` (case 2).
    let invalid =
        support::http::request(up.addr, "GET", "/http", &[("x-url", "http://[::1")], b"").unwrap();
    assert_eq!(invalid.text(), "error:2");

    // SET, GET, INCR and DEL on the real Redis.
    let address = [("x-address", "redis://127.0.0.1:6379/12")];
    let redis = support::http::request(up.addr, "POST", "/redis", &address, b"kept").unwrap();
    assert_eq!((redis.status, redis.text().as_str()), (200, "kept|1|1"));
    let again = support::http::request(up.addr, "POST", "/redis", &address, b"again").unwrap();
    assert_eq!(again.text(), "again|2|1");
    // An address the manifest does not allow.
    let elsewhere = [("x-address", "redis://127.0.0.1:6380/12")];
    let refused = support::http::request(up.addr, "POST", "/redis", &elsewhere, b"x").unwrap();
    assert_eq!((refused.status, refused.text().as_str()), (500, "error"));

    // A statement with a parameter on the default database: two columns,
    // 41 + 1.
    let sqlite = up.get("/sqlite");
    assert_eq!((sqlite.status, sqlite.text().as_str()), (200, "2|42"));
}

#[test]
fn a_spin_1_module_queries_postgresql_and_mysql_its_manifest_allows() {
    let manifest = r#"spin_manifest_version = 2
[application]
name = "spin1"
[[trigger.http]]
route = "/rdbms"
component = "rdbms"
[component.rdbms]
source = "rdbms.wasm"
allowed_outbound_hosts = ["postgres://127.0.0.1:5432", "mysql://127.0.0.1:3306"]
"#;
    let (_dir, manifest) = app(&["rdbms"], manifest);
    let up = SpinUp::start(&manifest, &[]);
    let run = |db: &str, address: &str, statement: &str| {
        let headers = [
            ("x-db", db),
            ("x-address", address),
            ("x-statement", statement),
        ];
        let answer = support::http::request(up.addr, "GET", "/rdbms", &headers, b"").unwrap();
        (answer.status, answer.text())
    };
    let pg = "postgres://postgres:postgres@127.0.0.1:5432/postgres";
    let mysql = "mysql://root@127.0.0.1:3306/test";

    // Two columns; the first an int32 (case 3) on PostgreSQL, an int64
    // (case 4) on MySQL, 41 + 1 either way.
    let sum = run("pg", pg, "SELECT $1::int4 + 1 AS n, 'two' AS s");
    assert_eq!(sum, (200, "2|n|3|42".to_owned()));
    let sum = run("mysql", mysql, "SELECT ? + 1 AS n, 'two' AS s");
    assert_eq!(sum, (200, "2|n|4|42".to_owned()));

    // A statement the server refuses: `query-failed` (case 3), its text.
    let (status, text) = run("pg", pg, "SELECT * FROM no_such_table_spin1 WHERE 1 = $1");
    assert_eq!(status, 500);
    assert!(
        text.starts_with("3:") && text.contains("no_such_table_spin1"),
        "{text}"
    );
    // A server the manifest does not allow.
    let (status, text) = run(
        "pg",
        "postgres://postgres:postgres@127.0.0.1:5433/postgres",
        "SELECT $1::int4",
    );
    assert_eq!(status, 500);
    // `connection-failed` (case 1), as the 2.0 interface reports it.
    assert!(text.starts_with("1:"), "{text}");
    up.wait_for_stderr("postgres://127.0.0.1:5433");
}

#[test]
fn a_redis_triggered_spin_1_module_handles_each_message() {
    let redis = |args: &[&str]| {
        let out = std::process::Command::new("redis-cli")
            .args(["-n", "12"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    redis(&["del", "spin1-message"]);
    let manifest = r#"spin_manifest_version = 2
[application]
name = "spin1"
[application.trigger.redis]
address = "redis://127.0.0.1:6379"
[[trigger.redis]]
channel = "spin1-modules"
component = "listener"
[component.listener]
source = "listener.wasm"
allowed_outbound_hosts = ["redis://127.0.0.1:6379"]
"#;
    let (_dir, manifest) = app(&["listener"], manifest);
    let up = SpinUp::start_without_http(&manifest, &[], "Subscribed to Redis channels");
    assert_eq!(redis(&["publish", "spin1-modules", "first"]), "1");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while redis(&["get", "spin1-message"]) != "first" {
        assert!(std::time::Instant::now() < deadline, "{}", up.stderr());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // A message the module fails is logged with its error; the next one
    // is handled.
    assert_eq!(redis(&["publish", "spin1-modules", "fail"]), "1");
    up.wait_for_stderr("the handler returned Error");
    assert_eq!(redis(&["publish", "spin1-modules", "second"]), "1");
    while redis(&["get", "spin1-message"]) != "second" {
        assert!(std::time::Instant::now() < deadline, "{}", up.stderr());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_spin_1_module_gets_an_error_for_what_it_may_not_do_and_the_server_goes_on() {
    let upstream = Upstream::start(None);
    let port = upstream.port;
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "spin1"
[[trigger.http]]
route = "/handles"
component = "handles"
[[trigger.http]]
route = "/headers"
component = "headers"
[[trigger.http]]
route = "/http"
component = "http"
[component.handles]
source = "handles.wasm"
key_value_stores = ["default"]
[component.headers]
source = "headers.wasm"
[component.http]
source = "outbound_http.wasm"
allowed_outbound_hosts = ["http://127.0.0.1:{port}"]
"#
    );
    let (_dir, manifest) = app(&["handles", "headers", "outbound_http"], &manifest);
    let up = SpinUp::start(
        &manifest,
        &[
            "--max-instance-memory",
            "1M",
            "--max-handles-per-instance",
            "3",
        ],
    );

    // Numbers it was never given, a store's number as a SQLite connection,
    // a store after its close: `invalid-store` (3) or `invalid-connection`
    // (2), never another instance's handle or a trap; closing twice, or
    // closing a number never opened, changes nothing. Past
    // `--max-handles-per-instance` stores an open is `store-table-full`
    // (0), logged once with the flag to raise.
    let handles = up.get("/handles");
    assert_eq!(
        (handles.status, handles.text().as_str()),
        (200, "3|2|2|3|3|0")
    );
    up.wait_for_stderr("tried to hold more key-value stores open at once than the 3 it may");
    up.wait_for_stderr("raise `spin up --max-handles-per-instance`");

    // Response headers HTTP cannot carry are left out with a warning; the
    // good ones are sent, a repeated one with each of its values. The
    // module's `content-length` and `transfer-encoding` are left out too:
    // the server frames the body by its real length, so a module cannot
    // end its response early and have the rest taken as the answer to the
    // client's next request on the connection.
    let headers = up.get("/headers");
    assert_eq!(headers.status, 200);
    assert_eq!(headers.text(), "hello world");
    assert_eq!(headers.header("content-length"), Some("11"));
    assert_eq!(headers.header("transfer-encoding"), None);
    up.wait_for_stderr(
        "the response headers content-length, transfer-encoding were left out (the server frames the response",
    );
    let exchange = support::http::raw_exchange(
        up.addr,
        "GET /headers HTTP/1.1\r\nhost: x\r\nx-no-body: 1\r\n\r\nGET /headers HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    assert_eq!(exchange.matches("HTTP/1.1 200").count(), 2, "{exchange}");
    assert_eq!(
        exchange.matches("content-length: 0\r\n").count(),
        1,
        "{exchange}"
    );
    assert!(exchange.contains("content-length: 11\r\n"), "{exchange}");
    assert!(exchange.ends_with("hello world"), "{exchange}");
    // The answer to a HEAD request has no body: the module's length (11,
    // that of its GET's body) is stated, and nothing follows the head.
    let head = support::http::raw_exchange(
        up.addr,
        "HEAD /headers HTTP/1.1\r\nhost: x\r\nx-no-body: 1\r\n\r\nGET /headers HTTP/1.1\r\nhost: x\r\nx-no-body: 1\r\nconnection: close\r\n\r\n",
    );
    let (head_answer, get_answer) = head.split_at(head.rfind("HTTP/1.1 200").unwrap());
    assert!(head_answer.contains("content-length: 11\r\n"), "{head}");
    assert!(head_answer.ends_with("\r\n\r\n"), "{head}");
    // A GET without a body states the length of what it sends.
    assert!(get_answer.contains("content-length: 0\r\n"), "{head}");
    assert_eq!(headers.header("x-ok"), Some("1"));
    let twice: Vec<&str> = headers
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("x-twice"))
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(twice, ["1", "2"]);
    assert_eq!(headers.header("bad name"), None);
    assert_eq!(headers.header("x-newline"), None);
    up.wait_for_stderr("the response headers bad name, x-newline were left out");

    // A response larger than the instance may hold (1 MiB here) is not
    // read into it: `request-error` (3), and the log says why. One that
    // fits arrives whole.
    let url = format!("http://127.0.0.1:{port}/bytes/2000000");
    let big = support::http::request(up.addr, "GET", "/http", &[("x-url", &url)], b"").unwrap();
    assert_eq!((big.status, big.text().as_str()), (502, "error:3"));
    up.wait_for_stderr("a Spin 1 module reads it whole, up to 1048576 bytes");
    let url = format!("http://127.0.0.1:{port}/bytes/1000");
    let fits = support::http::request(up.addr, "GET", "/http", &[("x-url", &url)], b"").unwrap();
    assert_eq!(fits.text(), format!("200|{}", "x".repeat(1000)));
}

#[test]
fn a_module_this_host_cannot_serve_stops_spin_up_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, wat: &str| {
        std::fs::write(dir.path().join(name), wat::parse_str(wat).unwrap()).unwrap();
    };
    write(
        "other.wasm",
        r#"(module (import "env" "get-config" (func (param i32 i32 i32)))
             (memory (export "memory") 1)
             (func (export "handle-http-request")
               (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32) i32.const 0))"#,
    );
    let manifest = dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        "spin_manifest_version = 2\n[application]\nname = \"pg\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"pg\"\n[component.pg]\nsource = \"other.wasm\"\n",
    )
    .unwrap();
    let err = fails_to_start(dir.path(), &manifest, &[]);
    assert!(
        err.contains("imports `env::get-config`, which is neither WASI preview 1 nor one of Spin 1's interfaces"),
        "{err}"
    );
    assert!(
        err.contains("hint: rebuild it with a current Spin SDK"),
        "{err}"
    );

    // Bytes that begin as a module but are not one; a module that is not a
    // Spin module (no Spin 1 export, no world).
    std::fs::write(
        dir.path().join("other.wasm"),
        b"\0asm\x01\0\0\0\x01\xff\xff",
    )
    .unwrap();
    let err = fails_to_start(dir.path(), &manifest, &[]);
    assert!(err.contains("loading component `pg`"), "{err}");
    assert!(
        err.contains("it is not a valid WebAssembly module"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    write("other.wasm", r#"(module (func (export "run")))"#);
    let err = fails_to_start(dir.path(), &manifest, &[]);
    assert!(err.contains("so it is not a Spin module"), "{err}");
    assert!(
        err.contains("hint: a Spin component is a WebAssembly component, or a module built by one of Spin 1's SDKs"),
        "{err}"
    );
}
