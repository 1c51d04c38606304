//! The SDK's `spin_py2wasm/host_names.py` (how `socket` finds addresses
//! inside a component) against odd and hostile inputs, run by the
//! machine's CPython: the module is plain Python, and the component's
//! behaviour end to end is in the workspace's `tests/sockets.rs`.

use std::path::Path;
use std::process::Command;

const CHECKS: &str = r#"
import socket, host_names as h

def fails(code, *args, **kwargs):
    try:
        h.getaddrinfo(*args, **kwargs)
    except socket.gaierror as error:
        assert error.errno == code, (args, error)
        return str(error)
    raise AssertionError(f"no error for {args}")

# IP literals and localhost are answered without the host, port included.
assert h.getaddrinfo("localhost", 6379, 0, socket.SOCK_STREAM) == [
    (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", 6379))]
assert h.getaddrinfo("LOCALHOST.", "80", socket.AF_INET6, socket.SOCK_DGRAM)[0][4] == ("::1", 80, 0, 0)
assert h.getaddrinfo(b"10.0.0.1", 5, proto=socket.IPPROTO_UDP) == [
    (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP, "", ("10.0.0.1", 5))]
# An IPv4-mapped literal is the IPv4 address; a numeric scope is kept.
assert h.getaddrinfo("::ffff:10.0.0.1", 5)[0][4] == ("10.0.0.1", 5)
assert h.getaddrinfo("fe80::1%3", 5, socket.AF_INET6)[0][4] == ("fe80::1", 5, 0, 3)
# No host: the wildcard for a listener, loopback otherwise.
assert h.getaddrinfo(None, 0, flags=socket.AI_PASSIVE)[0][4] == ("0.0.0.0", 0)
assert h.getaddrinfo(None, 7)[0][4] == ("127.0.0.1", 7)

# Hostile or impossible requests fail as getaddrinfo fails, never otherwise.
fails(socket.EAI_NONAME, "fe80::1%eth0", 5)
fails(socket.EAI_SERVICE, "127.0.0.1", "no-such-service")
fails(socket.EAI_SERVICE, "127.0.0.1", "²")
fails(socket.EAI_FAMILY, "127.0.0.1", 5, socket.AF_INET6)
fails(socket.EAI_SOCKTYPE, "127.0.0.1", 5, 0, socket.SOCK_RAW)

# The stand-in codec takes ASCII names and explains the rest.
import codecs
assert h._search("idna").encode("example.com")[0] == b"example.com"
try:
    h._search("idna").encode("bücher.example")
    raise AssertionError("a non-ASCII name was encoded")
except UnicodeError as error:
    assert "xn--" in str(error)

# While the app is imported at build time nothing reaches the network, and
# afterwards everything works again; installing twice changes nothing.
h.install()
h.install()
with h.while_building():
    for attempt in (lambda: socket.create_connection(("127.0.0.1", 1)),
                    lambda: socket.gethostbyname("localhost")):
        try:
            attempt()
            raise AssertionError("the network was reachable while building")
        except socket.gaierror as error:
            assert "while `spin py2wasm` builds" in str(error)
    try:
        socket.socket().connect(("127.0.0.1", 1))
        raise AssertionError("connected while building")
    except PermissionError as error:
        assert error.errno == 13
assert h._building == [False]
assert socket.getaddrinfo("127.0.0.1", 9)[0][4] == ("127.0.0.1", 9)
print("ok")
"#;

#[test]
fn host_names_answers_addresses_and_refuses_the_rest_cleanly() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk/spin_py2wasm");
    let out = Command::new("python3")
        .current_dir(&sdk)
        .args(["-c", CHECKS])
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok",
        "{stderr}"
    );
}
