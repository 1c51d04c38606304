//! A hostile guest's SQL, through the real `spin up` and an official-SDK
//! component that runs the statement in the request body: it cannot reach
//! files beyond its database (unless the runtime config allows it), cannot
//! outlive its request (no core burnt, SIGTERM still ends the process), and
//! cannot build a result larger than `--max-result-size` (at most the
//! instance memory limit).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::http::{Response, request};
use support::python::{build_sdk_app, test_app};
use support::spin::SpinUp;

const MANIFEST: &str = r#"spin_manifest_version = 2
[application]
name = "sqlite-sandbox"
[[trigger.http]]
route = "/..."
component = "app"
[component.app]
source = "app.wasm"
sqlite_databases = ["default", "open"]
"#;

/// `open` may attach files; `default` (in the state dir) may not.
const RUNTIME_CONFIG: &str = r#"
[sqlite_database.open]
type = "spin"
path = "open.db"
allow_attach_file = true
"#;

/// A temp app dir with the test component and the runtime config.
fn app_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let component = build_sdk_app(&test_app("sdk-sqlite-sandbox"));
    std::os::unix::fs::symlink(component, dir.path().join("app.wasm")).unwrap();
    std::fs::write(dir.path().join("spin.toml"), MANIFEST).unwrap();
    std::fs::write(dir.path().join("runtime-config.toml"), RUNTIME_CONFIG).unwrap();
    dir
}

fn start(dir: &Path, args: &[&str]) -> SpinUp {
    let mut all = vec!["--runtime-config-file", "runtime-config.toml"];
    all.extend_from_slice(args);
    SpinUp::start(&dir.join("spin.toml"), &all)
}

/// Runs `statement` on the database `db`.
fn sql(up: &SpinUp, db: &str, statement: &str) -> Response {
    request(
        up.addr,
        "POST",
        &format!("/?db={db}"),
        &[],
        statement.as_bytes(),
    )
    .unwrap()
}

/// Runs `statement` on `default`, expecting the authorizer to refuse it;
/// returns the error text.
fn refused(up: &SpinUp, statement: &str) -> String {
    let answer = sql(up, "default", statement);
    let text = answer.text();
    assert_eq!(answer.status, 500, "{statement}: {text}");
    assert!(text.contains("not authorized"), "{statement}: {text}");
    text
}

/// The user and system CPU time the process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Clock ticks per second (`getconf CLK_TCK`).
fn ticks_per_second() -> u64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The CPU seconds the process has used.
fn cpu_seconds(pid: u32) -> f64 {
    cpu_ticks(pid) as f64 / ticks_per_second() as f64
}

/// CPU seconds the process used over two seconds of wall time.
fn cpu_over_two_seconds(pid: u32) -> f64 {
    let before = cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(2));
    cpu_seconds(pid) - before
}

const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

#[test]
fn attaching_a_file_is_refused_unless_the_runtime_config_allows_it() {
    let dir = app_dir();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("stolen.db");
    let up = start(dir.path(), &[]);

    let attach = format!("ATTACH '{}' AS x", target.display());
    assert!(refused(&up, &attach).contains("allow_attach_file"));
    assert!(!target.exists(), "ATTACH created {}", target.display());

    // A name SQLite computes, or a bound one, could be anything.
    let computed = format!(
        "ATTACH '{}' || '2.db' AS y",
        outside.path().join("x").display()
    );
    refused(&up, &computed);
    assert!(!outside.path().join("x2.db").exists());

    let copy = outside.path().join("copy.db");
    refused(&up, &format!("VACUUM INTO '{}'", copy.display()));
    assert!(!copy.exists());

    refused(&up, "SELECT load_extension('/tmp/evil.so')");
    refused(&up, "PRAGMA temp_store_directory = '/tmp'");

    // What reaches no other file still works.
    let memory = sql(&up, "default", "ATTACH ':memory:' AS m");
    assert_eq!(memory.status, 200, "{}", memory.text());
    let vacuum = sql(&up, "default", "VACUUM");
    assert_eq!(vacuum.status, 200, "{}", vacuum.text());

    // `allow_attach_file = true` lets `open` attach the same file.
    let allowed = sql(&up, "open", &attach);
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    assert!(target.exists());
    assert!(
        up.wait_for_stderr("may not attach the file")
            .contains("sqlite_database.default")
    );
}

