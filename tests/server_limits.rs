//! The HTTP server against hostile clients, through real sockets and the real
//! `spin up`: clients that never finish their headers, idle keep-alive
//! connections, too many connections, too many open files, a full request
//! queue, oversized headers, and clients that leave mid-request.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};
use support::http::{Response, get};
use support::python::{build_sdk_app, test_app};
use support::spin::{SpinUp, app_dir};

const MANIFEST: &str = r#"
spin_manifest_version = 2

[application]
name = "server-limits"

[[trigger.http]]
route = "/..."
component = "reflect"

[component.reflect]
source = "{source}"
"#;

/// A generous bound for anything that should happen "soon": only a hang
/// (the flaw) exceeds it.
const HANG: Duration = Duration::from_secs(20);

const HEALTH: &str = "/.well-known/spin/health";

fn start(args: &[&str]) -> (tempfile::TempDir, SpinUp) {
    start_with(args, |_| {})
}

fn start_with(args: &[&str], adjust: impl FnOnce(&mut Command)) -> (tempfile::TempDir, SpinUp) {
    let component = build_sdk_app(&test_app("sdk-http"));
    let (dir, manifest) = app_dir(MANIFEST, &component);
    let up = SpinUp::start_with(&manifest, args, adjust);
    (dir, up)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(HANG)).unwrap();
    stream
}

/// Whether the server closed `stream` (EOF or reset) before `HANG`.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Sends a keep-alive request for the health endpoint on `stream` and reads
/// its response (the endpoint answers with a content-length).
fn keep_alive_health(stream: &mut TcpStream) -> String {
    write!(stream, "GET {HEALTH} HTTP/1.1\r\nhost: test\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
        head.push_str(&line);
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

/// The pid of the `spin up` serving `addr`.
fn pid_of(up: &SpinUp) -> u32 {
    let needle = format!("--listen\0{}\0", up.addr);
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
        })
        .expect("the spin up process")
}

/// The process's CPU time so far (user and system), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses: the 12th and
    // 13th are utime and stime.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn clock_ticks_per_second() -> u64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The soft and hard open-file limits of `pid`, from `/proc/<pid>/limits`.
fn open_file_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let mut words = line["Max open files".len()..].split_whitespace();
    (
        words.next().unwrap().to_string(),
        words.next().unwrap().to_string(),
    )
}

fn prlimit(pid: u32, nofile: &str) {
    let status = Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--nofile={nofile}")])
        .status()
        .expect("running prlimit");
    assert!(status.success(), "prlimit --nofile={nofile} failed");
}

#[test]
fn a_request_timeout_range_is_drawn_for_each_request() {
    // As in Spin, `LOW..HIGH` draws a timeout; a `wasi:http@0.2` request
    // (an instance of its own) draws one for itself.
    let (_dir, up) = start(&["--request-timeout", "1..3s"]);
    for _ in 0..2 {
        assert_eq!(up.get("/spin-forever").status, 500);
    }
    let drawn = up.timeouts_logged(2);
    assert_eq!(drawn.len(), 2, "{}", up.stderr());
    assert!(drawn.iter().all(|t| (1.0..3.0).contains(t)), "{drawn:?}");
    assert_ne!(drawn[0], drawn[1], "one timeout for both requests");
    assert_eq!(up.get(HEALTH).status, 200);
}

/// A server with one instance slot and a one-second queue, whose slot is
/// occupied by a request that loops forever (cut off only after 60 s).
/// Returns once another request is turned away with a 503, proving the slot
/// is taken: the server, the looping request's connection, and that 503.
fn one_slot_held() -> (tempfile::TempDir, SpinUp, TcpStream, Response) {
    let (dir, up) = start(&[
        "--max-concurrent-requests",
        "1",
        "--max-queue-wait",
        "1",
        "--request-timeout",
        "60",
    ]);
    let addr = up.addr;
    let mut forever = connect(addr);
    write!(
        forever,
        "GET /spin-forever HTTP/1.1\r\nhost: test\r\ncontent-length: 0\r\n\r\n"
    )
    .unwrap();
    let deadline = Instant::now() + HANG;
    loop {
        let resp = get(addr, "/exact").unwrap();
        if resp.status == 503 {
            return (dir, up, forever, resp);
        }
        assert!(
            Instant::now() < deadline,
            "no request was turned away while /spin-forever holds the only slot"
        );
    }
}

