//! `spin doctor` against real files, ports and services (issue 12). Each
//! test writes its app to a temp dir, listens-checks a free port and keeps
//! its own (empty) Python toolchain cache, so the outcome depends only on
//! what the test sets up and on the Redis (6379) and PostgreSQL (5432) that
//! `.ci/run` keeps running.

mod support;

use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, SystemTime};

use support::spin::{free_port, spin};

/// What `spin doctor` printed and how it exited.
struct Outcome {
    code: i32,
    stdout: String,
}

impl Outcome {
    /// The line that starts with `prefix`; fails showing the whole report.
    fn line(&self, prefix: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{}", self.stdout))
    }

    /// The `hint:` printed under the line that starts with `prefix`.
    fn hint_of(&self, prefix: &str) -> &str {
        let mut lines = self.stdout.lines().skip_while(|l| !l.starts_with(prefix));
        lines.next();
        lines
            .find(|l| !l.starts_with("    "))
            .and_then(|l| l.strip_prefix("  hint: "))
            .unwrap_or_else(|| panic!("no hint under {prefix:?} in:\n{}", self.stdout))
    }

    fn assert_code(&self, code: i32) {
        assert_eq!(self.code, code, "exit code; report:\n{}", self.stdout);
    }
}

/// Runs `spin doctor -f <dir> --listen 127.0.0.1:<free> <args>` with a
/// private, empty toolchain cache.
fn doctor(dir: &Path, args: &[&str]) -> Outcome {
    doctor_with(dir, args, &[])
}

fn doctor_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut has_listen = false;
    for arg in args {
        has_listen |= *arg == "--listen";
    }
    let mut cmd = spin(dir);
    cmd.arg("doctor").arg("-f").arg(dir).args(args);
    if !has_listen {
        cmd.args(["--listen", &listen]);
    }
    cmd.env("XDG_CACHE_HOME", dir.join(".test-cache"))
        .env_remove("RUNTIME_CONFIG_FILE")
        .env_remove("SPIN_PYTHON");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().expect("running spin doctor");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "spin doctor wrote to stderr:\n{stderr}");
    Outcome {
        code: out.status.code().expect("spin doctor exited with a code"),
        stdout: String::from_utf8(out.stdout).unwrap(),
    }
}

/// A v2 manifest with one component `hello` whose source is `app.wasm`,
/// and `extra` appended to its table.
fn manifest(extra: &str) -> String {
    format!(
        r#"spin_manifest_version = 2

[application]
name = "hello"

[[trigger.http]]
route = "/..."
component = "hello"

[component.hello]
source = "app.wasm"
{extra}
"#
    )
}

fn write_app(extra: &str, built: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("spin.toml"), manifest(extra)).unwrap();
    if built {
        // Doctor checks existence and times only, not the contents.
        fs::write(dir.path().join("app.wasm"), b"\0asm\x0d\0\x01\0").unwrap();
    }
    dir
}

