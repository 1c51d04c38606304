//! `urllib.request`, `http.client` and `requests` inside a `spin py2wasm`
//! component: over the host's outgoing HTTP to a real upstream on
//! loopback, under the allow list, and over HTTPS verified by the host.

mod support;

use support::python::{build_py2wasm_app, test_app};
use support::spin::{SpinUp, app_dir, free_port};
use support::upstream::Upstream;

const MANIFEST: &str = "spin_manifest_version = 2\n[application]\nname = \"clients\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"clients\"\n[component.clients]\nsource = \"{source}\"\n";

const LIBRARIES: [&str; 3] = ["/urllib", "/http-client", "/requests"];

#[test]
fn python_http_libraries_reach_allowed_hosts_and_are_refused_others() {
    let component = build_py2wasm_app(&test_app("py-http-clients"));
    let upstream = Upstream::start(None);
    let port = upstream.port;
    let manifest = format!("{MANIFEST}allowed_outbound_hosts = [\"http://127.0.0.1:{port}\"]\n");
    let (_dir, path) = app_dir(&manifest, &component);
    let up = SpinUp::start(&path, &[]);
    let allowed = format!("http://127.0.0.1:{port}/hello");
    for library in LIBRARIES {
        assert_eq!(
            up.get(&format!("{library}?url={allowed}")).text(),
            "200 upstream says hi",
            "{library}"
        );
    }
    assert_eq!(
        up.get(&format!("/requests-stream?url={allowed}")).text(),
        "200 upstream| says hi"
    );
    assert_eq!(
        up.get(&format!("/requests-post?url={allowed}")).text(),
        "200 posted {\"n\": 1}"
    );

    // A timeout fails that request the way each library reports one.
    let slow = format!("http://127.0.0.1:{port}/slow&timeout=0.5");
    for (library, error) in [
        ("/urllib", "TimeoutError:"),
        ("/http-client", "TimeoutError:"),
        ("/requests", "ReadTimeout:"),
    ] {
        let text = up.get(&format!("{library}?url={slow}")).text();
        assert!(text.starts_with(error), "{library}: {text}");
    }

    // Another port of the same host is not granted.
    let other = free_port();
    for library in LIBRARIES {
        let response = up.get(&format!("{library}?url=http://127.0.0.1:{other}/"));
        let text = response.text();
        assert_eq!(response.status, 502, "{library}: {text}");
        assert!(
            text.contains("HttpError::DestinationNotAllowed")
                && text.contains(&format!("127.0.0.1:{other}")),
            "{library}: {text}"
        );
    }
}

#[test]
fn python_http_libraries_speak_https_through_the_host() {
    let certs = tempfile::tempdir().unwrap();
    let upstream = Upstream::start_tls(certs.path());
    let port = upstream.port;
    let component = build_py2wasm_app(&test_app("py-http-clients"));
    let manifest = format!("{MANIFEST}allowed_outbound_hosts = [\"https://localhost:{port}\"]\n");
    let (_dir, path) = app_dir(&manifest, &component);
    let up = SpinUp::start_with(&path, &[], |cmd| {
        cmd.env("SSL_CERT_FILE", certs.path().join("ca.pem"));
    });
    for library in LIBRARIES {
        assert_eq!(
            up.get(&format!("{library}?url=https://localhost:{port}/"))
                .text(),
            "200 upstream says hi",
            "{library}"
        );
    }
}
