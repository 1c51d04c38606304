//! The Redis trigger through the real `spin` binary, against a real
//! `redis-server` of the test's own (so that it can be restarted):
//! spin-sdk 5.0 (`spin:redis/inbound-redis@3.0.0`) and 3.x
//! (`fermyon:spin/inbound-redis`) handlers, v1 and v2 manifests, HTTP and
//! Redis triggers in one app, a failing message, and a Redis restart.

mod support;

use std::path::{Path, PathBuf};
use support::python::{Spin4Sdk, build_sdk_app_for, test_app};
use support::redis::RedisServer;
use support::spin::{SpinUp, free_port};

/// A temp app dir with `manifest` and the components linked by name.
fn app(manifest: &str, components: &[(&str, &Path)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for (name, path) in components {
        std::os::unix::fs::symlink(path, dir.path().join(name)).unwrap();
    }
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    (dir, path)
}

/// An app named `name` whose `component` (built at `wasm`) handles the
/// channel `events` of the Redis server on `port`.
fn one_channel_app(
    name: &str,
    port: u16,
    component: &str,
    wasm: &Path,
) -> (tempfile::TempDir, PathBuf) {
    let address = format!("redis://127.0.0.1:{port}");
    one_channel_app_at(name, &address, component, wasm)
}

/// [`one_channel_app`] for the server at `address`.
fn one_channel_app_at(
    name: &str,
    address: &str,
    component: &str,
    wasm: &Path,
) -> (tempfile::TempDir, PathBuf) {
    let manifest = format!(
        r#"
spin_manifest_version = 2

[application]
name = "{name}"

[application.trigger.redis]
address = "{address}"

[[trigger.redis]]
channel = "events"
component = "{component}"

[component.{component}]
source = "{component}.wasm"
"#
    );
    app(&manifest, &[(&format!("{component}.wasm"), wasm)])
}

fn spin4_listener() -> PathBuf {
    let sdk = Spin4Sdk::V5;
    sdk.build(
        &test_app("spin4-redis-trigger"),
        "spin:up/redis-trigger@4.1.0",
    )
}

#[test]
fn redis_and_http_triggers_in_one_app_survive_a_redis_restart() {
    let port = free_port();
    let mut redis = RedisServer::start(port);
    let web = Spin4Sdk::V5.build(&test_app("spin4-platform"), Spin4Sdk::V5.http_world());
    let legacy = build_sdk_app_for(
        &test_app("sdk-redis-trigger"),
        "fermyon:spin/spin-redis@2.0.0",
    );
    let manifest = format!(
        r#"
spin_manifest_version = 2

[application]
name = "redis-and-http"

[application.trigger.redis]
address = "redis://127.0.0.1:{port}"

[[trigger.redis]]
channel = "events"
component = "listener"

[[trigger.redis]]
channel = "legacy"
component = "legacy"

[[trigger.http]]
route = "/..."
component = "web"

[component.listener]
source = "listener.wasm"

[component.legacy]
source = "legacy.wasm"

[component.web]
source = "web.wasm"
"#
    );
    let (_dir, manifest) = app(
        &manifest,
        &[
            ("listener.wasm", &spin4_listener()),
            ("legacy.wasm", &legacy),
            ("web.wasm", &web),
        ],
    );
    let up = SpinUp::start(&manifest, &[]);
    assert!(
        up.stdout()
            .contains("listener: `events` at redis://127.0.0.1")
    );
    redis.wait_for_subscribers("events", 1);
    redis.wait_for_subscribers("legacy", 1);

    assert_eq!(redis.publish("events", "hello"), 1);
    let out = up.wait_for_stdout("spin4 got message: hello");
    assert!(out.contains("[listener] spin4 got message: hello"), "{out}");
    assert_eq!(redis.publish("legacy", "old style"), 1);
    let out = up.wait_for_stdout("sdk3 got message: old style");
    assert!(
        out.contains("[legacy] sdk3 got message: old style"),
        "{out}"
    );

    // One failing message is logged with its component and channel; the
    // next one is handled.
    redis.publish("events", "fail-1");
    // The guest's traceback and the host's line are written separately:
    // wait for the host's, which comes after the guest has failed.
    let failed = "component `listener` failed to handle a message on Redis channel `events`";
    let log = up.wait_for_stderr(failed);
    assert!(log.contains(failed), "{log}");
    assert!(log.contains("ValueError: cannot handle fail-1"), "{log}");
    redis.publish("events", "after failure");
    assert!(
        up.wait_for_stdout("after failure")
            .contains("spin4 got message: after failure")
    );

    // Redis goes away: HTTP keeps serving; when it is back, the trigger
    // subscribes again and messages flow.
    redis.stop();
    assert_eq!(up.get("/hello").text(), "hello from spin-sdk");
    let log = up.wait_for_stderr("reconnecting");
    assert!(log.contains("Redis trigger"), "{log}");
    let redis = RedisServer::start(port);
    redis.wait_for_subscribers("events", 1);
    assert_eq!(redis.publish("events", "after restart"), 1);
    let out = up.wait_for_stdout("after restart");
    assert!(out.contains("spin4 got message: after restart"), "{out}");
    assert_eq!(up.get("/hello").status, 200);
}

#[test]
fn redis_only_v1_manifest() {
    let port = free_port();
    let redis = RedisServer::start(port);
    let manifest = format!(
        r#"
spin_manifest_version = "1"
name = "redis-v1"
version = "0.1.0"
trigger = {{ type = "redis", address = "redis://127.0.0.1:{port}" }}

[[component]]
id = "listener"
source = "listener.wasm"
[component.trigger]
channel = "v1-channel"
"#
    );
    let (_dir, manifest) = app(&manifest, &[("listener.wasm", &spin4_listener())]);
    let up = SpinUp::start_without_http(&manifest, &[], "Subscribed to Redis channels");
    redis.wait_for_subscribers("v1-channel", 1);
    assert_eq!(redis.publish("v1-channel", "from v1"), 1);
    let out = up.wait_for_stdout("spin4 got message: from v1");
    assert!(out.contains("spin4 got message: from v1"), "{out}");
    assert!(!out.contains("Serving http"), "no HTTP listener: {out}");
}

#[test]
fn a_component_without_a_redis_handler_is_refused_at_startup() {
    let port = free_port();
    let web = Spin4Sdk::V5.build(&test_app("spin4-platform"), Spin4Sdk::V5.http_world());
    let (dir, _manifest) = one_channel_app("wrong-export", port, "web", &web);
    let out = support::spin::spin(dir.path()).arg("up").output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("component `web` is the Redis trigger's handler for channel `events`")
            && stderr.contains("exports neither `spin:redis/inbound-redis@3.0.0`"),
        "{stderr}"
    );
}

