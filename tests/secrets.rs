//! Values of variables marked `secret = true` never appear in what the host
//! writes: its log lines and its startup errors (issue 10).

mod support;

use support::python::{build_sdk_app, test_app};
use support::spin::{SpinUp, app_dir, spin};

/// A value nothing else in the output would contain.
const SECRET: &str = "tok3n-5ecr3t-v4lue";

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "secrets"
[variables]
token = { required = true, secret = true }
[[trigger.http]]
route = "/..."
component = "out"
[component.out]
source = "{source}"
allowed_outbound_hosts = ["http://127.0.0.1:1"]
variables = { token = "{{ token }}" }
"#;

/// A guest that builds a URL from a secret and is refused: the host's
/// denial log names the host, which is the secret.
#[test]
fn a_denied_url_built_from_a_secret_is_logged_redacted() {
    let (_dir, manifest) = app_dir(MANIFEST, &build_sdk_app(&test_app("sdk-outbound")));
    let up = SpinUp::start_with(&manifest, &[], |cmd| {
        cmd.env("SPIN_VARIABLE_TOKEN", SECRET);
    });
    let resp = up.get(&format!("/http?url=http://{SECRET}.example/"));
    assert!(resp.text().contains("HttpRequestDenied"), "{}", resp.text());
    let log = up.wait_for_stderr("<redacted>");
    assert!(!log.contains(SECRET), "the secret reached the log:\n{log}");
}

/// An `allowed_outbound_hosts` entry expanded from a secret that is not a
/// valid entry: the startup error quotes the entry, without the secret.
#[test]
fn a_startup_error_quoting_a_secret_is_redacted() {
    let manifest = MANIFEST.replace(
        r#"["http://127.0.0.1:1"]"#,
        r#"["http://{{ token }}:99999"]"#,
    );
    let (dir, manifest) = app_dir(&manifest, &build_sdk_app(&test_app("sdk-outbound")));
    let out = spin(dir.path())
        .args(["up", "-f"])
        .arg(&manifest)
        .args(["--listen", "127.0.0.1:0"])
        .env("SPIN_VARIABLE_TOKEN", SECRET)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("allowed_outbound_hosts"), "{stderr}");
    assert!(stderr.contains("<redacted>"), "{stderr}");
    assert!(
        !stderr.contains(SECRET),
        "the secret reached the error:\n{stderr}"
    );
}
