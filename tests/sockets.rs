//! WASI sockets under the allow list, as in Spin, through Python's own
//! `socket` module in real components: an official spin-sdk 3.x component
//! (`tests/apps/sdk-net`) and a `spin py2wasm` one
//! (`tests/apps/py-http-clients`) reach exactly the `tcp://` and `udp://`
//! destinations their manifest grants, never a blocked network, and never
//! listen.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use support::python::{Spin4Sdk, build_py2wasm_app, build_sdk_app, test_app};
use support::spin::{SpinUp, app_dir};

/// A manifest for the component `net` with `allowed_outbound_hosts`.
fn manifest(allowed: &[String]) -> String {
    let hosts: Vec<String> = allowed.iter().map(|h| format!("\"{h}\"")).collect();
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"net\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"net\"\n[component.net]\nsource = \"{{source}}\"\nallowed_outbound_hosts = [{}]\n",
        hosts.join(", ")
    )
}

fn sdk_component() -> PathBuf {
    build_sdk_app(&test_app("sdk-net"))
}

/// A TCP server on 127.0.0.1 that answers each connection's first bytes
/// with `echo:` and those bytes.
fn tcp_echo() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 256];
            if let Ok(n) = stream.read(&mut buf) {
                let _ = stream.write_all(&[b"echo:", &buf[..n]].concat());
            }
        }
    });
    port
}

/// A UDP server on 127.0.0.1 that answers each datagram the same way.
fn udp_echo() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&[b"echo:", &buf[..n]].concat(), from);
        }
    });
    port
}

#[test]
fn sockets_reach_exactly_the_granted_destinations_and_never_listen() {
    let (tcp, other, udp) = (tcp_echo(), tcp_echo(), udp_echo());
    let allowed = [
        format!("tcp://127.0.0.1:{tcp}"),
        format!("udp://127.0.0.0/8:{udp}"),
    ];
    let (_dir, path) = app_dir(&manifest(&allowed), &sdk_component());
    let up = SpinUp::start(&path, &[]);

    let resp = up.get(&format!("/tcp?host=127.0.0.1&port={tcp}&send=hi"));
    assert_eq!((resp.status, resp.text()), (200, "b'echo:hi'".into()));
    let resp = up.get(&format!("/udp?host=127.0.0.1&port={udp}&send=yo"));
    assert_eq!((resp.status, resp.text()), (200, "b'echo:yo'".into()));

    // Another port of the same host is not granted.
    let resp = up.get(&format!("/tcp?host=127.0.0.1&port={other}&send=hi"));
    assert_eq!(resp.status, 502, "{}", resp.text());
    assert!(resp.text().contains("PermissionError"), "{}", resp.text());
    let log = up.wait_for_stderr(&format!("may not connect to `tcp://127.0.0.1:{other}`"));
    assert!(
        log.contains(&format!(
            "hint: add `tcp://127.0.0.1:{other}` to the component's `allowed_outbound_hosts`"
        )),
        "{log}"
    );
    // A refusal is logged once per destination: a guest retrying in a loop
    // does not flood the log.
    let resp = up.get(&format!("/tcp?host=127.0.0.1&port={other}&send=again"));
    assert_eq!(resp.status, 502, "{}", resp.text());
    // Nor is UDP to the TCP port, nor TCP to the UDP grant.
    for route in [
        format!("/udp?host=127.0.0.1&port={tcp}&send=hi"),
        format!("/tcp?host=127.0.0.1&port={udp}&send=hi"),
    ] {
        let resp = up.get(&route);
        assert_eq!(resp.status, 502, "{route}: {}", resp.text());
        assert!(resp.text().contains("PermissionError"), "{}", resp.text());
    }
    let log = up.wait_for_stderr(&format!("may not connect to `tcp://127.0.0.1:{udp}`"));
    let refusals = format!("may not connect to `tcp://127.0.0.1:{other}`");
    assert_eq!(log.matches(&refusals).count(), 1, "{log}");

    // A component never listens, nor binds a port of its own choosing.
    let resp = up.get("/listen");
    assert_eq!(resp.status, 502, "{}", resp.text());
    assert!(resp.text().contains("PermissionError"), "{}", resp.text());
    up.wait_for_stderr("component `net` may not listen on a TCP socket");
    let resp = up.get("/bind?port=18089");
    assert_eq!(resp.status, 502, "{}", resp.text());
    assert!(resp.text().contains("PermissionError"), "{}", resp.text());
}

