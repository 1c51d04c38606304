//! `--max-total-memory` through the real `spin` binary, with components
//! built by spin-sdk 3.x (`wasi:http@0.2`) and 5.0 (`wasi:http@0.3`): a new
//! instance waits for memory instead of failing, idle instances kept for
//! reuse give theirs up, a request that finds none in time is answered
//! `503` with `Retry-After`, and the default cap follows the memory cgroup
//! the server runs in.

mod support;

use std::ffi::CString;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
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

/// A memory cgroup of its own for a `spin up`, where the machine lets the
/// test make one (as root, under cgroup v1's memory controller, or v2 with
/// that controller enabled); removed when dropped. Under v1 it is made
/// within the test's own memory cgroup, so the server stays within the
/// limits the test runs under.
struct MemoryCgroup {
    dir: PathBuf,
    procs: CString,
}

impl MemoryCgroup {
    fn new(limit: u64) -> Option<Self> {
        let name = format!("spin-test-{}", std::process::id());
        let v1 = Path::new("/sys/fs/cgroup/memory");
        let (dir, limit_file) = if v1.join("cgroup.procs").exists() {
            (
                own_v1_memory_cgroup(v1).join(&name),
                "memory.limit_in_bytes",
            )
        } else if std::fs::read_to_string("/sys/fs/cgroup/cgroup.subtree_control")
            .is_ok_and(|enabled| enabled.split_whitespace().any(|c| c == "memory"))
        {
            (Path::new("/sys/fs/cgroup").join(&name), "memory.max")
        } else {
            return None;
        };
        std::fs::create_dir(&dir).ok()?;
        let cgroup = Self {
            procs: CString::new(dir.join("cgroup.procs").into_os_string().into_vec()).unwrap(),
            dir,
        };
        std::fs::write(cgroup.dir.join(limit_file), limit.to_string()).ok()?;
        Some(cgroup)
    }

    /// Has `cmd`'s process join the cgroup before it runs.
    fn enter(&self, cmd: &mut Command) {
        let procs = self.procs.clone();
        // SAFETY: between fork and exec only async-signal-safe calls: the
        // path was made before, and "0" names the calling process.
        unsafe {
            cmd.pre_exec(move || {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                libc::close(fd);
                match written {
                    1 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                }
            });
        }
    }
}

/// The test's own v1 memory cgroup, as mounted at `mount` (the mount's
/// root where the path from `/proc/self/cgroup` is not there, as in a
/// container).
fn own_v1_memory_cgroup(mount: &Path) -> PathBuf {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let path = cgroups.lines().find_map(|line| {
        let (controllers, path) = line.split_once(':')?.1.split_once(':')?;
        controllers
            .split(',')
            .any(|c| c == "memory")
            .then_some(path)
    });
    let dir = mount.join(path.unwrap_or("/").trim_start_matches('/'));
    if dir.is_dir() {
        dir
    } else {
        mount.to_path_buf()
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[test]
fn the_default_cap_keeps_the_server_within_its_memory_cgroup() {
    let Some(cgroup) = MemoryCgroup::new(1 << 30) else {
        eprintln!(
            "skipped: this machine lets no test make a memory cgroup (root and the memory controller are needed)"
        );
        return;
    };
    let component = build_sdk_app(&test_app("sdk-http"));
    let (_dir, manifest) = app_dir(TWO_COMPONENTS, &component);
    // Compiled outside the cgroup first: compiling takes more memory than
    // serving.
    drop(SpinUp::start(&manifest, &[]));
    // One instance may grow past the cgroup's 1 GiB: only the default cap
    // (1 GiB less a quarter kept for the server) keeps the kernel's OOM
    // killer from stopping the server.
    let up = SpinUp::start_with(&manifest, &["--max-instance-memory", "4G"], |cmd| {
        cgroup.enter(cmd)
    });
    assert_eq!(up.get("/allocate").status, 500);
    let log = up.wait_for_stderr("allowed for them");
    assert!(log.contains("of the 768 MiB allowed for them"), "{log}");
    assert_eq!(up.get("/exact").status, 200);
}