#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let (_dir, up) = start(&["--http-header-read-timeout", "1"]);

    // Silent: connects and sends nothing.
    let mut silent = connect(up.addr);

    // Trickling: a header line every 200 ms, never the blank line.
    let mut trickling = connect(up.addr);
    let writer = trickling.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        let mut writer = writer;
        let start = Instant::now();
        let mut sent = writer
            .write_all(b"GET / HTTP/1.1\r\nhost: test\r\n")
            .is_ok();
        while sent && start.elapsed() < HANG {
            std::thread::sleep(Duration::from_millis(200));
            sent = writer.write_all(b"x-slow: 1\r\n").is_ok();
        }
        sent
    });

    let start = Instant::now();
    assert!(closed_by_server(&mut silent), "the silent client was kept");
    assert!(
        closed_by_server(&mut trickling),
        "the trickling client was kept"
    );
    assert!(start.elapsed() < HANG);
    assert!(
        !trickle.join().unwrap(),
        "the trickling client could write for {HANG:?}"
    );
    // Others are served meanwhile and after.
    assert_eq!(up.get(HEALTH).status, 200);
    assert_eq!(up.get("/exact").status, 200);
}

/// A server with these timeouts (seconds), and a kept-alive connection to
/// it that has served one request.
fn kept_alive(idle: &str, header_read: &str) -> (tempfile::TempDir, SpinUp, TcpStream) {
    let (dir, up) = start(&[
        "--http-idle-timeout",
        idle,
        "--http-header-read-timeout",
        header_read,
    ]);
    let mut conn = connect(up.addr);
    assert!(keep_alive_health(&mut conn).starts_with("HTTP/1.1 200"));
    (dir, up, conn)
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_only() {
    // The idle wait between requests is not bounded by the (shorter)
    // header-read timeout.
    let (_dir, up, mut conn) = kept_alive("60", "1");
    std::thread::sleep(Duration::from_millis(2500));
    let second = keep_alive_health(&mut conn);
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");
    drop(up);

    // The idle timeout closes it.
    let (_dir, _up, mut conn) = kept_alive("1", "60");
    let start = Instant::now();
    assert!(
        closed_by_server(&mut conn),
        "the idle connection was kept for {HANG:?}"
    );
    assert!(start.elapsed() < HANG);
}

#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    let (_dir, up) = start(&["--max-connections", "2"]);
    // Two kept-alive connections, each known to be accepted (it was served).
    let mut first = connect(up.addr);
    let mut second = connect(up.addr);
    assert!(keep_alive_health(&mut first).starts_with("HTTP/1.1 200"));
    assert!(keep_alive_health(&mut second).starts_with("HTTP/1.1 200"));

    let addr = up.addr;
    let third = std::thread::spawn(move || get(addr, HEALTH).unwrap().status);
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !third.is_finished(),
        "a third connection was served while two were open"
    );
    // Both held connections still work: the cap did not close them.
    assert!(keep_alive_health(&mut first).starts_with("HTTP/1.1 200"));
    drop(second);
    let start = Instant::now();
    assert_eq!(third.join().unwrap(), 200);
    assert!(start.elapsed() < HANG);
    assert!(
        up.wait_for_stderr("connections are open, the limit")
            .contains("--max-connections")
    );
}

/// A connection to `addr` from another loopback address, `from`: another
/// client.
fn connect_from(from: &str, addr: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::new(from.parse().unwrap(), 0).into())
        .unwrap();
    socket.connect(&addr.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(HANG)).unwrap();
    stream
}

