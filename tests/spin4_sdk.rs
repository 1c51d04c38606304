//! Apps built with today's official Python SDK — spin-sdk 4.0 (WASI
//! 0.3.0-rc-2026-03-15) and 5.0 (WASI 0.3.0), each with the componentize-py
//! it pins — through the real `spin` binary: `wasi:http@0.3` handlers,
//! Spin 4's interfaces against the machine's real Redis and Mosquitto,
//! outbound HTTP under the allow list, streaming bodies, and instance reuse.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::Duration;
use support::http::request;
use support::python::{Spin4Sdk, test_app};
use support::spin::{SpinUp, app_dir};

const MANIFEST: &str = r#"
spin_manifest_version = 2

[application]
name = "spin4-platform"

[variables]
greeting = { default = "hello from a variable" }

[[trigger.http]]
route = "/..."
component = "platform"

[component.platform]
source = "{source}"
key_value_stores = ["default"]
sqlite_databases = ["default"]
allowed_outbound_hosts = ["redis://127.0.0.1:6379", "mqtt://127.0.0.1:1883", "postgres://127.0.0.1:5432", "mysql://127.0.0.1:3306", "http://127.0.0.1:{upstream}", "http://self"]
variables = { greeting = "{{ greeting }}" }
"#;

/// A loopback HTTP server answering every request `200 upstream says hi`.
fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let body = "upstream says hi";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

/// `spin up` of the platform test app built with `sdk`, allowed to reach
/// `upstream`.
fn start(sdk: Spin4Sdk, upstream: SocketAddr) -> (tempfile::TempDir, SpinUp) {
    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let manifest = MANIFEST.replace("{upstream}", &upstream.port().to_string());
    let (dir, manifest) = app_dir(&manifest, &component);
    let up = SpinUp::start(&manifest, &[]);
    (dir, up)
}

/// `spin up` of the platform test app built with spin-sdk 5.0 (no
/// upstream), with `args`.
fn start_v5_with(args: &[&str]) -> (tempfile::TempDir, SpinUp) {
    let sdk = Spin4Sdk::V5;
    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let manifest = MANIFEST.replace("{upstream}", "1");
    let (dir, manifest) = app_dir(&manifest, &component);
    let up = SpinUp::start(&manifest, args);
    (dir, up)
}

/// The server's log, once it holds `needle`.
fn expect_log(up: &SpinUp, needle: &str) -> String {
    let log = up.wait_for_stderr(needle);
    assert!(
        log.contains(needle),
        "expected `{needle}` in the log:\n{log}"
    );
    log
}

