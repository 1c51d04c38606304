//! `spin up` checks everything the manifest and runtime config say before
//! it compiles anything: most tests' component is not Wasm at all, so an
//! error about anything else proves the check ran first. A component that
//! cannot be served is refused by name before it is linked.

mod support;

use support::spin::spin;

fn fails(manifest: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.wasm"),
        b"not wasm: compiling this would fail",
    )
    .unwrap();
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    let out = spin(dir.path())
        .args(["up", "--listen", "127.0.0.1:0"])
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("compil"), "it compiled first:\n{stderr}");
    assert!(stderr.contains("\nhint: "), "{stderr}");
    stderr
}

const HEAD: &str = r#"spin_manifest_version = 2
[application]
name = "checks"
[[trigger.http]]
route = "/..."
component = "web"
"#;

#[test]
fn a_bad_allow_list_entry_is_reported_before_compiling() {
    let manifest = format!(
        "{HEAD}[component.web]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"https://example.com:notaport\"]\n"
    );
    let stderr = fails(&manifest, &[]);
    assert!(stderr.contains("allowed_outbound_hosts"), "{stderr}");
    assert!(stderr.contains("spin.toml:9"), "{stderr}");
}

#[test]
fn an_allow_list_entry_from_a_variable_is_checked_before_compiling() {
    let manifest = format!(
        "{HEAD}[variables]\nupstream = {{ default = \"not a url at all\" }}\n[component.web]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"{{{{ upstream }}}}\"]\n"
    );
    let stderr = fails(&manifest, &[]);
    assert!(stderr.contains("allowed_outbound_hosts"), "{stderr}");
}

#[test]
fn a_missing_required_variable_is_reported_before_compiling() {
    let manifest = format!(
        "{HEAD}[variables]\ntoken = {{ required = true }}\n[component.web]\nsource = \"app.wasm\"\n"
    );
    let stderr = fails(&manifest, &[]);
    assert!(
        stderr.contains("the required variable `token` has no value"),
        "{stderr}"
    );
}

#[test]
fn an_undeclared_store_is_reported_before_compiling() {
    let manifest =
        format!("{HEAD}[component.web]\nsource = \"app.wasm\"\nkey_value_stores = [\"cache\"]\n");
    let stderr = fails(&manifest, &[]);
    assert!(stderr.contains("cache"), "{stderr}");
}

#[test]
fn a_source_that_is_not_wasm_is_named_as_such() {
    let stderr = fails(
        &format!("{HEAD}[component.web]\nsource = \"app.wasm\"\n"),
        &[],
    );
    assert!(
        stderr.contains("app.wasm`, the source of component `web`, is not a WebAssembly file"),
        "{stderr}"
    );
}

#[test]
fn a_listen_fd_that_is_not_a_listening_socket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.wasm"), b"not wasm").unwrap();
    std::fs::write(
        dir.path().join("spin.toml"),
        format!("{HEAD}[component.web]\nsource = \"app.wasm\"\n"),
    )
    .unwrap();
    for fd in ["0", "not-a-number", "9999"] {
        let out = spin(dir.path())
            .args(["up", "--listen", "127.0.0.1:0"])
            .env("SPIN_LISTEN_FD", fd)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("SPIN_LISTEN_FD"), "{fd}: {stderr}");
        assert!(
            !stderr.contains("WebAssembly"),
            "checked after loading: {stderr}"
        );
    }
}

/// A component built against a pre-release of WASI 0.2 (Spin 2.0 and 2.1's
/// SDKs) is refused by name, with what to do, not with a linker error.
#[test]
fn a_component_of_a_pre_release_wasi_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let component =
        wat::parse_str(r#"(component (import "wasi:io/streams@0.2.0-rc-2023-10-18" (instance)))"#)
            .unwrap();
    std::fs::write(dir.path().join("app.wasm"), component).unwrap();
    std::fs::write(
        dir.path().join("spin.toml"),
        format!("{HEAD}[component.web]\nsource = \"app.wasm\"\n"),
    )
    .unwrap();
    let stderr = support::spin::fails_to_start(dir.path(), &dir.path().join("spin.toml"), &[]);
    assert!(
        stderr.contains(
            "component `web` uses `wasi:io/streams@0.2.0-rc-2023-10-18`, from a pre-release of WASI 0.2"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: rebuild it with a current SDK"),
        "{stderr}"
    );

    // Another proposal's release candidate is stubbed like any interface
    // the host lacks: this component gets as far as its missing handler.
    let component =
        wat::parse_str(r#"(component (import "wasi:nn/tensor@0.2.0-rc-2024-10-28" (instance)))"#)
            .unwrap();
    std::fs::write(dir.path().join("app.wasm"), component).unwrap();
    let stderr = support::spin::fails_to_start(dir.path(), &dir.path().join("spin.toml"), &[]);
    assert!(!stderr.contains("pre-release"), "{stderr}");
    assert!(
        stderr.contains("exports neither `wasi:http/incoming-handler@0.2.x`"),
        "{stderr}"
    );
}