/// A kept-alive connection to `addr`, served once: retried while the
/// server has not yet seen an earlier connection of this client close
/// (the start's readiness probe, say).
fn admitted(addr: SocketAddr) -> TcpStream {
    let start = Instant::now();
    loop {
        let mut stream = connect(addr);
        if write!(stream, "GET {HEALTH} HTTP/1.1\r\nhost: test\r\n\r\n").is_ok() {
            let mut reader = BufReader::new(&mut stream);
            let mut status = String::new();
            if reader.read_line(&mut status).is_ok() && status.starts_with("HTTP/1.1 200") {
                // The rest of the response, so that the next one starts clean.
                let mut rest = String::new();
                let mut length = 0;
                while reader.read_line(&mut rest).is_ok_and(|n| n > 0) {
                    if let Some(value) = rest.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap();
                    }
                    if rest == "\r\n" {
                        break;
                    }
                    rest.clear();
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                return stream;
            }
        }
        assert!(start.elapsed() < HANG, "no connection admitted");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn one_client_holds_at_most_its_share_of_the_connections() {
    let (_dir, up) = start(&["--max-connections-per-client", "2"]);
    let mut first = admitted(up.addr);
    let second = admitted(up.addr);
    // A third from the same address is closed at once, request or not.
    for _ in 0..3 {
        let mut third = connect(up.addr);
        let _ = write!(third, "GET {HEALTH} HTTP/1.1\r\nhost: test\r\n\r\n");
        assert!(closed_by_server(&mut third));
    }
    // Another client is served meanwhile, and the held ones still are.
    let mut other = connect_from("127.0.0.2", up.addr);
    assert!(keep_alive_health(&mut other).starts_with("HTTP/1.1 200"));
    assert!(keep_alive_health(&mut first).starts_with("HTTP/1.1 200"));
    // Once one closes, a new one is admitted (the server notices the
    // close on its own time).
    drop(second);
    let start = Instant::now();
    while !get(up.addr, HEALTH).is_ok_and(|r| r.status == 200) {
        assert!(
            start.elapsed() < HANG,
            "no connection admitted after one closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Each run's end is logged as the next connection is admitted: wait
    // for as many ends as runs.
    let start = Instant::now();
    let log = loop {
        let log = up.stderr();
        let runs = log.matches("the most one client may").count();
        if runs > 0 && runs == log.matches("connections were closed at once").count() {
            break log;
        }
        assert!(start.elapsed() < HANG, "{log}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        log.contains("127.0.0.1 has 2 connections open, the most one client may"),
        "{log}"
    );
    assert!(
        log.contains("hint: raise it with `spin up --max-connections-per-client"),
        "{log}"
    );
    // Logged once a run of refusals (a run more if the start's readiness
    // probe still held its place when `second` came), each run's end with
    // its count.
    let runs = log.matches("the most one client may").count();
    assert!(runs >= 1, "{log}");
    assert_eq!(
        runs,
        log.matches("connections were closed at once").count(),
        "{log}"
    );
    // Three, or more if a retry above came before the server saw the close.
    assert!(
        regex::Regex::new(r"127\.0\.0\.1: ([3-9]|\d\d+) connections were closed at once")
            .unwrap()
            .is_match(&log),
        "{log}"
    );
}

#[test]
fn out_of_file_descriptors_the_server_backs_off_and_recovers() {
    // The header-read timeout is long so only closing the connections
    // frees their descriptors.
    let (_dir, up) = start(&["--http-header-read-timeout", "120"]);
    let pid = pid_of(&up);
    // A few descriptors more than the server holds now.
    let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    let limit = open + 16;
    prlimit(pid, &format!("{limit}:{limit}"));

    // More connections than descriptors: the server accepts until it runs
    // out, and the rest wait in the backlog.
    let held: Vec<TcpStream> = (0..100).map(|_| connect(up.addr)).collect();
    let log = up.wait_for_stderr("accepting connections failed");
    assert!(log.contains("Too many open files"), "{log}");

    let ticks_per_second = clock_ticks_per_second();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - before;
    // Retrying at once spins a core (about 2 s of CPU in 2 s); backing off
    // (10 ms doubling to 1 s) uses next to nothing.
    assert!(
        used < ticks_per_second / 2,
        "{used} ticks of CPU in 2 s while out of descriptors"
    );
    let log = up.stderr();
    let failures = log.matches("accepting connections failed").count();
    assert_eq!(failures, 1, "accept errors are logged once: {log}");

    drop(held);
    let start = Instant::now();
    loop {
        if get(up.addr, HEALTH).is_ok_and(|r| r.status == 200) {
            break;
        }
        assert!(start.elapsed() < HANG, "not serving after the flood ended");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(up.get("/exact").status, 200);
    assert!(
        up.wait_for_stderr("accepting connections again")
            .contains("accepting connections again")
    );
}

#[test]
fn the_soft_open_file_limit_is_raised_to_the_hard_limit() {
    // Start spin with a low soft limit (inherited from this process).
    let me = std::process::id();
    let (_, hard) = open_file_limits(me);
    prlimit(me, "256:");
    let started = std::panic::catch_unwind(|| start(&[]));
    prlimit(me, &format!("{hard}:"));
    let (_dir, up) = started.unwrap();

    let (soft, spin_hard) = open_file_limits(pid_of(&up));
    assert_eq!(spin_hard, hard);
    assert_eq!(soft, hard, "spin up kept the soft limit below the hard one");
}

#[test]
fn a_request_that_waits_too_long_for_a_slot_gets_503_with_retry_after() {
    let (_dir, up, _forever, turned_away) = one_slot_held();
    assert_eq!(turned_away.status, 503);
    assert_eq!(turned_away.header("retry-after"), Some("1"));
    // Endpoints needing no instance are still served.
    assert_eq!(up.get(HEALTH).status, 200);
    let log = up.wait_for_stderr("answered 503");
    assert!(log.contains("--max-queue-wait"), "{log}");
}

#[test]
fn a_client_that_leaves_mid_request_frees_its_slot() {
    let (_dir, up, forever, _) = one_slot_held();
    drop(forever);
    // The looping guest is stopped and its slot freed long before the
    // 60 s request timeout would.
    let start = Instant::now();
    loop {
        let resp = up.get("/exact");
        if resp.status == 200 {
            break;
        }
        assert_eq!(resp.status, 503);
        assert!(
            start.elapsed() < HANG,
            "the slot stayed taken after the client left"
        );
    }
}

/// Writes a request with a `size`-byte header and returns the status line.
fn status_with_header_of(addr: SocketAddr, size: usize) -> String {
    let mut stream = connect(addr);
    let head = format!(
        "GET /exact HTTP/1.1\r\nhost: test\r\nconnection: close\r\nx-big: {}\r\n\r\n",
        "a".repeat(size)
    );
    // The server may answer and close before reading it all.
    let _ = stream.write_all(head.as_bytes());
    let mut line = String::new();
    let _ = BufReader::new(stream).read_line(&mut line);
    line
}

#[test]
fn oversized_request_headers_get_431() {
    let (_dir, up) = start(&[]);
    let status = status_with_header_of(up.addr, 100 << 10);
    assert!(status.starts_with("HTTP/1.1 431"), "{status:?}");
    // Under the default 64 KiB limit is fine.
    assert!(status_with_header_of(up.addr, 60 << 10).starts_with("HTTP/1.1 200"));
    drop(up);

    let (_dir, up) = start(&["--http-max-header-size", "128k"]);
    assert!(status_with_header_of(up.addr, 100 << 10).starts_with("HTTP/1.1 200"));
}

#[test]
fn limit_flags_reject_bad_values_clearly() {
    let component = build_sdk_app(&test_app("sdk-http"));
    let (dir, manifest) = app_dir(MANIFEST, &component);
    for (flag, value, message) in [
        (
            "--max-queue-wait",
            "0",
            "expected a positive number of seconds",
        ),
        ("--http-idle-timeout", "NaN", "expected a positive number"),
        ("--request-timeout", "-1", "expected a positive number"),
        ("--http-max-header-size", "1k", "below the smallest allowed"),
        ("--max-connections", "0", "0"),
        ("--max-connections-per-client", "0", "0"),
        (
            "--max-download-size",
            "0",
            "would refuse everything it bounds",
        ),
        (
            "--max-unpacked-size",
            "0",
            "would refuse everything it bounds",
        ),
        ("--max-wagi-output-size", "0", "at least 1"),
    ] {
        let out = support::spin::spin(dir.path())
            .args(["up", "-f"])
            .arg(&manifest)
            .args([flag, value])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag) && err.contains(message), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