#[test]
fn an_endless_query_stops_with_its_request() {
    let dir = app_dir();
    let up = start(dir.path(), &["--request-timeout", "2"]);
    let pid = up.pid();

    let answer = sql(&up, "default", ENDLESS);
    assert_eq!(answer.status, 500, "{}", answer.text());
    // Stopped before the request's time ran out, so the guest saw why.
    assert!(answer.text().contains("interrupted"), "{}", answer.text());

    // Nothing keeps running: an endless query would use a whole core.
    let cpu = cpu_over_two_seconds(pid);
    assert!(
        cpu < 0.5,
        "the server used {cpu} s of CPU in 2 s after the request ended"
    );

    // The connection is free again.
    let next = sql(&up, "default", "SELECT 41 + 1");
    assert_eq!(next.text(), "1 rows: 42");

    let started = Instant::now();
    assert_eq!(up.terminate(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn sigterm_ends_the_server_while_a_query_runs() {
    let dir = app_dir();
    let up = start(dir.path(), &["--request-timeout", "600"]);
    let pid = up.pid();
    let addr = up.addr;
    let client = std::thread::spawn(move || {
        request(addr, "POST", "/?db=default", &[], ENDLESS.as_bytes()).map(|r| r.status)
    });
    // Wait until the query has burnt a CPU second, so SIGTERM arrives while
    // it runs (however loaded the machine is).
    let idle = cpu_seconds(pid);
    let deadline = Instant::now() + Duration::from_secs(120);
    while cpu_seconds(pid) - idle < 1.0 {
        assert!(Instant::now() < deadline, "the query never started");
        std::thread::sleep(Duration::from_millis(100));
    }

    // In-flight requests get 10 s to finish; then the query must stop.
    let started = Instant::now();
    assert_eq!(up.terminate(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(15));
    let _ = client.join();
}

#[test]
fn a_result_larger_than_the_result_cap_is_refused() {
    let dir = app_dir();
    // The result cap is never more than the instance memory.
    let up = start(
        dir.path(),
        &["--max-instance-memory", "128M", "--max-result-size", "1G"],
    );

    let blob = sql(&up, "default", "SELECT zeroblob(1000000000)");
    assert_eq!(blob.status, 500, "{}", blob.text());
    assert!(
        blob.text()
            .contains("larger than the limit of 134217728 bytes"),
        "{}",
        blob.text()
    );

    // 200,000 rows of 1 kB: no single value is too large, the sum is.
    let rows = sql(
        &up,
        "default",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 200000) SELECT zeroblob(1000) FROM c",
    );
    assert_eq!(rows.status, 500, "{}", rows.text());
    assert!(
        rows.text().contains("larger than the limit"),
        "{}",
        rows.text()
    );

    // A result that fits is delivered.
    let fits = sql(&up, "default", "SELECT zeroblob(1000000)");
    assert_eq!(fits.text(), "1 rows: blob[1000000]");
}

#[test]
fn sqlite_memory_stops_at_its_cap_and_the_server_serves_on() {
    let dir = app_dir();
    let up = start(dir.path(), &["--max-sqlite-memory", "32M"]);
    // An in-memory database outlives its request on the shared connection:
    // a guest filling one would grow the server without end.
    let attach = sql(&up, "default", "ATTACH ':memory:' AS m");
    assert_eq!(attach.status, 200, "{}", attach.text());
    let fill = sql(
        &up,
        "default",
        "CREATE TABLE m.big AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100) SELECT randomblob(1000000) AS b FROM c",
    );
    let text = fill.text();
    assert_eq!(fill.status, 500, "{text}");
    assert!(text.contains("out of memory"), "{text}");
    assert!(text.contains("(32 MiB)"), "{text}");
    assert!(text.contains("--max-sqlite-memory"), "{text}");
    let log = up.wait_for_stderr("SQLite statement refused: out of memory");
    assert!(
        log.contains("SQLite statement refused: out of memory"),
        "{log}"
    );

    // The failed statement gave its memory back: the same database, and
    // the file one, work on.
    let small = sql(
        &up,
        "default",
        "CREATE TABLE m.small AS SELECT randomblob(1000000) AS b",
    );
    assert_eq!(small.status, 200, "{}", small.text());
    assert_eq!(
        sql(&up, "default", "SELECT count(*) FROM m.small").text(),
        "1 rows: 1"
    );
    assert_eq!(sql(&up, "open", "SELECT 1").text(), "1 rows: 1");
}

#[test]
fn a_sqlite_memory_or_result_cap_too_small_to_work_is_refused() {
    let dir = app_dir();
    for (flag, says) in [
        ("--max-sqlite-memory", "too little for SQLite"),
        // A connection's own replies must fit the result cap.
        (
            "--max-result-size",
            "too little for one result: give at least 1k",
        ),
    ] {
        let out = support::spin::spin(dir.path())
            .args(["up", flag, "100"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(says), "{flag}: {err}");
    }
}

/// A database file, or a file SQLite keeps beside it, that is a symbolic
/// link is not opened: an application's directory cannot point its store
/// at other data, nor its write-ahead log at a file of the user's, nor
/// have a file created where a dangling link points. The server serves on.
#[test]
fn a_linked_database_file_is_not_opened() {
    let dir = app_dir();
    let elsewhere = tempfile::tempdir().unwrap();
    let canary = elsewhere.path().join("canary.txt");
    std::fs::write(&canary, "alive\n").unwrap();
    std::fs::create_dir(dir.path().join(".spin")).unwrap();
    let wal = dir.path().join(".spin/sqlite_db.db-wal");
    std::os::unix::fs::symlink(&canary, &wal).unwrap();
    let dangling = elsewhere.path().join("created.db");
    let open_db = dir.path().join("open.db");
    std::os::unix::fs::symlink(&dangling, &open_db).unwrap();
    let up = start(dir.path(), &[]);
    for (db, link) in [("default", &wal), ("open", &open_db)] {
        let resp = sql(&up, db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
        let text = resp.text();
        assert_eq!(resp.status, 500, "{db}: {text}");
        let name = link.file_name().unwrap().to_str().unwrap();
        assert!(
            text.contains(&format!("{name}` is a symbolic link")),
            "{db}: {text}"
        );
    }
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "alive\n");
    assert!(!dangling.exists());
    assert_eq!(up.get("/.well-known/spin/health").status, 200);
    // The host says so too, once a file however often it is tried.
    sql(&up, "open", "SELECT 1");
    up.wait_for_stderr_count("a database did not open", 2);
    // A line the retry would add may still be in the pipe.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let log = up.stderr();
    for link in [&wal, &open_db] {
        let name = link.file_name().unwrap().to_str().unwrap();
        let lines = log
            .lines()
            .filter(|l| l.contains("a database did not open") && l.contains(&format!("{name}`")))
            .count();
        assert_eq!(lines, 1, "{name}: {log}");
    }
    assert!(
        log.contains("hint: replace it with the database file itself"),
        "{log}"
    );
}
