//! The `allowed_outbound_hosts` parser and matcher: entries from text, then
//! arbitrary destinations checked against the parsed list.
//!
//! Invariants:
//! - no panic, parsing entries or destinations, matching, or rendering an
//!   error or a suggestion;
//! - a destination named by a domain never matches a list made only of IP
//!   address and CIDR entries (as in Spin, those match IP literals only);
//! - the entry `suggestion` proposes for a destination allows it;
//! - `block_networks` (the same entry texts, where they parse as ranges):
//!   an IPv4 address that is blocked is blocked written as IPv6 too
//!   (`::ffff:a.b.c.d`), so a guest cannot slip past a rule by spelling.

#![no_main]

use std::net::{IpAddr, SocketAddr};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spin_outbound_networking::{
    AllowedHosts, BlockRule, BlockedNetworks, BlockedRange, Host, OutboundTarget, suggestion,
};

#[derive(Debug, Arbitrary)]
enum Destination {
    Url(String),
    ConnectionUrl(String),
    Parts {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
    Socket {
        udp: bool,
        addr: SocketAddr,
    },
}

/// An entry naming an address or a block of them.
#[derive(Debug, Arbitrary)]
struct AddressEntry {
    scheme: Scheme,
    ip: IpAddr,
    /// A CIDR prefix length (reduced to the address family's width).
    prefix: Option<u8>,
    port: Option<u16>,
}

#[derive(Debug, Arbitrary)]
enum Scheme {
    Any,
    Http,
    Https,
    Tcp,
    Redis,
}

impl AddressEntry {
    fn text(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Any => "*",
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Tcp => "tcp",
            Scheme::Redis => "redis",
        };
        let host = match (self.ip, self.prefix) {
            (IpAddr::V4(ip), None) => ip.to_string(),
            (IpAddr::V6(ip), None) => format!("[{ip}]"),
            (IpAddr::V4(ip), Some(p)) => format!("{ip}/{}", p % 33),
            (IpAddr::V6(ip), Some(p)) => format!("{ip}/{}", p % 129),
        };
        let port = match self.port {
            Some(port) => format!(":{port}"),
            None => ":*".to_owned(),
        };
        format!("{scheme}://{host}{port}")
    }
}

#[derive(Debug, Arbitrary)]
struct Input {
    entries: Vec<String>,
    address_entries: Vec<AddressEntry>,
    destinations: Vec<Destination>,
    resolved: Vec<IpAddr>,
}

fn target(destination: &Destination) -> Option<OutboundTarget> {
    match destination {
        Destination::Url(url) => OutboundTarget::parse_url(url)
            .map_err(|e| e.to_string())
            .ok(),
        Destination::ConnectionUrl(url) => OutboundTarget::parse_connection_url(url)
            .map_err(|e| e.to_string())
            .ok(),
        Destination::Parts { scheme, host, port } => OutboundTarget::new(scheme, host, *port)
            .map_err(|e| e.to_string())
            .ok(),
        Destination::Socket { udp, addr } => Some(OutboundTarget::socket(
            if *udp { "udp" } else { "tcp" },
            *addr,
        )),
    }
}

/// An IP address, or a name of letters, digits, `-`, `_` and dots.
fn dns_style(host: &Host) -> bool {
    match host {
        Host::Ip(_) => true,
        Host::Domain(domain) => domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
    }
}

/// The entry between the quotes of `allowed_outbound_hosts = ["…"]`.
fn suggested_entry(line: &str) -> &str {
    line.split_once("[\"")
        .and_then(|(_, rest)| rest.strip_suffix("\"]"))
        .unwrap_or_else(|| panic!("unexpected suggestion {line:?}"))
}

fuzz_target!(|input: Input| {
    let list = match AllowedHosts::parse(&input.entries) {
        Ok(list) => Some(list),
        Err(err) => {
            let _ = err.to_string();
            None
        }
    };
    let address_texts: Vec<String> = input.address_entries.iter().map(|e| e.text()).collect();
    let addresses = AllowedHosts::parse(&address_texts)
        .unwrap_or_else(|err| panic!("an address entry was rejected: {err}"));

    let blocked = BlockedNetworks::new(
        input
            .entries
            .iter()
            .filter_map(|text| BlockedRange::parse(text))
            .map(|range| BlockRule {
                range,
                origin: "fuzz.toml:1".into(),
            })
            .collect(),
    );
    for addr in &input.resolved {
        let rule = blocked.blocking(*addr);
        if let (Some(rule), IpAddr::V4(v4)) = (rule, addr) {
            let mapped = IpAddr::V6(v4.to_ipv6_mapped());
            assert!(
                blocked.blocking(mapped).is_some(),
                "{addr} is blocked by {} but {mapped} is not",
                rule.range
            );
        }
    }

    for destination in &input.destinations {
        let Some(target) = target(destination) else {
            continue;
        };
        let _ = target.to_string();
        let _ = target.service_chaining_component();
        if let Some(list) = &list {
            let _ = list.allows(&target);
            let _ = list.allows_self(&target.scheme);
        }
        if let Host::Domain(domain) = &target.host {
            assert!(
                !addresses.allows(&target),
                "the domain {domain:?} matched the address-only list {address_texts:?}"
            );
        }

        let _ = suggestion(&target, true);
        // Entries have letters-only schemes and DNS-style names, so no
        // entry names `git+ssh://…` or the (WHATWG-valid) host `a*b`; an
        // entry `self` means the application, not the host `self`; and
        // `self.alt` is decided by `allows_self`.
        if !target.scheme.is_empty()
            && target.scheme.bytes().all(|b| b.is_ascii_alphabetic())
            && !target.is_self()
            && target.host != Host::Domain("self".into())
            && dns_style(&target.host)
        {
            let line = suggestion(&target, false);
            let entry = suggested_entry(&line);
            let suggested = AllowedHosts::parse(&[entry]).unwrap_or_else(|err| {
                panic!("the suggestion {line:?} for {target} is rejected: {err}")
            });
            assert!(
                suggested.allows(&target),
                "the suggestion {line:?} does not allow {target}"
            );
        }
    }
});
