//! `spin kube scaffold` from the CLI (the manifest's shape and its schema
//! are tested in `crates/kube`).

mod support;

use support::spin::spin;

#[test]
fn scaffold_prints_a_spinapp_and_its_runtime_config_secret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runtime-config.toml"),
        "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n",
    )
    .unwrap();
    let out = spin(dir.path())
        .args([
            "kube",
            "scaffold",
            "--from",
            "localhost:5000/hello_py:v1",
            "--replicas",
            "3",
            "--variable",
            "greeting=yes",
            "--runtime-config-file",
            "runtime-config.toml",
            "-o",
            "app.yaml",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = std::fs::read_to_string(dir.path().join("app.yaml")).unwrap();
    for expected in [
        "apiVersion: core.spinkube.dev/v1alpha1\nkind: SpinApp\nmetadata:\n  name: hello-py\n",
        "  image: localhost:5000/hello_py:v1\n",
        "  executor: containerd-shim-spin\n",
        "  replicas: 3\n",
        // `yes` stays a string for YAML 1.1 readers such as kubectl.
        "  - name: greeting\n    value: \"yes\"\n",
        "    loadFromSecret: hello-py-runtime-config\n",
        "---\napiVersion: v1\nkind: Secret\n",
    ] {
        assert!(yaml.contains(expected), "missing {expected:?} in\n{yaml}");
    }
}

#[test]
fn scaffold_checks_the_runtime_config_and_the_image_before_printing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[key_value_store.default]\ntype = \"nosuch\"\n",
    )
    .unwrap();
    let out = spin(dir.path())
        .args([
            "kube",
            "scaffold",
            "--from",
            "ghcr.io/me/app:v1",
            "--runtime-config-file",
            "bad.toml",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(out.stdout.is_empty());

    let out = spin(dir.path())
        .args(["kube", "scaffold", "--from", "ghcr.io/me/2048:v1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("\nhint: "), "{stderr}");
    assert!(stderr.contains("--name"), "{stderr}");
}
