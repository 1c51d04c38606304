//! `spin up --runtime-config-file`, through the real `spin` binary and an
//! official-SDK component: labelled key-value stores backed by an SQLite
//! file and by the local Redis, a labelled SQLite database at a custom path,
//! variable providers, and the errors a bad file or an undefined label give.

mod support;

use std::path::Path;
use std::process::Command;
use support::python::{build_sdk_app, test_app};
use support::spin::{SpinUp, spin};

const MANIFEST: &str = r#"spin_manifest_version = 2
[application]
name = "runtime-config"
[variables]
greeting = { required = true }
token = { default = "from the manifest" }
[[trigger.http]]
route = "/..."
component = "app"
[component.app]
source = "app.wasm"
key_value_stores = ["default", "files", "cache"]
sqlite_databases = ["notes"]
[component.app.variables]
greeting = "{{ greeting }}"
token = "{{ token }}"
"#;

/// A temp app dir holding `manifest`, the test component as `app.wasm`, and
/// `files` (path, contents) relative to it.
fn app_dir(manifest: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let component = build_sdk_app(&test_app("sdk-runtime-config"));
    std::os::unix::fs::symlink(component, dir.path().join("app.wasm")).unwrap();
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    for (path, contents) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

fn redis_get(key: &str) -> String {
    let out = Command::new("redis-cli")
        .args(["get", key])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn labels_are_wired_to_the_configured_stores_databases_and_providers() {
    let redis_key = format!("runtime-config-test-{}", std::process::id());
    // The key-value `path` is relative to the config file, the SQLite one to
    // the current directory (the app dir here), as in Spin.
    let config = r#"
[key_value_store.files]
type = "spin"
path = "data/files.db"

[key_value_store.cache]
type = "redis"
url = "redis://127.0.0.1:6379"

[sqlite_database.notes]
type = "spin"
path = "db/notes.db"

[[variables_provider]]
type = "static"
values = { greeting = "hello from the static provider" }

[[variables_provider]]
type = "env"
prefix = "RCTEST"
"#;
    let dir = app_dir(MANIFEST, &[("config/runtime-config.toml", config)]);
    let manifest = dir.path().join("spin.toml");
    let args = ["--runtime-config-file", "config/runtime-config.toml"];
    let start = || {
        SpinUp::start_with(&manifest, &args, |cmd| {
            cmd.env("RCTEST_TOKEN", "from the env provider");
        })
    };
    let up = start();
    let text = |path: &str| {
        let resp = up.get(path);
        assert_eq!(resp.status, 200, "{path}: {}\n{}", resp.text(), up.stderr());
        resp.text()
    };

    // A spin store: its own file, and separate from `default`.
    assert_eq!(text("/kv/set?label=files&key=k&value=filed"), "ok");
    assert_eq!(text("/kv/get?label=files&key=k"), "filed");
    assert_eq!(text("/kv/get?label=default&key=k"), "missing");
    assert!(dir.path().join("config/data/files.db").is_file());

    // A Redis store: keys are used as they are.
    assert_eq!(
        text(&format!("/kv/set?label=cache&key={redis_key}&value=cached")),
        "ok"
    );
    assert_eq!(redis_get(&redis_key), "cached");
    assert_eq!(
        text(&format!("/kv/get?label=cache&key={redis_key}")),
        "cached"
    );
    Command::new("redis-cli")
        .args(["del", &redis_key])
        .output()
        .unwrap();

    // An SQLite database at the configured path.
    assert_eq!(text("/sqlite?label=notes&note=first"), "first");
    assert!(dir.path().join("db/notes.db").is_file());
    assert!(!dir.path().join(".spin/sqlite_db.db").exists());

    // Variables: the static provider, then the env provider's prefix.
    assert_eq!(
        text("/variable?name=greeting"),
        "hello from the static provider"
    );
    assert_eq!(text("/variable?name=token"), "from the env provider");
    drop(up);

    // The files outlive the process.
    let up = start();
    assert_eq!(up.get("/kv/get?label=files&key=k").text(), "filed");
    assert_eq!(
        up.get("/sqlite?label=notes&note=second").text(),
        "first,second"
    );
}

/// Runs `spin up` expecting it to fail before serving; returns stderr.
fn failed_start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = spin(dir)
        .args(["up", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "spin up started:\n{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("Serving"), "{stdout}");
    stderr
}

#[test]
fn a_bad_runtime_config_stops_startup_naming_the_line_and_the_fix() {
    let dir = app_dir(
        MANIFEST,
        &[
            (
                "typo.toml",
                "[key_value_store.files]\ntype = \"spin\"\npth = \"files.db\"\n",
            ),
            (
                "cosmos.toml",
                "[key_value_store.cache]\ntype = \"azure_cosmos\"\n",
            ),
        ],
    );
    let err = failed_start(
        dir.path(),
        &[
            "--runtime-config-file",
            "typo.toml",
            "--variable",
            "greeting=x",
        ],
        &[],
    );
    assert!(
        err.contains("unknown key `pth` in `[key_value_store.files]`"),
        "{err}"
    );
    assert!(err.contains("--> typo.toml:3:1"), "{err}");
    assert!(err.contains(" 3 | pth = \"files.db\""), "{err}");
    assert!(
        err.contains("hint: the keys allowed here are `type` and `path`"),
        "{err}"
    );

    // The environment variable names the file too.
    let err = failed_start(
        dir.path(),
        &["--variable", "greeting=x"],
        &[("RUNTIME_CONFIG_FILE", "cosmos.toml")],
    );
    assert!(
        err.contains("`azure_cosmos` is not a key-value store type that this host supports"),
        "{err}"
    );
    assert!(err.contains("cosmos.toml:2:8"), "{err}");

    let err = failed_start(dir.path(), &["--runtime-config-file", "absent.toml"], &[]);
    assert!(err.contains("cannot read the runtime config file"), "{err}");
    assert!(err.contains("absent.toml"), "{err}");
}

#[test]
fn an_undefined_label_stops_startup() {
    let dir = app_dir(MANIFEST, &[]);
    let err = failed_start(dir.path(), &["--variable", "greeting=x"], &[]);
    assert!(
        err.contains("component `app` uses the key-value store `files`, which is not defined"),
        "{err}"
    );
    assert!(err.contains("[key_value_store.files]"), "{err}");
}

/// A Redis store's URL comes from the operator: when it cannot be reached,
/// the error the guest gets (and may print) names the server without the
/// password (issue 10).
#[test]
fn an_unreachable_redis_store_does_not_show_its_password_to_the_guest() {
    let port = support::spin::free_port();
    let config = format!(
        "[key_value_store.files]\ntype = \"spin\"\n[sqlite_database.notes]\ntype = \"spin\"\n\
         [key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://:opw-s3cret@127.0.0.1:{port}\"\n"
    );
    let dir = app_dir(MANIFEST, &[("rc.toml", &config)]);
    let manifest = dir.path().join("spin.toml");
    let up = SpinUp::start_with(&manifest, &["--runtime-config-file", "rc.toml"], |cmd| {
        cmd.env("SPIN_VARIABLE_GREETING", "hi");
    });
    let resp = up.get("/kv/get?label=cache&key=k");
    assert_eq!(resp.status, 502, "{}", resp.text());
    assert!(resp.text().contains("127.0.0.1"), "{}", resp.text());
    assert!(!resp.text().contains("opw-s3cret"), "{}", resp.text());
    let log = up.stderr();
    assert!(!log.contains("opw-s3cret"), "{log}");
}

/// The app with only the key-value store `cache`, configured by `config`
/// (a runtime config file), served with `args` and the environment `env`.
fn start_with_cache_store(
    config: &str,
    args: &[&str],
    env: &[(&str, &Path)],
) -> (tempfile::TempDir, SpinUp) {
    let manifest = MANIFEST
        .replace(r#"["default", "files", "cache"]"#, r#"["cache"]"#)
        .replace("sqlite_databases = [\"notes\"]\n", "");
    let dir = app_dir(&manifest, &[("rc.toml", config)]);
    let mut all = vec!["--runtime-config-file", "rc.toml"];
    all.extend_from_slice(args);
    let up = SpinUp::start_with(&dir.path().join("spin.toml"), &all, |cmd| {
        cmd.env("SPIN_VARIABLE_GREETING", "hi");
        for (name, value) in env {
            cmd.env(name, value);
        }
    });
    (dir, up)
}

/// A Redis key-value store under `--max-result-size`: a value that could
/// not be read back is refused when set; one written past the cap by
/// someone else fails its `get`, without crossing the socket (the
/// connection the stores share stays open); keys are listed while they
/// fit.
#[test]
fn a_redis_store_keeps_to_the_result_cap() {
    // A database of this test's own: the keys of all of it are listed.
    let redis = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-n", "13"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    redis(&["flushdb"]);
    let config = "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379/13\"\n";
    let (_dir, up) = start_with_cache_store(config, &["--max-result-size", "1k"], &[]);
    let get = |path: &str| {
        let resp = up.get(path);
        (resp.status, resp.text())
    };

    let (status, body) = get(&format!(
        "/kv/set?label=cache&key=big&value={}",
        "x".repeat(2000)
    ));
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("the value is 2000 bytes: more than the host reads back for one result"),
        "{body}"
    );
    assert_eq!(redis(&["exists", "big"]), "0");

    // The store's connections to database 13 (not this `redis-cli`'s).
    let store_connections = || {
        let listed = redis(&["client", "list"]);
        let mut ids: Vec<String> = listed
            .lines()
            .filter(|line| line.contains(" db=13 ") && !line.contains(" cmd=client"))
            .filter_map(|line| line.split(' ').find_map(|f| f.strip_prefix("id=")))
            .map(str::to_owned)
            .collect();
        ids.sort();
        ids
    };
    let before = store_connections();
    assert!(!before.is_empty(), "{}", redis(&["client", "list"]));
    redis(&["setrange", "big", "2000", "x"]);
    let (status, body) = get("/kv/get?label=cache&key=big");
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains(
            "the value is 2001 bytes: more than the host reads back for one result (1024 bytes"
        ),
        "{body}"
    );
    assert_eq!(store_connections(), before);
    assert_eq!(
        get("/kv/set?label=cache&key=small&value=fits"),
        (200, "ok".to_owned())
    );
    assert_eq!(
        get("/kv/get?label=cache&key=small"),
        (200, "fits".to_owned())
    );
    assert_eq!(get("/kv/keys?label=cache"), (200, "big,small".to_owned()));

    // Forty keys of 40 bytes and more are past 1k together.
    for n in 0..40 {
        redis(&["set", &format!("{n:040}"), "v"]);
    }
    let (status, body) = get("/kv/keys?label=cache");
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("the store's keys take more than 1024 bytes"),
        "{body}"
    );
    assert_eq!(
        get("/kv/get?label=cache&key=small"),
        (200, "fits".to_owned())
    );
    redis(&["flushdb"]);
}

/// A Redis key-value store over TLS (`rediss://`), its certificate
/// verified against the trusted roots (here the test CA, through
/// SSL_CERT_FILE).
#[test]
fn a_redis_store_over_tls() {
    let certs = tempfile::tempdir().unwrap();
    support::tls::make_certificates(certs.path());
    let port = support::spin::free_port();
    let _redis = support::redis::RedisServer::start_tls(port, certs.path());
    let config =
        format!("[key_value_store.cache]\ntype = \"redis\"\nurl = \"rediss://localhost:{port}\"\n");
    let ca = certs.path().join("ca.pem");
    let (_dir, up) = start_with_cache_store(&config, &[], &[("SSL_CERT_FILE", &ca)]);
    let get = |path: &str| {
        let resp = up.get(path);
        (resp.status, resp.text())
    };
    assert_eq!(
        get("/kv/set?label=cache&key=sealed&value=yes"),
        (200, "ok".to_owned())
    );
    assert_eq!(
        get("/kv/get?label=cache&key=sealed"),
        (200, "yes".to_owned())
    );
}

/// A Redis store's user needs no scripting: `get` reads within the cap
/// with a transaction (as Spin's plain `GET` needs nothing more).
#[test]
fn a_redis_store_reads_without_scripting() {
    let user = format!("spin-noscript-{}", std::process::id());
    let redis = |args: &[&str]| {
        let out = Command::new("redis-cli").args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(
        redis(&[
            "acl",
            "setuser",
            &user,
            "on",
            ">pw",
            "~*",
            "&*",
            "+@all",
            "-@scripting"
        ]),
        "OK"
    );
    let config = format!(
        "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://{user}:pw@127.0.0.1:6379/12\"\n"
    );
    let (_dir, up) = start_with_cache_store(&config, &[], &[]);
    let get = |path: &str| {
        let resp = up.get(path);
        (resp.status, resp.text())
    };
    let key = format!("noscript-{}", std::process::id());
    let set = get(&format!("/kv/set?label=cache&key={key}&value=plain"));
    let read = get(&format!("/kv/get?label=cache&key={key}"));
    let missing = get(&format!("/kv/get?label=cache&key={key}-not-there"));
    redis(&["-n", "12", "del", &key]);
    redis(&["acl", "deluser", &user]);
    assert_eq!(set, (200, "ok".to_owned()));
    assert_eq!(read, (200, "plain".to_owned()));
    assert_eq!(missing, (200, "missing".to_owned()));
}