#[test]
fn messages_past_the_backlog_are_dropped_and_counted_and_later_ones_are_handled() {
    let port = free_port();
    let redis = RedisServer::start(port);
    let (_dir, manifest) = one_channel_app("redis-backlog", port, "listener", &spin4_listener());
    // One message handled at a time, two waiting: of ten published at once
    // to a handler that takes two seconds each, most must be dropped.
    let up = SpinUp::start_without_http(
        &manifest,
        &[
            "--max-concurrent-requests",
            "1",
            "--redis-max-pending-messages",
            "2",
        ],
        "Subscribed to Redis channels",
    );
    redis.wait_for_subscribers("events", 1);
    let commands: String = (1..=10)
        .map(|n| format!("PUBLISH events slow-{n}\n"))
        .collect();
    redis.pipe(&commands);

    let warned = up.wait_for_stderr("dropping new messages on channel `events`");
    assert!(warned.contains("--redis-max-pending-messages"), "{warned}");
    let report = up.wait_for_stderr("were dropped while the handlers were behind");
    let dropped: usize = report
        .lines()
        .find_map(|line| {
            let (_, rest) = line.split_once("Redis trigger: ")?;
            rest.split_once(" message(s) on channel `events`")?
                .0
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no count of dropped messages: {report}"));
    assert!((7..=8).contains(&dropped), "dropped {dropped}: {report}");

    // Every message that was not dropped is handled, and the trigger goes
    // on handling new ones.
    assert_eq!(redis.publish("events", "after the burst"), 1);
    let out = up.wait_for_stdout("spin4 got message: after the burst");
    let handled = out.matches("spin4 got message: slow-").count();
    assert_eq!(handled + dropped, 10, "{out}\n{report}");
}

#[test]
fn a_message_larger_than_the_result_cap_is_skipped_and_the_next_one_is_handled() {
    let port = free_port();
    let redis = RedisServer::start(port);
    let (_dir, manifest) = one_channel_app("redis-cap", port, "listener", &spin4_listener());
    let up = SpinUp::start_without_http(
        &manifest,
        &["--max-result-size", "1k"],
        "Subscribed to Redis channels",
    );
    redis.wait_for_subscribers("events", 1);
    // The large message streams by unread; the subscription goes on, so
    // the small one published right after it arrives.
    let both = format!(
        "PUBLISH events {}\nPUBLISH events small\n",
        "x".repeat(2000)
    );
    redis.pipe(&both);
    let warned = up.wait_for_stderr("Redis trigger: dropped a message of 2000 bytes");
    assert!(
        warned.contains("on channel `events`")
            && warned.contains("larger than 1024 bytes")
            && warned.contains("--max-result-size"),
        "{warned}"
    );
    let out = up.wait_for_stdout("spin4 got message: small");
    assert!(!out.contains("xxxxxxxx"), "{out}");
    // A message of exactly the cap is handed over; one byte more is not.
    let at_cap = "y".repeat(1024);
    let past_cap = "z".repeat(1025);
    redis.pipe(&format!(
        "PUBLISH events {at_cap}\nPUBLISH events {past_cap}\nPUBLISH events last\n"
    ));
    let out = up.wait_for_stdout("spin4 got message: last");
    assert!(
        out.contains(&format!("spin4 got message: {at_cap}\n")),
        "{out}"
    );
    assert!(!out.contains("zzzzzzzz"), "{out}");
    up.wait_for_stderr("dropped a message of 1025 bytes on channel `events`");
    let log = up.stderr();
    assert!(
        !log.contains("reconnecting") && !log.contains("resubscribed"),
        "{log}"
    );
}

#[test]
fn the_address_credentials_authenticate_the_subscriber() {
    let port = free_port();
    let redis = RedisServer::start_with_password(port, Some("s3cret"));
    let address = format!("redis://:s3cret@127.0.0.1:{port}");
    let (_dir, manifest) =
        one_channel_app_at("redis-auth", &address, "listener", &spin4_listener());
    let up = SpinUp::start_without_http(&manifest, &[], "Subscribed to Redis channels");
    redis.wait_for_subscribers("events", 1);
    assert_eq!(redis.publish("events", "let in"), 1);
    let out = up.wait_for_stdout("spin4 got message: let in");
    // The password is never shown.
    assert!(
        !out.contains("s3cret") && !up.stderr().contains("s3cret"),
        "{out}{}",
        up.stderr()
    );

    // A wrong password: Redis's refusal is logged, the password is not,
    // and the trigger keeps trying.
    let address = format!("redis://:wr0ng-pa55@127.0.0.1:{port}");
    let (_dir, manifest) =
        one_channel_app_at("redis-auth-wrong", &address, "listener", &spin4_listener());
    let up = SpinUp::start_without_http(&manifest, &[], "Subscribed to Redis channels");
    let refused = up.wait_for_stderr("refused the address's credentials");
    assert!(refused.contains("WRONGPASS"), "{refused}");
    up.wait_for_stderr("retrying in");
    let (out, err) = (up.stdout(), up.stderr());
    assert!(
        !out.contains("wr0ng-pa55") && !err.contains("wr0ng-pa55"),
        "{out}{err}"
    );
}

#[test]
fn the_trigger_subscribes_over_tls_verifying_the_certificate() {
    let certs = tempfile::tempdir().unwrap();
    support::tls::make_certificates(certs.path());
    let port = free_port();
    let redis = RedisServer::start_tls(port, certs.path());
    let address = format!("rediss://localhost:{port}");
    let (_dir, manifest) = one_channel_app_at("redis-tls", &address, "listener", &spin4_listener());

    // The test CA trusted through SSL_CERT_FILE, as by other tools.
    let up =
        SpinUp::start_without_http_with(&manifest, &[], "Subscribed to Redis channels", |cmd| {
            cmd.env("SSL_CERT_FILE", certs.path().join("ca.pem"));
        });
    redis.wait_for_subscribers("events", 1);
    assert_eq!(redis.publish("events", "over tls"), 1);
    up.wait_for_stdout("spin4 got message: over tls");
    drop(up);

    // Not trusted: refused, said why, and retried.
    let up =
        SpinUp::start_without_http_with(&manifest, &[], "Subscribed to Redis channels", |cmd| {
            cmd.env("SSL_CERT_FILE", "/dev/null");
        });
    let refused = up.wait_for_stderr("retrying in");
    assert!(
        refused.contains(&format!(
            "TLS with the Redis server at localhost:{port} failed"
        )) && refused.contains("UnknownIssuer"),
        "{refused}"
    );
    drop(up);

    // `#insecure` (the redis crate's and Spin's spelling) takes any
    // certificate: encrypted, not authenticated.
    let address = format!("rediss://localhost:{port}/#insecure");
    let (_dir, manifest) = one_channel_app_at(
        "redis-tls-insecure",
        &address,
        "listener",
        &spin4_listener(),
    );
    let up =
        SpinUp::start_without_http_with(&manifest, &[], "Subscribed to Redis channels", |cmd| {
            cmd.env("SSL_CERT_FILE", "/dev/null");
        });
    redis.wait_for_subscribers("events", 1);
    assert_eq!(redis.publish("events", "unverified"), 1);
    up.wait_for_stdout("spin4 got message: unverified");
}
