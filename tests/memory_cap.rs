//! `--max-total-memory` through the real `spin` binary, with components
//! built by spin-sdk 3.x (`wasi:http@0.2`) and 5.0 (`wasi:http@0.3`): a new
//! instance waits for memory instead of failing, idle instances kept for
//! reuse give theirs up, and a request that finds none in time is answered
//! `503` with `Retry-After`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;
use support::http::request;
use support::python::{Spin4Sdk, build_sdk_app, test_app};
use support::spin::{SpinUp, app_dir};

/// One component built twice over, as `one` (most routes) and `two`.
const TWO_COMPONENTS: &str = r#"
spin_manifest_version = 2

[application]
name = "memory-cap"

[[trigger.http]]
route = "/..."
component = "one"

[[trigger.http]]
route = "/two/..."
component = "two"

[component.one]
source = "{source}"

[component.two]
source = "{source}"
"#;

/// The MiB a new instance of the app's component needs to start, as
/// `spin up` tells when its cap is below that: the request is answered
/// `503`, to be tried again.
fn start_size(manifest: &Path, path: &str) -> usize {
    let up = SpinUp::start(manifest, &["--max-total-memory", "1M"]);
    let refused = up.get(path);
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(
        refused.text().contains("memory limit"),
        "{}",
        refused.text()
    );
    let needle = " MiB to start, more than the 1 MiB allowed for all instances together";
    let log = up.wait_for_stderr(needle);
    let at = log.find(needle).unwrap_or_else(|| panic!("{log}"));
    assert!(
        log.contains("hint: raise `spin up --max-total-memory`"),
        "{log}"
    );
    log[..at].rsplit(' ').next().unwrap().parse().unwrap()
}

/// Room for one instance at work, not for two.
fn cap_for_one(start: usize) -> String {
    format!("{}M", start * 3 / 2)
}

#[test]
fn a_new_instance_waits_for_memory_and_idle_instances_give_way() {
    let component = build_sdk_app(&test_app("sdk-http"));
    let (_dir, manifest) = app_dir(TWO_COMPONENTS, &component);
    let cap = cap_for_one(start_size(&manifest, "/exact"));
    let up = SpinUp::start(
        &manifest,
        &[
            "--max-total-memory",
            &cap,
            "--max-queue-wait",
            "2",
            "--max-instance-reuse-count",
            "100",
        ],
    );
    // `one`'s instance is kept for reuse (its globals count requests)...
    assert_eq!(up.get("/counter").text(), "1");
    assert_eq!(up.get("/counter").text(), "2");
    // ...until `two`'s new instance needs its memory. (The pause lets the
    // instance reach the pool after its response: before that, it would
    // not be kept as memory is wanted.)
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(up.get("/two/x").status, 200);
    assert_eq!(up.get("/counter").text(), "1");

    // An upload holds `one`'s instance until its body arrives.
    let mut upload = TcpStream::connect(up.addr).unwrap();
    upload
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        upload,
        "POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 5\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        assert_eq!(upload.read(&mut byte).unwrap(), 1, "{head:?}");
        head.push(byte[0]);
    }
    // The guest reads the body: its instance is live.
    assert!(head.starts_with(b"HTTP/1.1 100"), "{head:?}");

    // Meanwhile a request to `two` finds no memory within the queue wait.
    let refused = up.get("/two/y");
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.header("retry-after"), Some("1"));
    let log = up.wait_for_stderr("found no memory within");
    assert!(
        log.contains("a new instance of component `two` found no memory within"),
        "{log}"
    );

    // Another waits, and is served once the upload is done.
    let addr = up.addr;
    let waiting = std::thread::spawn(move || request(addr, "GET", "/two/z", &[], b"").unwrap());
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !waiting.is_finished(),
        "served while the upload held memory"
    );
    upload.write_all(b"hello").unwrap();
    let mut response = String::new();
    upload.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("hello"), "{response}");
    let served = waiting.join().unwrap();
    assert_eq!(served.status, 200, "{}", served.text());
}

#[test]
fn an_idle_wasi03_instance_gives_its_memory_to_another_component() {
    let sdk = Spin4Sdk::V5;
    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let (_dir, manifest) = app_dir(TWO_COMPONENTS, &component);
    let cap = cap_for_one(start_size(&manifest, "/hello"));
    // Idle instances would be kept for ten minutes.
    let up = SpinUp::start(
        &manifest,
        &["--max-total-memory", &cap, "--idle-instance-timeout", "600"],
    );
    assert_eq!(up.get("/served").text(), "1");
    assert_eq!(up.get("/served").text(), "2");
    let two = up.get("/two/hello");
    assert_eq!(two.status, 200, "{}", two.text());
    // `one`'s idle instance went to make room: a new one serves.
    assert_eq!(up.get("/served").text(), "1");
}