#[test]
fn spin4_interfaces_with_both_sdks() {
    let upstream = upstream();
    for sdk in Spin4Sdk::ALL {
        let (_dir, up) = start(sdk, upstream);
        let get = |path: &str| {
            let resp = up.get(path);
            (resp.status, resp.text())
        };

        assert_eq!(
            get("/hello"),
            (200, "hello from spin-sdk".into()),
            "{sdk:?}"
        );

        // spin:key-value@3.0.0, keys listed as a stream.
        let (status, kv) = get(&format!("/kv?{sdk:?}"));
        assert_eq!(status, 200, "{sdk:?}: {kv}");
        assert_eq!(
            kv,
            format!(
                r#"{{"got": "v-{sdk:?}", "exists": true, "keys": ["k-{sdk:?}"], "gone": true}}"#
            ),
            "{sdk:?}"
        );
        assert_eq!(
            get("/kv-denied"),
            (403, "Error_AccessDenied".into()),
            "{sdk:?}"
        );
        expect_log(&up, "opened the key-value store `not-granted`");

        // wasi:keyvalue (store, atomics, batch) on the same store.
        let (status, wasi_kv) = get(&format!("/wasi-kv?{sdk:?}"));
        assert_eq!(status, 200, "{sdk:?}: {wasi_kv}");
        let wasi_kv: serde_json::Value = serde_json::from_str(&wasi_kv).unwrap();
        assert_eq!(wasi_kv["increments"], serde_json::json!([5, 3]));
        assert_eq!(wasi_kv["cas_before"], serde_json::Value::Null);
        assert_eq!(wasi_kv["lost"], "CasError_CasFailed");
        assert_eq!(
            wasi_kv["many"],
            serde_json::json!([
                [format!("b1-{sdk:?}"), "one"],
                [format!("b2-{sdk:?}"), "two"],
                [format!("none-{sdk:?}"), null]
            ])
        );
        assert_eq!(
            wasi_kv["listed"],
            serde_json::json!([
                format!("b1-{sdk:?}"),
                format!("b2-{sdk:?}"),
                format!("cas-{sdk:?}"),
                format!("count-{sdk:?}")
            ])
        );
        assert_eq!(wasi_kv["remaining"], false);
        assert_eq!(wasi_kv["spin_kv_sees_delete"], true);

        // spin:variables@3.0.0.
        assert_eq!(
            get("/variable?greeting"),
            (200, "hello from a variable".into())
        );
        let (status, undefined) = get("/variable?nope");
        assert_eq!(status, 404);
        assert!(undefined.starts_with("Error_Undefined"), "{undefined}");

        // spin:sqlite@3.1.0: rows as a stream, the insert's row id and
        // change count.
        let (status, sqlite) = get("/sqlite?rex");
        assert_eq!(status, 200, "{sdk:?}: {sqlite}");
        let sqlite: serde_json::Value = serde_json::from_str(&sqlite).unwrap();
        assert_eq!(sqlite["changes"], 1);
        assert_eq!(sqlite["columns"], serde_json::json!(["id", "name"]));
        assert_eq!(
            sqlite["rows"],
            serde_json::json!([[sqlite["rowid"], "rex"]])
        );

        // spin:redis@3.0.0 against the machine's Redis.
        let (status, redis) = get(&format!("/redis?{sdk:?}"));
        assert_eq!(status, 200, "{sdk:?}: {redis}");
        assert_eq!(
            redis,
            r#"{"got": "hello", "count": 1, "echo": "echoed", "deleted": 2}"#
        );
        assert_eq!(get("/redis-denied"), (403, "Error_InvalidAddress".into()));
        expect_log(
            &up,
            "not allowed to connect to Redis at `redis://127.0.0.1:6380`",
        );

        // spin:postgres@4.2.0 against the machine's PostgreSQL, opened with
        // a libpq key=value string; the allow list applies to it too.
        let (status, pg) = get(&format!("/postgres?{}", format!("{sdk:?}").to_lowercase()));
        assert_eq!(status, 200, "{sdk:?}: {pg}");
        assert_eq!(
            pg,
            r#"{"inserted": 1, "columns": ["id", "name"], "rows": [[7, "seven"]]}"#
        );
        let (status, denied) = get("/postgres-denied");
        assert_eq!(status, 403, "{denied}");
        assert!(denied.starts_with("Error_ConnectionFailed"), "{denied}");
        expect_log(
            &up,
            "not allowed to connect to PostgreSQL at `postgres://postgres@127.0.0.1:5433/test`",
        );

        // MySQL against the machine's MariaDB: spin-sdk 4.0 uses the 2.0
        // interface, 5.0 `spin:mysql@3.0.0`.
        let (status, my) = get("/mysql");
        assert_eq!(status, 200, "{sdk:?}: {my}");
        assert_eq!(my, r#"{"columns": ["answer"], "rows": [[42]]}"#);

        // spin:mqtt@3.0.0 against the machine's Mosquitto.
        let topic = format!("spin4-test-{}-{sdk:?}", std::process::id());
        let mut subscriber = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-t", &topic, "-C", "1", "-W", "30"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("mosquitto_sub (mosquitto-clients) is installed");
        // mosquitto_sub has no "subscribed" signal: publish until it gets one.
        let mut received = String::new();
        for _ in 0..50 {
            assert_eq!(get(&format!("/mqtt?{topic}")), (200, "published".into()));
            if subscriber.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        subscriber.wait().unwrap();
        subscriber
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut received)
            .unwrap();
        assert_eq!(received.trim(), "from spin-sdk", "{sdk:?}");

        // wasi:http/client under the allow list.
        let fetch = |url: &str| {
            let resp = request(up.addr, "GET", "/outbound", &[("x-url", url)], b"").unwrap();
            (resp.status, resp.text())
        };
        assert_eq!(
            fetch(&format!("http://{upstream}/")),
            (200, "200 upstream says hi".into()),
            "{sdk:?}"
        );
        // A relative URL is this application, allowed by `http://self`.
        assert_eq!(
            fetch("/hello"),
            (200, "200 hello from spin-sdk".into()),
            "{sdk:?}"
        );
        let (status, refused) = fetch("http://127.0.0.1:9/");
        assert_eq!(status, 502);
        assert_eq!(refused, "ErrorCode_HttpRequestDenied");
        expect_log(&up, "HttpError::DestinationNotAllowed");

        // A request body of several megabytes, echoed back.
        let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let echoed = request(up.addr, "POST", "/echo", &[], &body).unwrap();
        assert_eq!(echoed.status, 200);
        assert!(echoed.body == body, "{sdk:?}: the echoed body differs");

        // An uncaught exception is that request's 500, with the traceback
        // naming the app's file and line, and the server keeps serving.
        assert_eq!(get("/fail").0, 500);
        let log = expect_log(&up, "ValueError: failing on purpose");
        assert!(log.contains("app.py\", line"), "{log}");
        assert_eq!(get("/hello").0, 200);
    }
}

#[test]
fn wasi03_instances_are_reused_by_default_and_not_with_a_count_of_one() {
    let upstream = upstream();
    let sdk = Spin4Sdk::V5;
    let (_dir, up) = start(sdk, upstream);
    // An instance goes back to the pool once the guest has finished, which
    // may be just after the client has its response: most, not all, of
    // these requests find it there.
    let counts: Vec<u32> = (0..8)
        .map(|_| up.get("/served").text().parse().unwrap())
        .collect();
    assert!(
        counts.iter().any(|&served| served > 1),
        "one instance serves requests in turn: {counts:?}"
    );
    drop(up);

    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let manifest = MANIFEST.replace("{upstream}", &upstream.port().to_string());
    let (_dir, manifest) = app_dir(&manifest, &component);
    let up = SpinUp::start(&manifest, &["--max-instance-reuse-count", "1"]);
    let counts: Vec<u32> = (0..4)
        .map(|_| up.get("/served").text().parse().unwrap())
        .collect();
    assert_eq!(counts, [1, 1, 1, 1], "a fresh instance per request");
}

/// A loopback server that answers only once `n` requests are in flight at
/// once (or after 20 s): a client that sends them one after another gets
/// `sequential`, one that sends them together gets `concurrent` for each.
fn rendezvous(n: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let barrier = Arc::new(Barrier::new(n));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let (tx, rx) = std::sync::mpsc::channel();
                std::thread::spawn(move || {
                    barrier.wait();
                    let _ = tx.send(());
                });
                let body = match rx.recv_timeout(Duration::from_secs(20)) {
                    Ok(()) => "concurrent",
                    Err(_) => "sequential",
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    addr
}

#[test]
fn streaming_handler_of_the_wasi_http_service_world() {
    // spin-sdk 4.0's low-level world: `wasi:http/service@0.3.0-rc-2026-03-15`.
    let sdk = Spin4Sdk::V4;
    let component = sdk.build(
        &test_app("spin4-streaming"),
        "wasi:http/service@0.3.0-rc-2026-03-15",
    );
    let server = rendezvous(2);
    let manifest = MANIFEST.replace("{upstream}", &server.port().to_string());
    let (_dir, manifest) = app_dir(&manifest, &component);
    let up = SpinUp::start(&manifest, &[]);

    // The body is written by a task the handler left running after it
    // returned the response.
    let counted = up.get("/count");
    assert_eq!(counted.status, 200);
    assert_eq!(counted.text(), "1\n2\n3\n4\n5\n");

    // The request body streams back as the response body.
    let body: Vec<u8> = (0..5_000_000u32).map(|i| (i % 253) as u8).collect();
    let echoed = request(up.addr, "POST", "/echo", &[], &body).unwrap();
    assert_eq!(echoed.status, 200);
    assert!(echoed.body == body, "the echoed body differs");

    // A body sent as many small chunks reaches the guest joined: each
    // read costs the guest far more than parsing a chunk costs the host,
    // so one read per chunk let a client burn CPU cheaply.
    let chunks = 20_000;
    let mut raw = String::from(
        "POST /count-reads HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
    );
    raw.push_str(&"1\r\nx\r\n".repeat(chunks));
    raw.push_str("0\r\n\r\n");
    let counted = support::http::raw_exchange(up.addr, &raw);
    let reads: usize = counted
        .split_once(&format!("{chunks} bytes in "))
        .and_then(|(_, rest)| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of reads: {counted}"));
    assert!(reads <= 2_000, "{chunks} chunks took {reads} reads");

    // Two outbound requests in flight at once from one handler.
    let target = format!("127.0.0.1:{}/x", server.port());
    let both = request(
        up.addr,
        "GET",
        "/fetch-all",
        &[("x-target", &target), ("x-target", &target)],
        b"",
    )
    .unwrap();
    assert_eq!(both.status, 200);
    assert_eq!(both.text(), "200 concurrent\n200 concurrent\n");

    // A handler that fails after the head and part of the body: the body
    // is cut off without its last chunk, so the client can tell.
    let raw = support::http::raw_get(up.addr, "/fail-midway");
    assert!(
        raw.starts_with("HTTP/1.1 200") && raw.contains("part one"),
        "{raw}"
    );
    assert!(!raw.ends_with("0\r\n\r\n"), "ended as if complete: {raw:?}");
    expect_log(&up, "failing mid-stream on purpose");
    assert_eq!(up.get("/count").text(), "1\n2\n3\n4\n5\n", "serving on");
}

/// A directory holding `manifest` as `spin.toml` and each component as
/// `<name>.wasm` beside it.
fn app_of(components: &[(&str, &Path)], manifest: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for (name, component) in components {
        std::os::unix::fs::symlink(component, dir.path().join(format!("{name}.wasm"))).unwrap();
    }
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    (dir, path)
}

#[test]
fn service_chaining_reaches_a_component_in_process() {
    // The front (spin-sdk 5.0, wasi:http 0.3) calls the back (spin-sdk 3.x,
    // wasi:http 0.2, which reflects what it is given) at
    // `http://back.spin.internal`, which only the front's allow list grants.
    let front = Spin4Sdk::V5.build(&test_app("spin4-platform"), Spin4Sdk::V5.http_world());
    let back = support::python::build_sdk_app(&test_app("sdk-http"));
    let (_dir, manifest) = app_of(
        &[("front", &front), ("back", &back)],
        r#"
spin_manifest_version = 2

[application]
name = "chained"

[[trigger.http]]
route = "/front/..."
component = "front"

[[trigger.http]]
route = "/back/..."
component = "back"

[[trigger.http]]
route = "/other/..."
component = "other"

[component.front]
source = "front.wasm"
allowed_outbound_hosts = ["http://back.spin.internal", "http://nope.spin.internal", "http://self"]

[component.back]
source = "back.wasm"

[component.other]
source = "front.wasm"
"#,
    );
    let up = SpinUp::start(&manifest, &[]);
    let call = |path: &str, url: &str| {
        let resp = request(up.addr, "GET", path, &[("x-url", url)], b"").unwrap();
        (resp.status, resp.text())
    };

    let (status, body) = call("/front/outbound", "http://back.spin.internal/items/7?q=1");
    assert_eq!(status, 200, "{body}");
    let reflected: serde_json::Value =
        serde_json::from_str(body.strip_prefix("200 ").expect("the back answered 200")).unwrap();
    assert_eq!(reflected["uri"], "/items/7?q=1");
    assert_eq!(reflected["headers"]["spin-path-info"], "/items/7");
    assert_eq!(reflected["headers"]["spin-component-route"], "");
    assert!(
        reflected["headers"].get("spin-chain-depth").is_none(),
        "{reflected}"
    );

    // A client's own `spin-chain-depth` never reaches the guest either.
    let forged = request(
        up.addr,
        "GET",
        "/back/items/9",
        &[("spin-chain-depth", "99")],
        b"",
    )
    .unwrap();
    let reflected: serde_json::Value = serde_json::from_str(&forged.text()).unwrap();
    assert!(
        reflected["headers"].get("spin-chain-depth").is_none(),
        "{reflected}"
    );

    // To the application itself, in-process like a chained request: the
    // callee sees no chain-depth header.
    let (status, body) = call("/front/outbound", "/back/items/8");
    assert_eq!(status, 200, "{body}");
    let reflected: serde_json::Value =
        serde_json::from_str(body.strip_prefix("200 ").expect("the back answered 200")).unwrap();
    assert_eq!(reflected["headers"]["spin-path-info"], "/items/8");
    assert_eq!(
        reflected["headers"]["spin-full-url"],
        "http://self.alt/back/items/8"
    );
    assert!(
        reflected["headers"].get("spin-chain-depth").is_none(),
        "{reflected}"
    );

    // Not granted: refused like any other host.
    let (status, refused) = call("/other/outbound", "http://back.spin.internal/items");
    assert_eq!(
        (status, refused.as_str()),
        (502, "ErrorCode_HttpRequestDenied")
    );
    expect_log(
        &up,
        "is not allowed to send a request to `http://back.spin.internal/items`",
    );

    // A component that does not exist: an error, not a hang.
    let (status, missing) = call("/front/outbound", "http://nope.spin.internal/");
    assert_eq!(status, 502, "{missing}");
}

#[test]
fn a_chain_of_in_process_requests_stops_at_its_depth_limit() {
    // Two components that call themselves through service chaining until
    // the host refuses: one built with spin-sdk 5.0 (wasi:http 0.3, an
    // instance may serve several requests), one with spin-sdk 3.x
    // (wasi:http 0.2, one request per instance at a time).
    let v5 = Spin4Sdk::V5.build(&test_app("spin4-platform"), Spin4Sdk::V5.http_world());
    let v3 = support::python::build_sdk_app(&test_app("sdk-outbound"));
    let (_dir, manifest) = app_of(
        &[("v5", &v5), ("v3", &v3)],
        r#"
spin_manifest_version = 2

[application]
name = "loops"

[[trigger.http]]
route = "/v5/..."
component = "v5"

[[trigger.http]]
route = "/v3/..."
component = "v3"

[component.v5]
source = "v5.wasm"
allowed_outbound_hosts = ["http://v5.spin.internal", "http://self"]

[component.v3]
source = "v3.wasm"
allowed_outbound_hosts = ["http://v3.spin.internal", "http://self"]
"#,
    );
    let up = SpinUp::start(&manifest, &["--max-chain-depth", "3"]);

    // Three hops get through; the fourth is refused as a loop.
    let url = "http://v5.spin.internal/chain";
    let v5 = request(up.addr, "GET", "/v5/chain", &[("x-url", url)], b"").unwrap();
    assert_eq!(
        (v5.status, v5.text().as_str()),
        (200, "hop hop hop ErrorCode_LoopDetected")
    );
    expect_log(
        &up,
        "request to `http://v5.spin.internal/chain` refused: it would be hop 4 of a chain of in-process requests, and at most 3 are allowed",
    );

    let v3 = up.get("/v3/chain?url=http://v3.spin.internal/chain");
    let text = v3.text();
    assert_eq!(v3.status, 200, "{text}");
    assert!(
        text.starts_with("hop hop hop error: ") && text.contains("LoopDetected"),
        "{text}"
    );

    // To the application itself (a relative URL: `http://self`), the depth
    // counts the same.
    let v5 = request(up.addr, "GET", "/v5/chain", &[("x-url", "/v5/chain")], b"").unwrap();
    assert_eq!(
        (v5.status, v5.text().as_str()),
        (200, "hop hop hop ErrorCode_LoopDetected")
    );
    let v3 = up.get("/v3/chain?url=/v3/chain").text();
    assert!(
        v3.starts_with("hop hop hop error: ") && v3.contains("LoopDetected"),
        "{v3}"
    );

    // One hop per client request, many requests: the depth of a request
    // that has its response no longer counts (an instance is reused).
    for _ in 0..6 {
        let once = request(
            up.addr,
            "GET",
            "/v5/outbound",
            &[("x-url", "http://v5.spin.internal/hello")],
            b"",
        )
        .unwrap();
        assert_eq!(
            (once.status, once.text().as_str()),
            (200, "200 hello from spin-sdk")
        );
    }

    // The server goes on serving.
    assert_eq!(up.get("/v5/hello").text(), "hello from spin-sdk");
}

/// A chained request never waits for a slot its caller holds: with one
/// slot for clients, a client's request reaches another component in
/// process (it waited out `--max-queue-wait` and failed with 503 when
/// in-process requests took clients' slots). In-process requests have as
/// many slots again, taken at once or answered 503 at once: here the
/// second hop finds the one slot held by the first.
#[test]
fn a_chained_request_does_not_wait_for_the_slot_its_caller_holds() {
    let component = Spin4Sdk::V5.build(&test_app("spin4-platform"), Spin4Sdk::V5.http_world());
    let (_dir, manifest) = app_of(
        &[("front", &component)],
        r#"
spin_manifest_version = 2

[application]
name = "chained-slots"

[[trigger.http]]
route = "/front/..."
component = "front"

[[trigger.http]]
route = "/back/..."
component = "back"

[component.front]
source = "front.wasm"
allowed_outbound_hosts = ["http://back.spin.internal", "http://front.spin.internal"]

[component.back]
source = "front.wasm"
"#,
    );
    let up = SpinUp::start(
        &manifest,
        &["--max-concurrent-requests", "1", "--max-queue-wait", "1"],
    );
    let call = |path: &str, url: &str| {
        let resp = request(up.addr, "GET", path, &[("x-url", url)], b"").unwrap();
        (resp.status, resp.text())
    };
    for _ in 0..3 {
        assert_eq!(
            call("/front/outbound", "http://back.spin.internal/hello"),
            (200, "200 hello from spin-sdk".to_owned())
        );
    }
    let (status, body) = call("/front/chain", "http://front.spin.internal/chain");
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        "hop hop Service Unavailable: the server is at its limit of concurrent in-process requests (service chaining); retry later"
    );
    expect_log(
        &up,
        "in-process requests (service chaining, requests to the application itself) hold all 1 of their slots",
    );
    // The slots are given back: the server serves on.
    assert_eq!(
        call("/front/outbound", "http://back.spin.internal/hello"),
        (200, "200 hello from spin-sdk".to_owned())
    );
}

#[test]
fn a_postgres_connection_builder_verifies_with_the_ca_root_it_is_given() {
    // The machine's PostgreSQL serves Debian's self-signed certificate for
    // `localhost`; the builder (spin:postgres@4.2.0) is given it as its CA
    // root. A CA root makes the connection verified: `verify-full` unless
    // the address asks `verify-ca`.
    let (_dir, up) = start(Spin4Sdk::V5, upstream());
    let pem = std::fs::read("/etc/ssl/certs/ssl-cert-snakeoil.pem")
        .expect("PostgreSQL's certificate (Debian's ssl-cert package)");
    let build = |address: &str, pem: &[u8]| {
        let resp = request(
            up.addr,
            "POST",
            "/postgres-ca",
            &[("x-address", address)],
            pem,
        )
        .unwrap();
        (resp.status, resp.text())
    };
    let chain_only = "host=127.0.0.1 user=postgres dbname=test sslmode=verify-ca";
    assert_eq!(build(chain_only, &pem), (200, "[[true]]".into()));
    let (status, wrong_name) = build("postgres://postgres@127.0.0.1:5432/test", &pem);
    assert_eq!(status, 502, "{wrong_name}");
    assert!(
        wrong_name.contains("certificate not valid for name \"127.0.0.1\""),
        "{wrong_name}"
    );
    let (status, not_pem) = build(chain_only, b"hello");
    assert_eq!(status, 502, "{not_pem}");
    assert!(
        not_pem.contains("the CA root holds no PEM certificate"),
        "{not_pem}"
    );
    let (_, plain) = build(
        "host=127.0.0.1 user=postgres dbname=test sslmode=disable",
        &pem,
    );
    assert!(
        plain.contains("sslmode=disable leaves no TLS for the CA root to verify"),
        "{plain}"
    );
}

#[test]
fn a_database_result_larger_than_the_result_cap_fails_that_request_only() {
    let (_dir, up) = start_v5_with(&["--max-result-size", "1M"]);
    // PostgreSQL (spin:postgres@4.2.0), then MySQL (spin:mysql@3.0.0).
    for route in ["/postgres-huge", "/mysql-huge"] {
        let huge = up.get(route);
        assert_eq!(huge.status, 413, "{route}: {}", huge.text());
        assert!(
            huge.text()
                .contains("larger than 1048576 bytes, the most the host reads for one result (`spin up --max-result-size`"),
            "{route}: {}",
            huge.text()
        );
    }
    // One row past the cap is not read at all: MySQL's client takes the
    // cap as its `max_allowed_packet`; PostgreSQL's messages are framed
    // as they arrive.
    for (route, says) in [
        (
            "/mysql-huge?row",
            "packet too large: one row, or a statement with its parameters, is larger than the most the host reads",
        ),
        (
            "/postgres-huge?row",
            "a message from PostgreSQL (a row, or the description of a result's columns) is larger than 1048576 bytes",
        ),
    ] {
        let row = up.get(route);
        assert_eq!(row.status, 413, "{route}: {}", row.text());
        assert!(row.text().contains(says), "{route}: {}", row.text());
    }
    assert_eq!(up.get("/hello").text(), "hello from spin-sdk");
}

#[test]
fn an_instance_holds_at_most_max_handles_per_instance_of_each_capability() {
    let (_dir, up) = start_v5_with(&["--max-handles-per-instance", "3"]);
    // Each capability counts its own: three of each open, the fourth
    // fails with the interface's own error.
    for (kind, error, what) in [
        ("kv", "StoreTableFull", "key-value stores"),
        (
            "sqlite",
            "too many connections open at once",
            "SQLite connections",
        ),
        ("redis", "TooManyConnections", "Redis connections"),
        (
            "postgres",
            "too many connections open at once",
            "PostgreSQL connections",
        ),
        (
            "mysql",
            "too many connections open at once",
            "MySQL connections",
        ),
        ("mqtt", "TooManyConnections", "MQTT connections"),
    ] {
        let held = up.get(&format!("/hold-open?{kind}"));
        assert_eq!(held.status, 200, "{kind}: {}", held.text());
        // Closing one frees its place at once, in the same instance.
        assert!(
            held.text().starts_with("3 ")
                && held.text().contains(error)
                && held.text().ends_with(" reopened"),
            "{kind}: {}",
            held.text()
        );
        expect_log(
            &up,
            &format!("tried to hold more {what} open at once than the 3 it may"),
        );
    }
    // All closed at the end of each request: the instance serves on.
    let again = up.get("/hold-open?sqlite");
    assert!(again.text().starts_with("3 "), "{}", again.text());
    assert_eq!(up.get("/sqlite?handles").status, 200);
}

#[test]
fn an_instance_holds_at_most_max_resources_per_instance_wasi_resources() {
    let (_dir, up) = start_v5_with(&["--max-resources-per-instance", "200"]);
    // Each `fields` holds host memory no guest limit counts: past the cap
    // the constructor fails that request, and the log names the flag.
    assert_eq!(up.get("/many-fields?50").text(), "50");
    assert_eq!(up.get("/many-fields?500").status, 500);
    expect_log(&up, "resource table has no free keys");
    expect_log(&up, "raise the flag");
    expect_log(&up, "--max-resources-per-instance");
    // The server serves on (a new instance: the failed one is dropped).
    assert_eq!(up.get("/many-fields?50").text(), "50");
    assert_eq!(up.get("/hello").text(), "hello from spin-sdk");
}

/// `n` requests at once to the platform app at `addr`, each fetching
/// `upstream` through `/outbound`: their statuses and bodies.
fn outbound_at_once(addr: SocketAddr, upstream: SocketAddr, n: usize) -> Vec<(u16, String)> {
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(move || {
                    let url = format!("http://{upstream}/");
                    let resp = request(addr, "GET", "/outbound", &[("x-url", &url)], b"").unwrap();
                    (resp.status, resp.text())
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    })
}

#[test]
fn a_component_at_its_instance_cap_serves_every_request_with_the_instances_it_has() {
    let sdk = Spin4Sdk::V5;
    let meeting = rendezvous(2);
    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let manifest = MANIFEST.replace("{upstream}", &meeting.port().to_string());
    let (_dir, manifest) = app_dir(&manifest, &component);
    let up = SpinUp::start(&manifest, &["--max-instances-per-component", "1"]);
    let addr = up.addr;

    // Eight requests at once, with one instance allowed: it serves them all
    // (its count of requests served goes 1 to 8), none fails.
    let mut counts: Vec<u32> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..8)
            .map(|_| s.spawn(move || request(addr, "GET", "/served", &[], b"").unwrap()))
            .collect();
        calls
            .into_iter()
            .map(|call| {
                let resp = call.join().unwrap();
                assert_eq!(resp.status, 200, "{}", resp.text());
                resp.text().parse().unwrap()
            })
            .collect()
    });
    counts.sort();
    assert_eq!(
        counts,
        (1..=8).collect::<Vec<_>>(),
        "one instance served all"
    );

    // Requests that wait on I/O share the one instance at once: the
    // upstream answers `concurrent` only when both are in flight together.
    let answers = outbound_at_once(addr, meeting, 2);
    assert_eq!(
        answers,
        vec![(200, "200 concurrent".to_string()); 2],
        "both requests in one instance at once"
    );
}

