//! The address `spin up` will listen on is free.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};

use super::report::Finding;

const SUBJECT: &str = "listen address";

/// Binds `addr` for a moment, as `spin up` will.
pub fn check(addr: SocketAddr) -> Finding {
    let error = match TcpListener::bind(addr) {
        Ok(_) => return Finding::ok(SUBJECT, format!("{addr} is free")),
        Err(error) => error,
    };
    match error.kind() {
        ErrorKind::AddrInUse => Finding::problem(SUBJECT, format!("{addr} is in use"))
            .hint(in_use_hint(addr, free_port(addr))),
        ErrorKind::AddrNotAvailable => Finding::problem(
            SUBJECT,
            format!("{} is not an address of this machine", addr.ip()),
        )
        .hint(format!(
            "listen on a local address: `spin up --listen 127.0.0.1:{port}` (this machine only) or `--listen 0.0.0.0:{port}` (every interface)",
            port = addr.port()
        )),
        ErrorKind::PermissionDenied => Finding::problem(
            SUBJECT,
            format!(
                "{addr} needs privileges to listen on (ports below 1024 are reserved)"
            ),
        )
        .hint(match free_port(addr) {
            Some(port) => format!("run `spin up --listen {}`", with_port(addr, port)),
            None => "listen on a port above 1023 with `spin up --listen`".to_owned(),
        }),
        _ => Finding::problem(SUBJECT, format!("cannot listen on {addr}: {error}"))
            .hint("pass another address with `spin up --listen <ip:port>`"),
    }
}

/// A port the system hands out as free on `addr`'s interface.
fn free_port(addr: SocketAddr) -> Option<u16> {
    let any = SocketAddr::new(addr.ip(), 0);
    Some(TcpListener::bind(any).ok()?.local_addr().ok()?.port())
}

fn with_port(addr: SocketAddr, port: u16) -> SocketAddr {
    SocketAddr::new(addr.ip(), port)
}

/// What to do when `addr` is taken: listen on `free` instead (when one was
/// found), or stop whatever holds the port.
fn in_use_hint(addr: SocketAddr, free: Option<u16>) -> String {
    let stop = format!(
        "stop the process listening on port {} (`lsof -i :{}` names it)",
        addr.port(),
        addr.port()
    );
    match free {
        Some(port) => format!(
            "run `spin up --listen {}`, or {stop}",
            with_port(addr, port)
        ),
        None => format!("pass a free port with `spin up --listen`, or {stop}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::doctor::report::Status;

    #[test]
    fn a_taken_port_is_a_problem_whose_hint_names_a_free_one() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let finding = check(addr);
        assert_eq!(finding.status, Status::Problem, "{finding:?}");
        let hint = finding.hint.unwrap();
        let suggested: SocketAddr = hint
            .strip_prefix("run `spin up --listen ")
            .and_then(|rest| rest.split('`').next())
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(suggested.ip(), addr.ip());
        assert_ne!(suggested.port(), addr.port());
        drop(taken);
        assert_eq!(check(addr).status, Status::Ok);
    }

    #[test]
    fn the_hint_without_a_free_port_still_says_what_to_do() {
        let addr: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(
            in_use_hint(addr, Some(41000)),
            "run `spin up --listen 127.0.0.1:41000`, or stop the process listening on port 3000 (`lsof -i :3000` names it)"
        );
        assert!(in_use_hint(addr, None).starts_with("pass a free port with `spin up --listen`"));
    }

    #[test]
    fn a_foreign_address_is_named() {
        // TEST-NET-1 (RFC 5737) is never assigned to a local interface.
        let finding = check("192.0.2.1:3000".parse().unwrap());
        assert_eq!(finding.status, Status::Problem);
        assert!(finding.message.contains("192.0.2.1"), "{}", finding.message);
    }
}