#[test]
fn without_a_grant_there_are_no_sockets_and_blocked_networks_win() {
    let tcp = tcp_echo();
    // Only HTTP granted: no socket can even be created.
    let (_dir, path) = app_dir(&manifest(&["http://127.0.0.1:1".into()]), &sdk_component());
    let up = SpinUp::start(&path, &[]);
    let resp = up.get(&format!("/tcp?host=127.0.0.1&port={tcp}&send=hi"));
    assert_eq!(resp.status, 502, "{}", resp.text());
    assert!(resp.text().contains("PermissionError"), "{}", resp.text());
    drop(up);

    // Granted by the manifest, blocked by the runtime config.
    let (_dir, path) = app_dir(
        &manifest(&[format!("tcp://127.0.0.1:{tcp}")]),
        &sdk_component(),
    );
    let up = SpinUp::start_with_runtime_config(
        &path,
        "[outbound_networking]\nblock_networks = [\"127.0.0.0/8\"]\n",
        &[],
    );
    let resp = up.get(&format!("/tcp?host=127.0.0.1&port={tcp}&send=hi"));
    assert_eq!(resp.status, 502, "{}", resp.text());
    let log = up.wait_for_stderr("which is blocked by");
    assert!(
        log.contains(&format!(
            "component `net` may not connect to `tcp://127.0.0.1:{tcp}`: 127.0.0.1, which is blocked by `127.0.0.0/8`"
        )),
        "{log}"
    );
}

/// An instance holds at most `--max-sockets-per-instance` sockets, TCP and
/// UDP alike; a socket closed gives its place back, and the next request's
/// instance starts from none.
#[test]
fn an_instance_holds_at_most_its_cap_of_sockets() {
    let tcp = tcp_echo();
    let (_dir, path) = app_dir(
        &manifest(&[format!("tcp://127.0.0.1:{tcp}"), "udp://127.0.0.1:9".into()]),
        &sdk_component(),
    );
    let up = SpinUp::start(&path, &["--max-sockets-per-instance", "3"]);
    let open = |query: &str| {
        let resp = up.get(&format!("/sockets?host=127.0.0.1&port={tcp}&{query}"));
        assert_eq!(resp.status, 200, "{}", resp.text());
        resp.text()
    };

    let text = open("kind=tcp&n=5");
    assert!(text.starts_with("opened 3, then OSError"), "{text}");
    let log = up.wait_for_stderr("--max-sockets-per-instance");
    assert!(
        log.contains("component `net`: an instance already holds 3 open sockets"),
        "{log}"
    );
    assert!(log.contains("new-socket-limit"), "{log}");
    // UDP sockets count the same.
    let text = open("kind=udp&n=4");
    assert!(text.starts_with("opened 3, then OSError"), "{text}");
    // Closed sockets are not counted: ten, one at a time; and at the cap,
    // closing one makes room for the next.
    assert_eq!(open("kind=tcp&n=10&keep=0"), "opened 10");
    assert_eq!(open("kind=udp&n=10&keep=0"), "opened 10");
    let resp = up.get(&format!(
        "/hold?order=tcp,tcp,tcp,close,tcp&host=127.0.0.1&port={tcp}"
    ));
    assert_eq!(resp.text(), "tcp ok | tcp ok | tcp ok | closed | tcp ok");
    // The refusal was logged once.
    let log = up.stderr();
    assert_eq!(log.matches("an instance already holds").count(), 1, "{log}");
}

/// A `wasi:sockets` 0.3 TCP socket's `send` and `receive` streams keep its
/// connection open after the socket is dropped (its WIT says so): the
/// socket stays counted until they are done, or a guest could hold any
/// number of connections by dropping each socket and keeping its stream.
/// Once the streams are done, their sockets no longer count.
#[test]
fn a_dropped_wasi_0_3_socket_counts_while_its_streams_are_open() {
    let tcp = tcp_echo();
    for sdk in Spin4Sdk::ALL {
        let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
        let (_dir, path) = app_dir(&manifest(&[format!("tcp://127.0.0.1:{tcp}")]), &component);
        let up = SpinUp::start(&path, &["--max-sockets-per-instance", "3"]);
        // The guest keeps each stream's `done` future and reads it (`Ok`
        // when the stream ended well), or drops it unread: the count does
        // not depend on it.
        for (stream, done, ends) in [
            ("receive", "keep", "; Ok; Ok; Ok; then one more"),
            ("send", "keep", "; Ok; Ok; Ok; then one more"),
            ("receive", "drop", "; then one more"),
            ("send", "drop", "; then one more"),
        ] {
            let resp = up.get(&format!("/socket-streams?{tcp},5,{stream},{done}"));
            let text = resp.text();
            assert_eq!(resp.status, 200, "{sdk:?} {stream} {done}: {text}");
            assert!(
                text.starts_with("opened 3, then ErrorCode_Other(too many sockets"),
                "{sdk:?} {stream} {done}: {text}"
            );
            assert!(text.ends_with(ends), "{sdk:?} {stream} {done}: {text}");
        }
    }
}