/// `spin up --max-instances-per-component 1` of the platform app built
/// with spin-sdk 5, with no upstream to reach.
fn start_with_one_instance() -> (tempfile::TempDir, SpinUp) {
    start_with_one_instance_of(Spin4Sdk::V5)
}

/// [`start_with_one_instance`], the app built with `sdk`.
fn start_with_one_instance_of(sdk: Spin4Sdk) -> (tempfile::TempDir, SpinUp) {
    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let manifest = MANIFEST.replace("{upstream}", "1");
    let (dir, manifest) = app_dir(&manifest, &component);
    let up = SpinUp::start(&manifest, &["--max-instances-per-component", "1"]);
    (dir, up)
}

#[test]
fn an_instance_waiting_in_a_blocking_call_does_not_hold_back_other_requests() {
    // With one instance allowed, a request that sleeps (`time.sleep`, a
    // synchronous host call that holds its whole instance) must not make
    // the next request wait for it: a second instance serves it.
    let (_dir, up) = start_with_one_instance();
    let addr = up.addr;
    let sleeper = std::thread::spawn(move || request(addr, "GET", "/sleep?60", &[], b""));
    assert!(
        up.wait_for_stdout("sleeping").contains("sleeping"),
        "the sleeper never started"
    );
    let hello = up.get("/hello");
    assert_eq!(
        (hello.status, hello.text().as_str()),
        (200, "hello from spin-sdk")
    );
    assert_eq!(
        up.get("/served").text(),
        "2",
        "the second instance serves the later requests"
    );
    assert!(!sleeper.is_finished(), "the sleeper still sleeps");
}

