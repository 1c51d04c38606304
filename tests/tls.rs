//! `spin up --tls-cert --tls-key`: HTTPS with a certificate made by openssl
//! in the test, checked by a real client (curl) against the test CA.

mod support;

use serde_json::Value;
use std::process::Command;
use support::python::{build_sdk_app, test_app};
use support::spin::{SpinUp, app_dir, spin};
use support::tls::make_certificates;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "tls"
[[trigger.http]]
route = "/..."
component = "reflect"
[component.reflect]
source = "{source}"
variables = { greeting = "hi", secret = "s" }
"#;

/// The body of `https://localhost:<port><path>` (on 127.0.0.1), fetched
/// by curl trusting the test CA in `dir`; a failure fails the test.
fn https_get(dir: &std::path::Path, port: u16, path: &str) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--fail", "--cacert"])
        .arg(dir.join("ca.pem"))
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .arg(format!("https://localhost:{port}{path}"))
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn https_is_served_with_the_given_certificate() {
    let (dir, manifest) = app_dir(MANIFEST, &build_sdk_app(&test_app("sdk-http")));
    make_certificates(dir.path());
    let (cert, key) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    let up = SpinUp::start_with(&manifest, &[], |cmd| {
        cmd.arg("--tls-cert").arg(&cert).env("SPIN_TLS_KEY", &key);
    });
    assert!(
        up.stdout()
            .contains(&format!("Serving https://{}", up.addr)),
        "{}",
        up.stdout()
    );

    let url = format!("https://localhost:{}/exact?x=1", up.addr.port());
    let body = https_get(dir.path(), up.addr.port(), "/exact?x=1");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["headers"]["spin-full-url"], url, "{body}");

    // A client that does not trust the certificate is refused by TLS.
    let untrusted = Command::new("curl").args(["-sS", &url]).output().unwrap();
    assert!(!untrusted.status.success());
}

#[test]
fn a_bad_certificate_or_key_stops_startup_naming_the_file() {
    let (dir, manifest) = app_dir(MANIFEST, &build_sdk_app(&test_app("sdk-http")));
    make_certificates(dir.path());
    let run = |cert: &str, key: &str| {
        let out = spin(dir.path())
            .args(["up", "-f"])
            .arg(&manifest)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                cert,
                "--tls-key",
                key,
            ])
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run("missing.pem", "server.key");
    assert!(
        err.contains("missing.pem") && err.contains("hint:"),
        "{err}"
    );
    let err = run("server.key", "server.key");
    assert!(
        err.contains("no PEM certificate") && err.contains("hint:"),
        "{err}"
    );
    // The CA's key does not belong to the server's certificate.
    let err = run("server.pem", "ca.key");
    assert!(err.contains("cannot be used with the certificate"), "{err}");

    let out = spin(dir.path())
        .args(["up", "-f"])
        .arg(&manifest)
        .args(["--tls-cert", "server.pem"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--tls-key"), "{err}");
}

/// A client that opens a connection and never starts the handshake is cut
/// off by the header-read timeout, as over plain HTTP.
#[test]
fn a_stalled_handshake_is_cut_off_by_the_header_read_timeout() {
    use std::io::Read as _;
    let (dir, manifest) = app_dir(MANIFEST, &build_sdk_app(&test_app("sdk-http")));
    make_certificates(dir.path());
    let up = SpinUp::start_with(&manifest, &["--http-header-read-timeout", "1"], |cmd| {
        cmd.arg("--tls-cert")
            .arg(dir.path().join("server.pem"))
            .arg("--tls-key")
            .arg(dir.path().join("server.key"));
    });
    let mut stalled = std::net::TcpStream::connect(up.addr).unwrap();
    stalled
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 16];
    // Closed by the server (0 bytes), not by our 20 s read timeout.
    assert_eq!(stalled.read(&mut buf).unwrap(), 0);
}

/// A request to the application itself (a relative URL, `http://self`) is
/// routed in-process, so it works while the listener speaks TLS, and the
/// callee sees the scheme the application is served with.
#[test]
fn self_requests_work_while_serving_https() {
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"tls-self\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"out\"\n[component.out]\nsource = \"{source}\"\nallowed_outbound_hosts = [\"http://self\"]\n";
    let (dir, manifest) = app_dir(manifest, &build_sdk_app(&test_app("sdk-outbound")));
    make_certificates(dir.path());
    let (cert, key) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    let up = SpinUp::start_with(&manifest, &[], |cmd| {
        cmd.arg("--tls-cert").arg(&cert).arg("--tls-key").arg(&key);
    });
    let get = |path: &str| https_get(dir.path(), up.addr.port(), path);
    // The outer request asks the app for `/nothing`, a route its own code
    // refuses: that refusal, relayed, is the proof the inner one arrived.
    assert_eq!(
        get("/http?url=/nothing"),
        "502 error: ValueError('no such test route /nothing')"
    );
    assert_eq!(
        get("/http?url=http://self.alt/nothing"),
        "502 error: ValueError('no such test route /nothing')"
    );
    // The application's well-known endpoints answer too.
    assert_eq!(get("/http?url=/.well-known/spin/health"), "200 OK");
}