/// `[outbound_networking] max_socket_connections` caps the application's
/// sockets, and `max_total_connections` counts them with every other kind,
/// as in Spin: past either, a socket fails at once.
#[test]
fn the_runtime_config_caps_sockets_and_counts_them_in_the_total() {
    let tcp = tcp_echo();
    let (_dir, path) = app_dir(
        &manifest(&[
            format!("tcp://127.0.0.1:{tcp}"),
            "redis://127.0.0.1:6379".into(),
        ]),
        &sdk_component(),
    );
    let up = SpinUp::start_with_runtime_config(
        &path,
        "[outbound_networking]\nmax_socket_connections = 2\nmax_total_connections = 3\n",
        &["--outbound-connection-wait", "200ms"],
    );
    // Each request closes what it opened before it answers, so that the
    // next one finds every permit free.
    let hold = |order: &str| {
        let resp = up.get(&format!(
            "/hold?order={order}&end=close&host=127.0.0.1&port={tcp}&redis=redis%3A%2F%2F127.0.0.1%3A6379"
        ));
        assert_eq!(resp.status, 200, "{}", resp.text());
        resp.text()
            .split(" | ")
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };

    // Two sockets, then the socket cap; closing one lets the next in.
    let steps = hold("tcp,tcp,tcp,close,tcp");
    assert_eq!(steps[..2], ["tcp ok", "tcp ok"], "{steps:?}");
    assert!(steps[2].starts_with("tcp OSError"), "{steps:?}");
    assert_eq!(steps[3..], ["closed", "tcp ok"], "{steps:?}");
    let log = up.wait_for_stderr("max_socket_connections` (at");
    assert!(
        log.contains("the application already has 2 socket connections open, the runtime config's `[outbound_networking] max_socket_connections` (at "),
        "{log}"
    );
    assert!(log.contains("rc.toml:2)"), "{log}");
    // A Redis connection and two sockets fill the total: the next Redis
    // connection waits, then fails.
    let steps = hold("redis,tcp,tcp,redis");
    assert_eq!(steps[..3], ["redis ok", "tcp ok", "tcp ok"], "{steps:?}");
    assert!(steps[3].contains("TooManyConnections"), "{steps:?}");
    up.wait_for_stderr("max_total_connections` (at");
    assert_eq!(hold("tcp,tcp"), ["tcp ok", "tcp ok"]);

    // Sockets left open are given back when their instance ends, which
    // may come a moment after the response.
    let left_open = format!("/hold?order=tcp,tcp&host=127.0.0.1&port={tcp}");
    assert_eq!(up.get(&left_open).text(), "tcp ok | tcp ok");
    let mut again = String::new();
    for _ in 0..50 {
        again = up.get(&left_open).text();
        if again == "tcp ok | tcp ok" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(again, "tcp ok | tcp ok");
}

/// Python code that speaks a protocol itself (here Redis's, to the real
/// server) works in a `spin py2wasm` component: `socket.create_connection`
/// takes `localhost` (the SDK answers it and IP addresses itself) and
/// connects to an address the manifest grants. Other names are not looked
/// up, as in Spin, and say so. An entry naming a host instead of an address
/// is warned about. The app imports `requests`, whose import binds a socket
/// (urllib3's IPv6 probe) while the component is built: that must not
/// leave the component unable to connect.
#[test]
fn a_py2wasm_component_speaks_redis_over_a_socket_by_name() {
    let allowed = [
        "tcp://127.0.0.1:6379".to_owned(),
        "tcp://redis.internal:6379".to_owned(),
    ];
    let (_dir, path) = app_dir(
        &manifest(&allowed),
        &build_py2wasm_app(&test_app("py-http-clients")),
    );
    let up = SpinUp::start(&path, &[]);
    let log = up.wait_for_stderr("names a host");
    assert!(
        log.contains("the allowed_outbound_hosts entry for `tcp://redis.internal` names a host"),
        "{log}"
    );
    let resp = up.get("/socket?host=localhost&port=6379&send=PING%0D%0A");
    assert_eq!((resp.status, resp.text()), (200, "+PONG\r\n".into()));
    let resp = up.get("/socket?host=127.0.0.1&port=6379&send=PING%0D%0A");
    assert_eq!((resp.status, resp.text()), (200, "+PONG\r\n".into()));
    // A port the manifest does not grant.
    let resp = up.get("/socket?host=localhost&port=6380&send=PING%0D%0A");
    assert_eq!(resp.status, 502, "{}", resp.text());
    assert!(resp.text().contains("PermissionError"), "{}", resp.text());
    // A name.
    let resp = up.get("/socket?host=redis.internal&port=6379&send=PING%0D%0A");
    assert_eq!(resp.status, 502, "{}", resp.text());
    assert!(
        resp.text().starts_with("gaierror: ")
            && resp
                .text()
                .contains("host names are not looked up inside a component (as in Spin)"),
        "{}",
        resp.text()
    );
}

/// An official spin-sdk component that binds a socket at its top level (as
/// `import requests` does, through urllib3's IPv6 probe) keeps a network
/// handle from its build in its C library, and traps at its first connect:
/// that request fails with a 500, the log says why, and the server goes on.
#[test]
fn a_socket_used_while_building_is_explained_when_the_component_traps() {
    let (_dir, path) = app_dir(
        &manifest(&["tcp://127.0.0.1:6379".into()]),
        &build_sdk_app(&test_app("sdk-socket-at-import")),
    );
    let up = SpinUp::start(&path, &[]);
    for _ in 0..2 {
        assert_eq!(up.get("/").status, 500);
    }
    let log = up.wait_for_stderr(
        "hint: the component seems to have used a socket while it was being built",
    );
    assert!(log.contains("wasi:sockets/"), "{log}");
}