fn set_mtime(path: &Path, time: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

const PY2WASM_BUILD: &str = "build.command = \"spin py2wasm app -o app.wasm\"";

#[test]
fn a_healthy_app_passes_every_check_and_exits_0() {
    let dir = write_app(
        r#"allowed_outbound_hosts = ["redis://127.0.0.1:6379", "postgres://127.0.0.1", "https://example.com"]"#,
        true,
    );
    let listen = format!("127.0.0.1:{}", free_port());
    let out = doctor(dir.path(), &["--listen", &listen]);
    out.assert_code(0);
    assert!(
        out.line("✓ manifest: ")
            .ends_with("loads (1 component, 1 trigger)")
    );
    assert_eq!(
        out.line("✓ component `hello`"),
        "✓ component `hello`: source `app.wasm` exists"
    );
    assert_eq!(
        out.line("✓ listen address"),
        format!("✓ listen address: {listen} is free")
    );
    assert_eq!(
        out.line("✓ service `redis://127.0.0.1:6379`"),
        "✓ service `redis://127.0.0.1:6379`: answers (used by component `hello` at spin.toml:12)"
    );
    // The default port is filled in.
    out.line("✓ service `postgres://127.0.0.1:5432`: answers");
    // HTTPS grants are not services to probe.
    assert!(!out.stdout.contains("example.com"), "{}", out.stdout);
    assert!(!out.stdout.contains('✗'), "{}", out.stdout);
    assert!(
        out.stdout.ends_with("\nNo problems found.\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_missing_source_is_a_problem_whose_hint_is_spin_build() {
    let dir = write_app(PY2WASM_BUILD, false);
    let out = doctor(dir.path(), &[]);
    out.assert_code(1);
    let line = "✗ component `hello`: source `app.wasm` does not exist";
    out.line(line);
    assert_eq!(
        out.hint_of(line),
        "run `spin build` (it runs `spin py2wasm app -o app.wasm`)"
    );

    // Built, the same app has no problem.
    fs::write(dir.path().join("app.wasm"), b"\0asm\x0d\0\x01\0").unwrap();
    let out = doctor(dir.path(), &[]);
    out.assert_code(0);
    out.line("✓ component `hello`: source `app.wasm`");
}

#[test]
fn a_source_older_than_its_python_files_is_stale() {
    let dir = write_app(PY2WASM_BUILD, true);
    let app_py = dir.path().join("app.py");
    let app_wasm = dir.path().join("app.wasm");
    fs::write(&app_py, "def handle_request(request): ...\n").unwrap();
    // Virtual environments are not the app's sources.
    let venv = dir.path().join("venv");
    fs::create_dir_all(venv.join("lib")).unwrap();
    fs::write(venv.join("pyvenv.cfg"), "").unwrap();
    fs::write(venv.join("lib/site.py"), "").unwrap();
    let now = SystemTime::now();
    let earlier = now - Duration::from_secs(60);
    let later = now + Duration::from_secs(60);

    set_mtime(&app_wasm, earlier);
    set_mtime(&app_py, now);
    set_mtime(&venv.join("lib/site.py"), later);
    let out = doctor(dir.path(), &[]);
    let line = "! component `hello`: stale: `app.py` changed after `app.wasm` was built";
    out.line(line);
    assert_eq!(
        out.hint_of(line),
        "run `spin build` (it runs `spin py2wasm app -o app.wasm`)"
    );
    // A warning, not a problem.
    out.assert_code(0);

    set_mtime(&app_wasm, later);
    let out = doctor(dir.path(), &[]);
    assert_eq!(
        out.line("✓ component `hello`"),
        "✓ component `hello`: source `app.wasm` is newer than its 1 watched file"
    );
}

#[test]
fn watch_globs_are_read_from_the_build_workdir() {
    let dir = write_app(
        "[component.hello.build]\ncommand = \"make\"\nworkdir = \"src\"\nwatch = [\"**/*.c\"]",
        true,
    );
    let src = dir.path().join("src/lib");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("a.c"), "").unwrap();
    set_mtime(
        &dir.path().join("app.wasm"),
        SystemTime::now() - Duration::from_secs(60),
    );
    let out = doctor(dir.path(), &[]);
    out.line("! component `hello`: stale: `src/lib/a.c` changed after `app.wasm` was built");
    // Not a Python build: no toolchain to check.
    assert!(!out.stdout.contains("Python toolchain"), "{}", out.stdout);
}

#[test]
fn a_port_in_use_is_a_problem_whose_hint_names_a_free_port() {
    let dir = write_app("", true);
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = doctor(dir.path(), &["--listen", &addr]);
    out.assert_code(1);
    let line = format!("✗ listen address: {addr} is in use");
    out.line(&line);
    let hint = out.hint_of(&line);
    let suggested = hint
        .strip_prefix("run `spin up --listen 127.0.0.1:")
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("hint without a command: {hint}"));
    let port: u16 = suggested.parse().unwrap();
    assert_ne!(port, taken.local_addr().unwrap().port());
    TcpListener::bind(("127.0.0.1", port)).expect("the suggested port is free");

    drop(taken);
    let out = doctor(dir.path(), &["--listen", &addr]);
    out.assert_code(0);
    out.line(&format!("✓ listen address: {addr} is free"));
}

#[test]
fn a_granted_service_that_refuses_is_a_problem() {
    let closed = free_port();
    let dir = write_app(
        &format!(r#"allowed_outbound_hosts = ["redis://127.0.0.1:{closed}"]"#),
        true,
    );
    let out = doctor(dir.path(), &[]);
    out.assert_code(1);
    let line = format!(
        "✗ service `redis://127.0.0.1:{closed}`: refused the connection (used by component `hello` at spin.toml:12)"
    );
    out.line(&line);
    assert_eq!(
        out.hint_of(&line),
        format!(
            "start Redis on port {closed}, e.g. `redis-server --port {closed}`, or correct the `allowed_outbound_hosts` entry at spin.toml:12"
        )
    );
    assert!(
        out.stdout.ends_with("\n1 problem, 0 warnings.\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_unloadable_manifest_stops_the_checks_that_need_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("spin.toml"),
        manifest("").replace("source =", "sorce ="),
    )
    .unwrap();
    let out = doctor(dir.path(), &[]);
    out.assert_code(1);
    let line = out.line("✗ manifest: ");
    assert!(line.ends_with("does not load; the checks that need it are skipped"));
    assert!(out.stdout.contains("spin.toml:11:1"), "{}", out.stdout);
    assert!(out.hint_of("✗ manifest: ").contains("`source`"));
    assert!(
        !out.stdout
            .lines()
            .any(|l| l.contains(" component `hello`: ")),
        "{}",
        out.stdout
    );
    // The checks that don't need the manifest still run.
    out.line("✓ listen address");

    let empty = tempfile::tempdir().unwrap();
    let out = doctor(empty.path(), &[]);
    out.assert_code(1);
    out.line("✗ manifest: no application manifest at ");
    assert!(out.hint_of("✗ manifest: ").contains("-f <path"));
}

#[test]
fn the_python_toolchain_is_found_in_spin_py2wasm_s_cache() {
    let dir = write_app(PY2WASM_BUILD, true);
    let out = doctor(dir.path(), &[]);
    let line = "! Python toolchain: componentize-py 0.16.0 is not provisioned yet";
    out.line(line);
    assert!(
        out.hint_of(line).starts_with("run `spin build` once"),
        "{}",
        out.stdout
    );
    out.assert_code(0);

    // What `Toolchain::find` looks for: the virtual environment's interpreter.
    let bin = dir
        .path()
        .join(".test-cache/spin/python/componentize-py-0.16.0/bin");
    fs::create_dir_all(&bin).unwrap();
    fs::write(bin.join("python"), "").unwrap();
    let out = doctor(dir.path(), &[]);
    out.line("✓ Python toolchain: componentize-py 0.16.0 is provisioned in ");
}

#[test]
fn a_missing_interpreter_is_a_problem_when_a_build_is_needed() {
    let dir = write_app(PY2WASM_BUILD, false);
    let out = doctor_with(dir.path(), &[], &[("SPIN_PYTHON", "/nonexistent/python3")]);
    out.assert_code(1);
    let line = out.line("✗ Python toolchain: ");
    assert!(line.contains("`/nonexistent/python3`"), "{line}");
    assert!(out.hint_of("✗ Python toolchain: ").contains("SPIN_PYTHON"));
}

#[test]
fn variables_are_resolved_as_spin_up_resolves_them() {
    let dir = tempfile::tempdir().unwrap();
    let text = manifest(r#"allowed_outbound_hosts = ["redis://127.0.0.1:{{ redis_port }}"]"#)
        .replace(
            "[[trigger.http]]",
            "[variables]\nredis_port = { required = true }\n\n[[trigger.http]]",
        );
    fs::write(dir.path().join("spin.toml"), text).unwrap();
    fs::write(dir.path().join("app.wasm"), b"\0asm\x0d\0\x01\0").unwrap();

    let out = doctor(dir.path(), &[]);
    out.assert_code(1);
    let line = "✗ variables: the required variable `redis_port` has no value";
    out.line(line);
    assert!(out.hint_of(line).contains("SPIN_VARIABLE_REDIS_PORT"));
    out.line("- service `redis://127.0.0.1:{{ redis_port }}`: ");

    let out = doctor_with(dir.path(), &[], &[("SPIN_VARIABLE_REDIS_PORT", "6379")]);
    out.assert_code(0);
    out.line("✓ variables: the variable has a value");
    out.line("✓ service `redis://127.0.0.1:6379`: answers");
}

#[test]
fn the_runtime_config_is_parsed_and_its_redis_stores_reached() {
    let dir = write_app(r#"key_value_stores = ["cache"]"#, true);
    let closed = free_port();
    fs::write(
        dir.path().join("runtime-config.toml"),
        format!(
            "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:{closed}\"\n"
        ),
    )
    .unwrap();

    // Not given: the store is undefined, and the unused file is pointed out.
    let out = doctor(dir.path(), &[]);
    out.assert_code(1);
    let line = "✗ component `hello`: uses the key-value store `cache`, which is not defined";
    out.line(line);
    assert!(out.hint_of(line).contains("--runtime-config-file"));
    out.line("- runtime config: none given");

    // Given through the environment, as `spin up` reads it.
    let config = dir.path().join("runtime-config.toml");
    let out = doctor_with(
        dir.path(),
        &[],
        &[("RUNTIME_CONFIG_FILE", config.to_str().unwrap())],
    );
    out.assert_code(1);
    out.line("✓ runtime config: ");
    assert!(!out.stdout.contains("is not defined"), "{}", out.stdout);
    let line = format!(
        "✗ service `redis://127.0.0.1:{closed}`: refused the connection (used by key-value store `cache` in runtime-config.toml)"
    );
    out.line(&line);
    assert!(
        out.hint_of(&line).ends_with(
            "or correct the `url` of `[key_value_store.cache]` in `runtime-config.toml`"
        )
    );

    fs::write(&config, "[key_value_store.cache]\ntype = \"nosuch\"\n").unwrap();
    let out = doctor(
        dir.path(),
        &["--runtime-config-file", config.to_str().unwrap()],
    );
    out.assert_code(1);
    out.line("✗ runtime config: ");
    assert!(
        out.stdout.contains("runtime-config.toml:2"),
        "{}",
        out.stdout
    );
    out.hint_of("✗ runtime config: ");
}

#[test]
fn a_source_that_is_not_wasm_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("spin.toml"),
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n[component.hello]\nsource = \"app.wasm\"\n",
    )
    .unwrap();
    fs::write(dir.path().join("app.wasm"), "<html>not wasm</html>").unwrap();
    let out = doctor(dir.path(), &[]);
    out.assert_code(1);
    out.line("✗ component `hello`: source `app.wasm` is not a WebAssembly file");
}

#[test]
fn models_without_a_service_are_pointed_out_and_the_service_is_reached() {
    let dir = write_app(r#"ai_models = ["llama2-chat"]"#, true);
    let line =
        "! component `hello`: lists `ai_models` (llama2-chat), and no model service is configured";
    let out = doctor(dir.path(), &[]);
    out.line(line);
    assert!(
        out.hint_of(line).contains("[llm_compute]"),
        "{}",
        out.stdout
    );

    // A runtime config that does not load says nothing of models (it is
    // reported itself).
    let config = dir.path().join("rc.toml");
    fs::write(&config, "[llm_compute]\ntype = \"cloud\"\n").unwrap();
    let out = doctor(
        dir.path(),
        &["--runtime-config-file", config.to_str().unwrap()],
    );
    out.line("✗ runtime config: ");
    assert!(!out.stdout.contains("no model service"), "{}", out.stdout);

    let closed = free_port();
    fs::write(
        &config,
        format!(
            "[llm_compute]\ntype = \"remote_http\"\nurl = \"http://127.0.0.1:{closed}\"\nauth_token = \"t\"\n"
        ),
    )
    .unwrap();
    let out = doctor(
        dir.path(),
        &["--runtime-config-file", config.to_str().unwrap()],
    );
    out.assert_code(1);
    assert!(!out.stdout.contains("no model service"), "{}", out.stdout);
    let line = format!(
        "✗ service `http://127.0.0.1:{closed}`: refused the connection (used by the model service of `[llm_compute]` in rc.toml)"
    );
    out.line(&line);
    assert!(
        out.hint_of(&line)
            .ends_with("or correct the `url` of `[llm_compute]` in `rc.toml`"),
        "{}",
        out.stdout
    );
}