/// Waits until `up`'s log holds `needle` `n` times.
fn expect_log_times(up: &SpinUp, needle: &str, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while up.stderr().matches(needle).count() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "expected `{needle}` {n} times in the log:\n{}",
            up.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `GET path` and leaves the connection open, unread.
fn request_left_open(addr: SocketAddr, path: &str) -> TcpStream {
    let mut client = TcpStream::connect(addr).unwrap();
    write!(client, "GET {path} HTTP/1.1\r\nhost: test\r\n\r\n").unwrap();
    client
}

/// How many ticks `label` printed, once they have stopped: the count
/// after the output settled must not move in the second that follows.
fn ticks_stopped(up: &SpinUp, label: &str) -> usize {
    let needle = format!("tick {label} ");
    std::thread::sleep(Duration::from_millis(500));
    let settled = up.stdout().matches(&needle).count();
    std::thread::sleep(Duration::from_secs(1));
    let later = up.stdout().matches(&needle).count();
    assert_eq!(settled, later, "the abandoned guest kept working");
    settled
}

#[test]
fn a_long_line_printed_by_the_guest_reaches_the_log_whole() {
    let (_dir, up) = start_with_one_instance();
    assert_eq!(up.get("/long-line?20000").status, 200);
    let line = format!("long {} end", "x".repeat(20_000));
    let stdout = up.wait_for_stdout(" end");
    assert!(
        stdout.lines().any(|l| l.ends_with(&line)),
        "the line arrived cut: {:?}",
        stdout.lines().map(str::len).collect::<Vec<_>>()
    );
}

#[test]
fn a_body_that_does_not_match_its_content_length_is_logged_and_cut_short() {
    let (_dir, up) = start_with_one_instance();
    for length in ["100", "2"] {
        let raw = support::http::raw_get(up.addr, &format!("/wrong-length?{length}"));
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        assert!(
            head.starts_with("HTTP/1.1 200") && head.contains(&format!("content-length: {length}")),
            "{raw:?} {}",
            up.stderr()
        );
        // Never more than the length promised, and the connection closed
        // before a 100-byte body was complete.
        assert!(
            body.len() < 100 && body.len() <= length.parse().unwrap(),
            "{raw:?}"
        );
    }
    let log = up.wait_for_stderr("states 2;");
    assert!(
        log.contains(
            "component `platform` ended its response body after 5 of the 100 bytes its `content-length` states"
        ) && log.contains(
            "component `platform` wrote 5 bytes of a response body whose `content-length` states 2;"
        ) && log.contains("hint: write exactly the bytes `content-length` states"),
        "{log}"
    );
    assert_eq!(up.get("/hello").status, 200);
}

#[test]
fn a_head_request_leaves_the_instance_that_answers_it_serving() {
    // The SDK answers HEAD like GET, writing the whole body: HTTP leaves it
    // out (over HTTP/2 it used to go out, and the client failed the
    // stream), the length stays, and the instance serves on.
    for sdk in Spin4Sdk::ALL {
        let (dir, up) = start_with_one_instance_of(sdk);
        let big = "x".repeat(1 << 20);
        let raw = support::http::raw_exchange(
            up.addr,
            &format!(
                "HEAD /echo HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{big}",
                big.len()
            ),
        );
        assert!(
            raw.starts_with("HTTP/1.1 200")
                && raw.contains("content-length: 1048576")
                && raw.ends_with("\r\n\r\n"),
            "{sdk:?}: {raw:?}"
        );
        let file = dir.path().join("big");
        std::fs::write(&file, &big).unwrap();
        let out = std::process::Command::new("curl")
            .args([
                "-sS",
                "--http2-prior-knowledge",
                "-X",
                "HEAD",
                "--data-binary",
            ])
            .arg(format!("@{}", file.display()))
            .args(["-o", "/dev/null", "-w", "%{http_code} %{http_version}"])
            .arg(format!("http://{}/echo", up.addr))
            .output()
            .expect("curl");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "200 2",
            "{sdk:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The one instance served both, and serves on.
        assert_eq!(up.get("/served").text(), "3", "{sdk:?}: {}", up.stderr());
    }
}

#[test]
fn a_request_body_cut_short_malformed_or_stalled_is_refused_not_served() {
    // The guest's body stream can only end: without the host's check, a cut
    // or malformed body reached it as whole, and it echoed half an upload
    // with a 200.
    use support::http::{raw_exchange, raw_exchange_then_half_close};
    let sdk = Spin4Sdk::V5;
    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let manifest = MANIFEST.replace("{upstream}", "1");
    let (_dir, manifest) = app_dir(&manifest, &component);
    let up = SpinUp::start(
        &manifest,
        &[
            "--http-body-read-timeout",
            "1",
            "--max-request-body-size",
            "1k",
        ],
    );
    let cut = raw_exchange_then_half_close(
        up.addr,
        "POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nhello",
    );
    let malformed = raw_exchange(
        up.addr,
        "POST /echo HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
    );
    for raw in [&cut, &malformed] {
        assert!(
            raw.starts_with("HTTP/1.1 400")
                && raw.contains("the request body was cut short or malformed")
                && raw.contains("connection: close")
                && !raw.contains("hello"),
            "{raw:?}"
        );
    }
    // Held open, the rest never coming: 408 at the body-read timeout.
    let stalled = raw_exchange(
        up.addr,
        "POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nhello",
    );
    assert!(
        stalled.starts_with("HTTP/1.1 408")
            && stalled.contains("no request body data for 1s")
            && stalled.contains("hint: send the body without pauses that long"),
        "{stalled:?}"
    );
    // Over the size limit: refused at once when Content-Length says so,
    // and as soon as a chunked body goes past it.
    let chunk = "x".repeat(1000);
    for request in [
        format!("POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 2000\r\n\r\n{chunk}{chunk}"),
        format!(
            "POST /echo HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n3e8\r\n{chunk}\r\n3e8\r\n{chunk}\r\n0\r\n\r\n"
        ),
    ] {
        let raw = raw_exchange(up.addr, &request);
        assert!(
            raw.starts_with("HTTP/1.1 413")
                && raw.contains("the request body is over the 1024 bytes allowed")
                && raw.contains(
                    "hint: send less, or raise the limit with `spin up --max-request-body-size`"
                ),
            "{raw:?}"
        );
    }
    // A whole body is echoed, and the server serves on.
    let whole = raw_exchange(
        up.addr,
        "POST /echo HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: 5\r\n\r\nhello",
    );
    assert!(
        whole.starts_with("HTTP/1.1 200") && whole.ends_with("hello"),
        "{whole:?}"
    );
    assert_eq!(up.get("/hello").status, 200);
}

#[test]
fn a_crash_fails_the_requests_its_instance_was_serving_and_says_so() {
    // One instance serves both: a request waiting on a timer, then one whose
    // guest crashes (a trap, not a Python exception), taking the first down
    // with it. Each failure says what happened and how to keep requests
    // apart.
    let (_dir, up) = start_with_one_instance();
    let addr = up.addr;
    let ticking = std::thread::spawn(move || request(addr, "GET", "/ticks?c,100", &[], b""));
    assert!(
        up.wait_for_stdout("tick c 0").contains("tick c 0"),
        "the ticks never started"
    );
    assert_eq!(up.get("/abort").status, 500);
    assert_eq!(ticking.join().unwrap().unwrap().status, 500);
    let message = "the instance serving the request failed";
    let log = up.wait_for_stderr_count(message, 2);
    assert!(
        log.matches(message).count() == 2
            && log.contains("set it to 1 to keep one request's crash from failing others")
            && log.contains("an instance of component `platform` stopped"),
        "{log}"
    );
    assert_eq!(up.get("/hello").status, 200, "a new instance serves on");
}

/// What the log says (at debug level) when an abandoned instance is dropped.
const STOPPED: &str = "was stopped: a request it served was abandoned";

/// `spin up --max-instances-per-component 1 --request-timeout <timeout>` of
/// the platform app built with spin-sdk 5, logging abandoned requests and
/// instances (at debug level only).
fn start_logging_abandoned_instances(timeout: &str) -> (tempfile::TempDir, SpinUp) {
    let sdk = Spin4Sdk::V5;
    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let manifest = MANIFEST.replace("{upstream}", "1");
    let (dir, manifest) = app_dir(&manifest, &component);
    let args = [
        "--max-instances-per-component",
        "1",
        "--request-timeout",
        timeout,
    ];
    let up = SpinUp::start_with(&manifest, &args, |cmd| {
        cmd.env("SPIN_LOG", "warn,spin_trigger_http=debug");
    });
    (dir, up)
}

#[test]
fn a_request_past_its_timeout_stops_the_guest_working_on_it() {
    // The guest would tick for a minute before answering. Its request fails
    // at the 2 s timeout, and the guest's work on it stops then, not a
    // timeout later: a client that tries again does not race the first
    // attempt's side effects.
    let (_dir, up) = start_logging_abandoned_instances("2");
    assert_eq!(up.get("/ticks?a,600").status, 500);
    expect_log_times(
        &up,
        "a request to component `platform` ran past its timeout",
        1,
    );
    expect_log_times(&up, STOPPED, 1);
    ticks_stopped(&up, "a");
    assert_eq!(up.get("/served").text(), "1", "a new instance serves on");

    // In a busy loop the request's own timer cannot run; the instance's
    // deadline stops it, and the request fails as timed out, with a hint,
    // not as a crash.
    assert_eq!(up.get("/busy?60").status, 500);
    expect_log_times(&up, "was stopped at the 2s request timeout", 1);
    expect_log_times(&up, "ran past the 2s request timeout without yielding", 1);
    assert!(
        !up.stderr().contains("worker trapped or panicked")
            && !up
                .stderr()
                .contains("the instance serving the request failed"),
        "{}",
        up.stderr()
    );
    assert_eq!(up.get("/served").text(), "1", "a new instance serves on");
}

#[test]
fn a_request_timeout_range_is_drawn_for_each_instance() {
    // As in Spin, each instance draws its timeout from `LOW..HIGH`: two
    // requests it serves at once share it. A request past it abandons the
    // instance, so the next request has a new instance, and a new draw.
    let (_dir, up) = start_logging_abandoned_instances("1..3s");
    let addr = up.addr;
    std::thread::scope(|s| {
        let both = ["/ticks?a,600", "/ticks?b,600"]
            .map(|path| s.spawn(move || request(addr, "GET", path, &[], b"").unwrap()));
        for answer in both {
            assert_eq!(answer.join().unwrap().status, 500);
        }
    });
    assert_eq!(up.get("/ticks?c,600").status, 500);
    let drawn = up.timeouts_logged(3);
    assert_eq!(drawn.len(), 3, "{}", up.stderr());
    assert!(drawn.iter().all(|t| (1.0..3.0).contains(t)), "{drawn:?}");
    assert_eq!(
        drawn[0], drawn[1],
        "two requests of one instance: {drawn:?}"
    );
    assert_ne!(
        drawn[1], drawn[2],
        "one timeout for two instances: {drawn:?}"
    );
}

#[test]
fn a_client_that_goes_away_stops_the_guest_working_on_its_request() {
    const GONE: &str = "a client of component `platform` went away";
    // A request timeout far longer than any wait here: nothing may be
    // stopped by it.
    let (_dir, up) = start_logging_abandoned_instances("600");
    let started = |needle: &str| assert!(up.wait_for_stdout(needle).contains(needle), "{needle}");
    let addr = up.addr;

    // Alone in its instance: the instance is dropped with the work (a
    // minute of ticks) as soon as the client leaves.
    let client = request_left_open(addr, "/ticks?a,600");
    started("tick a 3");
    drop(client);
    expect_log_times(&up, STOPPED, 1);
    assert!(ticks_stopped(&up, "a") < 600);
    assert_eq!(up.get("/served").text(), "1", "a new instance serves on");

    // Sharing its instance with a request that goes on: that request gets
    // its whole answer, and only then is the instance dropped.
    let client = request_left_open(addr, "/ticks?b,600");
    started("tick b 2");
    let kept = std::thread::spawn(move || request(addr, "GET", "/ticks?c,50", &[], b""));
    started("tick c 2");
    drop(client);
    expect_log_times(&up, GONE, 2);
    // The abandoned instance takes no new request and leaves the cap of
    // one to a new instance, which serves this one meanwhile.
    assert_eq!(up.get("/served").text(), "1", "served by a new instance");
    assert!(!kept.is_finished(), "served only once the other was done");
    assert_eq!(up.stderr().matches(STOPPED).count(), 1, "dropped too soon");
    let kept = kept.join().unwrap().unwrap();
    assert_eq!(
        (kept.status, kept.text().as_str()),
        (200, "c ticked 50 as request 3"),
        "served whole, by the instance it shared with the abandoned request"
    );
    expect_log_times(&up, STOPPED, 2);
    ticks_stopped(&up, "b");

    // In a blocking call (`time.sleep`, which holds the whole instance):
    // stopped all the same, long before the sleep ends.
    let client = request_left_open(addr, "/sleep?120");
    started("sleeping");
    drop(client);
    expect_log_times(&up, STOPPED, 3);
    assert_eq!(up.get("/hello").status, 200);
    assert!(!up.stderr().contains("ERROR"), "{}", up.stderr());
}

#[test]
fn with_a_fresh_instance_per_request_there_is_no_instance_cap_by_default() {
    // One more request in flight than the default cap of instances that
    // serve several requests (one per core, at least 2): with a fresh
    // instance per request each needs an instance of its own, and all must
    // be in flight at once for the upstream to answer `concurrent`.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = (cores.max(2) + 1).min(16);
    let sdk = Spin4Sdk::V5;
    let meeting = rendezvous(n);
    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let manifest = MANIFEST.replace("{upstream}", &meeting.port().to_string());
    let (_dir, manifest) = app_dir(&manifest, &component);
    let up = SpinUp::start(&manifest, &["--max-instance-reuse-count", "1"]);
    let addr = up.addr;
    let answers = outbound_at_once(addr, meeting, n);
    assert_eq!(answers, vec![(200, "200 concurrent".to_string()); n]);
}

#[test]
fn wasi_otel_imports_link_and_do_nothing() {
    let sdk = Spin4Sdk::V5;
    let component =
        sdk.build_with_features(&test_app("spin4-otel"), sdk.http_world(), &["wasi-otel"]);
    let manifest = r#"
spin_manifest_version = 2

[application]
name = "otel"

[[trigger.http]]
route = "/..."
component = "otel"

[component.otel]
source = "{source}"
"#;
    let (_dir, manifest) = app_dir(manifest, &component);
    let up = SpinUp::start(&manifest, &[]);
    let resp = up.get("/");
    assert_eq!(resp.status, 200, "{}", resp.text());
    // No outer span: the empty span context.
    assert_eq!(resp.text(), "trace-id='' span-id='' remote=False");
}
