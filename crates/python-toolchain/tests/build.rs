//! Builds real apps with the real componentize-py. The toolchain is installed
//! once into the target directory and reused by later runs, so only the first
//! run needs the Python package index.

use std::fs;
use std::path::{Path, PathBuf};

use spin_python_toolchain::{BuildOptions, Error, Outcome, Stage, build};

mod component_imports;
use component_imports::{imports, spin_provides};

/// The seed page's hello-world handler.
const HELLO: &str = r#"from spin_http import Response

def handle_request(request):
    return Response(200,
                    [("content-type", "text/plain")],
                    bytes(f"Hello from the Python SDK", "utf-8"))
"#;

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("py2wasm-cache")
}

fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn options(dir: &Path) -> BuildOptions {
    let mut options = BuildOptions::new("app", vec![dir.to_owned()], dir.join("app.wasm"));
    options.project_dir = dir.to_owned();
    options.cache_dir = cache_dir();
    options.virtual_env = None;
    options
}

#[test]
fn hello_app_builds_once_and_imports_only_what_spin_provides() {
    let dir = app(&[("app.py", HELLO)]);
    let options = options(dir.path());
    let mut stages = Vec::new();
    let outcome = build(&options, &mut |stage| stages.push(stage)).unwrap();
    assert!(
        matches!(outcome, Outcome::Built(bytes) if bytes > 1_000_000),
        "{outcome:?}"
    );
    assert!(stages.contains(&Stage::Componentizing));

    let imports = imports(&options.output);
    assert!(
        imports
            .iter()
            .any(|name| name == "wasi:http/outgoing-handler@0.2.0"),
        "{imports:?}"
    );
    assert!(
        imports
            .iter()
            .any(|name| name == "fermyon:spin/variables@2.0.0"),
        "{imports:?}"
    );
    let foreign: Vec<&String> = imports.iter().filter(|name| !spin_provides(name)).collect();
    assert!(
        foreign.is_empty(),
        "imports Spin does not provide: {foreign:?}"
    );

    let mut stages = Vec::new();
    assert_eq!(
        build(&options, &mut |stage| stages.push(stage)).unwrap(),
        Outcome::UpToDate
    );
    assert!(stages.is_empty(), "a no-op build ran {stages:?}");
}

#[test]
fn syntax_error_is_reported_with_file_and_line() {
    let dir = app(&[(
        "app.py",
        "from spin_http import Response\n\ndef handle_request(request)\n    return None\n",
    )]);
    let options = options(dir.path());
    let error = build(&options, &mut |_| {}).unwrap_err();
    let Error::Python(failure) = &error else {
        panic!("unexpected error: {error}")
    };
    assert_eq!(failure.location, Some((dir.path().join("app.py"), 3)));
    assert_eq!(failure.message, "SyntaxError: expected ':'");
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:3: SyntaxError",
            dir.path().join("app.py").display()
        )),
        "{text}"
    );
    assert!(
        !text.contains("spin_py2wasm"),
        "SDK glue leaked into the message: {text}"
    );
    assert!(!options.output.exists());
}

#[test]
fn missing_handler_is_explained() {
    let dir = app(&[("app.py", "x = 1\n")]);
    let error = build(&options(dir.path()), &mut |_| {}).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("defines no `handle_request` function"),
        "{text}"
    );
}

#[test]
fn pure_python_dependency_from_requirements_txt() {
    let source = "import humanize\nfrom spin_http import Response\n\n\
        SIZE = humanize.naturalsize(1_000_000)\n\n\
        def handle_request(request):\n    return Response(200, {}, SIZE.encode())\n";
    let dir = app(&[
        ("app.py", source),
        ("requirements.txt", "humanize==4.9.0\n"),
    ]);
    let options = options(dir.path());
    let mut stages = Vec::new();
    let outcome = build(&options, &mut |stage| stages.push(stage)).unwrap();
    assert!(matches!(outcome, Outcome::Built(_)), "{outcome:?}");
    assert!(options.output.is_file());
}

#[test]
fn native_only_dependency_fails_with_a_hint() {
    let dir = app(&[("app.py", HELLO), ("requirements.txt", "numpy==2.1.0\n")]);
    let error = build(&options(dir.path()), &mut |_| {}).unwrap_err();
    assert!(
        matches!(error, Error::DependencyInstallFailed { .. }),
        "{error}"
    );
    assert!(
        error
            .hint()
            .is_some_and(|hint| hint.contains("pure-Python")),
        "{error}"
    );
}
