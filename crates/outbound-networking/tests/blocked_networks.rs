//! `[outbound_networking] block_networks` through the public API: CIDR
//! rules, `private`, and IPv6 spellings of blocked IPv4 addresses.

use std::net::IpAddr;

use spin_outbound_networking::{BlockRule, BlockedNetworks, BlockedRange, is_private};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn blocked(ranges: &[&str]) -> BlockedNetworks {
    BlockedNetworks::new(
        ranges
            .iter()
            .enumerate()
            .map(|(line, range)| BlockRule {
                range: match *range {
                    "private" => BlockedRange::Private,
                    cidr => BlockedRange::Network(cidr.parse().unwrap()),
                },
                origin: format!("rc.toml:{}", line + 1),
            })
            .collect(),
    )
}

#[test]
fn cidr_rules_block_their_range_in_every_spelling() {
    let rules = blocked(&["127.0.0.0/8", "2001:db8::/32"]);
    for addr in [
        "127.0.0.1",
        "127.255.0.9",
        "::ffff:127.0.0.1",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "2001:db8::5",
        // A connect to the unspecified address reaches loopback.
        "0.0.0.0",
        "::ffff:0.0.0.0",
    ] {
        assert!(rules.blocking(ip(addr)).is_some(), "{addr}");
    }
    // `::` reaches `::1`, which an IPv6 rule covers.
    assert!(blocked(&["::1/128"]).blocking(ip("::")).is_some());
    assert!(rules.blocking(ip("::")).is_none());
    for addr in [
        "128.0.0.1",
        "10.0.0.1",
        "::1",
        "2001:db9::1",
        "93.184.215.14",
    ] {
        assert!(rules.blocking(ip(addr)).is_none(), "{addr}");
    }
    // The rule that matched is reported with where it was written.
    let rule = rules.blocking(ip("2001:db8::1")).unwrap();
    assert_eq!(rule.origin, "rc.toml:2");
    assert_eq!(
        rule.to_string(),
        "`2001:db8::/32` in `[outbound_networking] block_networks` (rc.toml:2)"
    );
    assert!(BlockedNetworks::default().is_empty());
    assert!(
        BlockedNetworks::default()
            .blocking(ip("127.0.0.1"))
            .is_none()
    );
}

#[test]
fn private_covers_what_spin_blocks() {
    // The addresses Spin's own `private` test blocks, and the ranges the
    // word is for: RFC 1918, loopback, link-local, CGNAT, unique local.
    for addr in [
        "0.0.0.0",
        "10.10.10.10",
        "100.64.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.1",
        "192.168.1.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:10.10.10.10",
        "::ffff:169.254.169.254",
        "fc00::f00d",
        "fd12:3456::1",
        "fe80::1",
        // Multicast reaches the local network (mDNS, SSDP).
        "224.0.0.251",
        "239.255.255.250",
        "ff02::fb",
    ] {
        assert!(is_private(ip(addr)), "{addr}");
        assert!(blocked(&["private"]).blocking(ip(addr)).is_some(), "{addr}");
    }
    for addr in [
        "123.123.123.123",
        "8.8.8.8",
        "172.32.0.1",
        "2600::beef",
        "2a00:1450::1",
    ] {
        assert!(!is_private(ip(addr)), "{addr}");
        assert!(blocked(&["private"]).blocking(ip(addr)).is_none(), "{addr}");
    }
}
