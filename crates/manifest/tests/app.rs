//! `App` methods that later layers call, against real files.

use std::fs;
use std::path::Path;

use spin_manifest::{ErrorKind, Location};

const MANIFEST: &str = r#"spin_manifest_version = 2

[application]
name = "hello"

[[trigger.http]]
route = "/..."
component = "built"

[[trigger.http]]
route = "/plain"
component = "plain"

[component.built]
source = "app.wasm"
allowed_outbound_hosts = ["example.com"]
build.command = "componentize-py componentize app -o app.wasm"

[component.plain]
source = "bin/plain.wasm"
"#;

fn write_app(dir: &Path) -> spin_manifest::App {
    let path = dir.join("spin.toml");
    fs::write(&path, MANIFEST).unwrap();
    spin_manifest::load_file(&path).unwrap()
}

#[test]
fn check_sources_asks_for_a_build_when_a_built_source_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let app = write_app(dir.path());
    let error = app.check_sources().unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::SourceNotFound { component, .. } if component == "built")
    );
    assert_eq!(
        error.location(),
        Some(Location {
            line: 15,
            column: 10
        })
    );
    assert_eq!(error.field(), Some("source"));
    assert!(error.hint().contains("run `spin build`"), "{error}");
    let rendered = error.to_string();
    assert!(
        rendered.contains(" 15 | source = \"app.wasm\"\n    |          ^^^^^^^^^^\n"),
        "{rendered}"
    );
}

#[test]
fn check_sources_points_at_the_path_when_there_is_no_build() {
    let dir = tempfile::tempdir().unwrap();
    let app = write_app(dir.path());
    fs::write(dir.path().join("app.wasm"), b"\0asm").unwrap();
    let error = app.check_sources().unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::SourceNotFound { component, .. } if component == "plain")
    );
    assert!(error.hint().contains("check the `source` path"), "{error}");

    fs::create_dir(dir.path().join("bin")).unwrap();
    fs::write(dir.path().join("bin/plain.wasm"), b"\0asm").unwrap();
    app.check_sources().expect("all sources exist now");
}

#[test]
fn error_at_lets_later_layers_point_at_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let app = write_app(dir.path());
    let host = &app.component("built").unwrap().allowed_outbound_hosts[0];
    let error = app
        .error_at(
            host.location,
            "allowed_outbound_hosts",
            "`example.com` has no scheme",
        )
        .with_hint("write `https://example.com`");
    let path = dir.path().join("spin.toml");
    let expected = format!(
        "error: `allowed_outbound_hosts`: `example.com` has no scheme
   --> {}:16:27
    |
 16 | allowed_outbound_hosts = [\"example.com\"]
    |                           ^^^^^^^^^^^^^
hint: write `https://example.com`",
        path.display()
    );
    assert_eq!(error.to_string(), expected);
    assert_eq!(error.line(), Some(16));
    assert_eq!(error.path(), path);
    assert_eq!(
        error.message(),
        "`allowed_outbound_hosts`: `example.com` has no scheme"
    );
}

#[test]
fn a_missing_file_is_a_read_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spin.toml");
    let error = spin_manifest::load_file(&path).unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Read { .. }));
    assert_eq!(error.location(), None);
    let rendered = error.to_string();
    assert!(
        rendered.starts_with("error: could not read the manifest: "),
        "{rendered}"
    );
    assert!(
        rendered.contains(&format!("  --> {}\nhint: ", path.display())),
        "{rendered}"
    );
}

#[test]
fn parse_takes_the_directory_from_the_path() {
    let app = spin_manifest::parse(MANIFEST, Path::new("spin.toml")).unwrap();
    assert_eq!(app.dir, Path::new("."));
    let app = spin_manifest::parse(MANIFEST, Path::new("/srv/app/spin.toml")).unwrap();
    assert_eq!(app.dir, Path::new("/srv/app"));
    assert_eq!(app.text, MANIFEST);
}
