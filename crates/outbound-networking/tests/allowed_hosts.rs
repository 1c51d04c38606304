//! Allow-list behaviour through the public API: every syntax form allowed
//! and denied, the security cases, and the error messages.

use std::net::IpAddr;

use spin_outbound_networking::{
    AllowedHosts, EntryProblem, Host, OutboundTarget, TargetError, redact_url, suggestion,
};

fn list(entries: &[&str]) -> AllowedHosts {
    AllowedHosts::parse(entries).unwrap_or_else(|e| panic!("{entries:?}: {e}"))
}

fn url(u: &str) -> OutboundTarget {
    OutboundTarget::parse_url(u).unwrap_or_else(|e| panic!("{u}: {e}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn every_form_allows_and_denies() {
    // (entries, URL, allowed?)
    let cases: &[(&[&str], &str, bool)] = &[
        // Domain with the scheme's default port.
        (&["http://example.com"], "http://example.com", true),
        (&["http://example.com"], "http://example.com:80/a/b?c", true),
        (&["http://example.com"], "http://EXAMPLE.com/", true),
        (&["http://example.com"], "http://example.com./", true),
        (&["http://example.com"], "https://example.com", false),
        (&["http://example.com"], "http://example.com:8080", false),
        (&["http://example.com"], "http://sub.example.com", false),
        (&["http://example.com"], "http://example.co", false),
        (
            &["http://example.com"],
            "http://example.com.evil.net",
            false,
        ),
        (&["https://example.com"], "https://example.com:443/", true),
        (&["HTTPS://Example.COM/"], "https://example.com", true),
        (&["  https://example.com  "], "https://example.com", true),
        (&["http://example.com:"], "http://example.com", true),
        (&["http://example.com."], "http://example.com", true),
        (
            &["http://bücher.example"],
            "http://xn--bcher-kva.example/",
            true,
        ),
        (
            &["http://xn--bcher-kva.example"],
            "http://BÜCHER.example/",
            true,
        ),
        // Explicit port.
        (
            &["https://example.com:8443"],
            "https://example.com:8443/x",
            true,
        ),
        (&["https://example.com:8443"], "https://example.com", false),
        (&["http://localhost:3001"], "http://localhost:3001", true),
        (&["http://localhost:3001/"], "http://localhost:3001", true),
        // Port ranges exclude their end, as in Spin.
        (
            &["http://example.com:8000..9000"],
            "http://example.com:8000",
            true,
        ),
        (
            &["http://example.com:8000..9000"],
            "http://example.com:8999",
            true,
        ),
        (
            &["http://example.com:8000..9000"],
            "http://example.com:9000",
            false,
        ),
        (
            &["http://example.com:8000..9000"],
            "http://example.com:7999",
            false,
        ),
        // Any port.
        (&["http://example.com:*"], "http://example.com:1", true),
        (&["http://example.com:*"], "https://example.com", false),
        // Any scheme.
        (&["*://example.com:443"], "https://example.com", true),
        (&["*://example.com:443"], "wss://example.com", true),
        (&["*://example.com:443"], "http://example.com", false),
        // Any host.
        (&["http://*"], "http://anything.at.all", true),
        (&["http://*"], "http://10.0.0.1", true),
        (&["http://*"], "http://anything:8080", false),
        (&["https://*:*"], "https://x:1234", true),
        (&["*://*:*"], "mqtt://broker:1", true),
        (&["*://*:*"], "http://[::1]:5", true),
        // Subdomains only.
        (&["https://*.example.com"], "https://a.example.com/x", true),
        (&["https://*.example.com"], "https://a.b.example.com", true),
        (&["https://*.example.com"], "https://A.Example.COM", true),
        (&["https://*.example.com"], "https://a.example.com.", true),
        (&["https://*.example.com"], "https://example.com", false),
        (&["https://*.example.com"], "https://evilexample.com", false),
        (
            &["https://*.example.com"],
            "https://a.example.com.evil.net",
            false,
        ),
        (
            &["https://*.example.com"],
            "https://a.example.com:8443",
            false,
        ),
        (&["https://*.Example.COM"], "https://a.example.com", true),
        (
            &["http://*.example2.com:8383"],
            "http://a.b.example2.com:8383/",
            true,
        ),
        (
            &["http://*.example2.com:8383"],
            "http://a.b.example2.com/",
            false,
        ),
        // IP addresses, in every spelling.
        (&["http://192.168.1.1"], "http://192.168.1.1", true),
        (&["http://192.168.1.1"], "http://3232235777/", true),
        (&["http://192.168.1.1"], "http://0xc0.0xa8.1.1/", true),
        (&["http://192.168.1.1"], "http://0300.0250.1.1/", true),
        (&["http://192.168.1.1"], "http://192.168.257/", true),
        (
            &["http://192.168.1.1"],
            "http://[::ffff:192.168.1.1]/",
            true,
        ),
        (&["http://192.168.1.1"], "http://[::ffff:c0a8:101]/", true),
        (&["http://192.168.1.1"], "http://192.168.1.2", false),
        (&["http://0x7f.1"], "http://127.0.0.1", true),
        (&["http://[::ffff:127.0.0.1]"], "http://127.0.0.1", true),
        (&["http://[::1]"], "http://[::1]/some/path", true),
        (&["http://[::1]"], "http://[0:0:0::1]:80", true),
        (&["http://[::1]"], "http://[::2]", false),
        (&["http://[::1]"], "http://[::1]:81", false),
        (&["http://[::1]:8080/"], "http://[::1]:8080", true),
        (&["http://[::1]:8000..9000"], "http://[::1]:8500", true),
        // CIDR blocks match IP-literal targets.
        (&["*://10.0.0.0/8:*"], "http://10.1.2.3:1234", true),
        (&["*://10.0.0.0/8:*"], "http://10.255.255.255", true),
        (&["*://10.0.0.0/8:*"], "http://11.0.0.1", false),
        (&["*://10.0.0.0/8:*"], "http://[::ffff:10.0.0.1]", true),
        (&["*://10.0.0.0/8:*"], "http://ten.example", false),
        (&["http://127.0.0.1/24"], "http://127.0.0.200", true),
        (&["*://127.0.0.0/24:80"], "http://127.0.0.9", true),
        (&["*://127.0.0.0/24:80"], "http://127.0.1.9", false),
        (
            &["http://2001:db8::/32"],
            "http://[2001:db8:abcd::1]/x",
            true,
        ),
        (&["http://2001:db8::/32"], "http://[2001:db9::1]", false),
        (
            &["http://2001:db8::/32:443"],
            "http://[2001:db8::1]:443",
            true,
        ),
        (&["http://::ffff:0:0/96"], "http://10.0.0.1", true),
        // `self` is not a host to connect to.
        (&["http://self"], "http://self.alt", false),
        // Service chaining names are ordinary (sub)domains here.
        (
            &["http://*.spin.internal"],
            "http://api.spin.internal/",
            true,
        ),
        (
            &["http://api.spin.internal"],
            "http://other.spin.internal/",
            false,
        ),
        // Nothing allows nothing.
        (&[], "http://example.com", false),
    ];
    for (entries, target, expected) in cases {
        assert_eq!(
            list(entries).allows(&url(target)),
            *expected,
            "{entries:?} vs {target}"
        );
    }
    assert!(!AllowedHosts::none().allows(&url("http://example.com")));
}

#[test]
fn database_and_socket_targets() {
    let allowed = list(&[
        "redis://cache.local",
        "postgres://db.local",
        "mysql://[::1]",
        "mqtt://broker",
        "tcp://10.0.0.0/8:5000..6000",
        "udp://*:53",
    ]);
    let new = |scheme, host, port| OutboundTarget::new(scheme, host, port).unwrap();
    for (target, expected) in [
        (new("redis", "cache.local", None), true),
        (new("redis", "CACHE.local", Some(6379)), true),
        (new("redis", "cache.local", Some(6380)), false),
        (new("postgres", "db.local", None), true),
        (new("mysql", "::1", None), true),
        (new("mysql", "[::1]", Some(3306)), true),
        (new("mqtt", "broker", None), true),
        (new("tcp", "10.9.9.9", Some(5432)), true),
        (new("tcp", "10.9.9.9", Some(6000)), false),
        (new("udp", "8.8.8.8", Some(53)), true),
        (
            OutboundTarget::socket("tcp", "10.0.0.7:5001".parse().unwrap()),
            true,
        ),
        (
            OutboundTarget::socket("TCP", "[::ffff:10.0.0.7]:5001".parse().unwrap()),
            true,
        ),
        (
            OutboundTarget::socket("udp", "[::1]:53".parse().unwrap()),
            true,
        ),
        (
            OutboundTarget::socket("tcp", "11.0.0.7:5001".parse().unwrap()),
            false,
        ),
    ] {
        assert_eq!(allowed.allows(&target), expected, "{target}");
    }
    assert_eq!(
        OutboundTarget::new("tcp", "10.0.0.1", None).unwrap_err(),
        TargetError::MissingPort {
            scheme: "tcp".into(),
            host: "10.0.0.1".into()
        }
    );
    assert!(matches!(
        OutboundTarget::new("redis", "bad host", None),
        Err(TargetError::InvalidHost { .. })
    ));
}

#[test]
fn ip_entries_match_ip_literals_only() {
    // As in Spin: an IP or CIDR entry is about addresses written in the
    // URL; a name is allowed only by a name entry, whatever it resolves to.
    let allowed = list(&[
        "http://127.0.0.1:*",
        "redis://10.0.0.0/8",
        "mysql://192.168.1.5",
        "tcp://fd00::/8:*",
    ]);
    for denied in [
        url("http://localhost:3000/"),
        url("http://localhost./"),
        url("http://127.0.0.1.nip.io/"),
        OutboundTarget::new("redis", "cache.local", None).unwrap(),
        OutboundTarget::new("mysql", "db.local", None).unwrap(),
        OutboundTarget::new("tcp", "svc.local", Some(9)).unwrap(),
    ] {
        assert!(!allowed.allows(&denied), "{denied}");
    }
    for ok in [
        url("http://127.0.0.1:3000/"),
        url("http://0x7f.1:3000/"),
        url("http://[::ffff:127.0.0.1]:3000/"),
        OutboundTarget::new("redis", "10.1.2.3", None).unwrap(),
        OutboundTarget::new("redis", "::ffff:10.1.2.3", None).unwrap(),
        OutboundTarget::new("mysql", "192.168.1.5", None).unwrap(),
        OutboundTarget::new("tcp", "fd12::1", Some(9)).unwrap(),
    ] {
        assert!(allowed.allows(&ok), "{ok}");
    }
    // Ports still apply to address entries.
    assert!(!allowed.allows(&OutboundTarget::new("redis", "10.1.2.3", Some(6380)).unwrap()));
    assert!(!allowed.allows(&OutboundTarget::new("tcp", "fe80::1", Some(9)).unwrap()));
    // A name entry allows the name, not its addresses.
    let named = list(&["http://localhost:*"]);
    assert!(named.allows(&url("http://localhost:3000/")));
    assert!(!named.allows(&url("http://127.0.0.1:3000/")));
}

#[test]
fn self_requests() {
    for (entries, scheme, expected) in [
        (&["http://self"][..], "http", true),
        (&["http://self"], "https", false),
        (&["https://self.alt"], "https", true),
        (&["*://self:*"], "https", true),
        (&["http://*"], "http", true),
        (&["*://*:*"], "http", true),
        (&["http://example.com"], "http", false),
        (&["http://*.example.com"], "http", false),
        (&[], "http", false),
    ] {
        assert_eq!(
            list(entries).allows_self(scheme),
            expected,
            "{entries:?} {scheme}"
        );
    }
    assert!(url("http://self.alt/x").is_self());
    assert!(!url("http://self.example/x").is_self());
}

#[test]
fn insecure_allow_all_means_any_http() {
    let allowed = list(&["insecure:allow-all"]);
    assert!(allowed.allows(&url("http://anything:8080/")));
    assert!(allowed.allows(&url("https://10.0.0.1/")));
    assert!(allowed.allows_self("http"));
    assert!(!allowed.allows(&url("redis://cache/")));
    // Alongside other entries too.
    let allowed = list(&["redis://cache", "insecure:allow-all"]);
    assert!(allowed.allows(&url("redis://cache/")));
    assert!(allowed.allows(&url("https://x/")));
}

#[test]
fn empty_resolutions_are_skipped() {
    let allowed = list(&["", "https://", "http://", "https://three"]);
    assert!(allowed.allows(&url("https://three")));
    assert!(!allowed.allows(&url("https://other")));
}

#[test]
fn urls_normalize() {
    for (input, scheme, host, port) in [
        (
            "HTTP://EXAMPLE.COM/",
            "http",
            Host::Domain("example.com".into()),
            80,
        ),
        (
            "https://example.com./x",
            "https",
            Host::Domain("example.com".into()),
            443,
        ),
        ("http://2130706433/", "http", Host::Ip(ip("127.0.0.1")), 80),
        ("http://0x7f.1/", "http", Host::Ip(ip("127.0.0.1")), 80),
        ("http://0177.0.0.1/", "http", Host::Ip(ip("127.0.0.1")), 80),
        (
            "http://127.1:8080/",
            "http",
            Host::Ip(ip("127.0.0.1")),
            8080,
        ),
        (
            "http://[::ffff:127.0.0.1]/",
            "http",
            Host::Ip(ip("127.0.0.1")),
            80,
        ),
        (
            "http://[::FFFF:7F00:1]/",
            "http",
            Host::Ip(ip("127.0.0.1")),
            80,
        ),
        (
            "http://[2001:DB8::1]/",
            "http",
            Host::Ip(ip("2001:db8::1")),
            80,
        ),
        (
            "ws://example.com",
            "ws",
            Host::Domain("example.com".into()),
            80,
        ),
        // Other schemes get the same host normalization and Spin's ports.
        ("redis://0x7f.1", "redis", Host::Ip(ip("127.0.0.1")), 6379),
        (
            "redis://LOCALHOST:6380",
            "redis",
            Host::Domain("localhost".into()),
            6380,
        ),
        (
            "postgres://db/app",
            "postgres",
            Host::Domain("db".into()),
            5432,
        ),
        ("mysql://[::1]", "mysql", Host::Ip(ip("::1")), 3306),
        (
            "mqtt://broker.",
            "mqtt",
            Host::Domain("broker".into()),
            1883,
        ),
        ("tcp://1.2.3.4:9", "tcp", Host::Ip(ip("1.2.3.4")), 9),
        // What follows `#`, `?` or a path is not part of the host.
        (
            "http://evil.com#@allowed.com",
            "http",
            Host::Domain("evil.com".into()),
            80,
        ),
        (
            "http://evil.com?@allowed.com",
            "http",
            Host::Domain("evil.com".into()),
            80,
        ),
        (
            "https://example.com/file@0.1.0.json",
            "https",
            Host::Domain("example.com".into()),
            443,
        ),
        // WHATWG reads `\` as `/` in http URLs: the host is allowed.com.
        (
            "http://allowed.com\\@evil.com/",
            "http",
            Host::Domain("allowed.com".into()),
            80,
        ),
    ] {
        let target = url(input);
        assert_eq!(
            (target.scheme.as_str(), &target.host, target.port),
            (scheme, &host, port),
            "{input}"
        );
    }
}

#[test]
fn userinfo_is_refused() {
    for input in [
        "http://allowed.com@evil.com/",
        "http://allowed.com:80@evil.com/",
        "http://user:pw@allowed.com/",
        "https://evil.com%2F@allowed.com/",
        "redis://:secret@cache:6379",
    ] {
        let err = OutboundTarget::parse_url(input).unwrap_err();
        assert_eq!(
            err,
            TargetError::Userinfo {
                url: redact_url(input)
            }
        );
        // The hint is data, printed once by the CLI, not part of the message.
        assert!(!err.to_string().contains("hint: "), "{err}");
        assert_eq!(
            spin_hint::Hinted::from(&err).hint,
            "send credentials in a header such as `Authorization` instead"
        );
        // The message may be logged: it never shows a password.
        for secret in ["pw", "secret"] {
            assert!(!err.to_string().contains(secret), "{err}");
        }
    }
    // Connection strings may carry credentials; the host is still the part
    // after the last `@`.
    for (input, host, port) in [
        ("postgres://user:pass@db:5432/app", "db", 5432),
        ("mysql://user%3Apass%23word@xyz.com", "xyz.com", 3306),
        ("redis://:secret@cache", "cache", 6379),
        ("http://allowed.com@evil.com/", "evil.com", 80),
    ] {
        let target = OutboundTarget::parse_connection_url(input).unwrap();
        assert_eq!(target.host, Host::Domain(host.into()), "{input}");
        assert_eq!(target.port, port, "{input}");
    }
    // A raw `#` ends the authority, so the text after it is not the host.
    let err = OutboundTarget::parse_connection_url("mysql://user:pass#word@xyz.com").unwrap_err();
    assert!(matches!(err, TargetError::InvalidUrl { .. }), "{err:?}");
    assert!(
        err.hint().is_some_and(|h| h.contains("percent-encode")),
        "{err:?}"
    );
    assert!(!err.to_string().contains("hint: "), "{err}");
    assert!(!err.to_string().contains("pass#word"), "{err}");
    let target = OutboundTarget::parse_connection_url("mysql://evil.com#@allowed.com").unwrap();
    assert_eq!(target.host, Host::Domain("evil.com".into()));
    let allowed = list(&["http://allowed.com"]);
    let sneaky = OutboundTarget::parse_connection_url("http://allowed.com@evil.com/").unwrap();
    assert!(!allowed.allows(&sneaky));
}

#[test]
fn bad_urls() {
    assert_eq!(
        OutboundTarget::parse_url("/api/items").unwrap_err(),
        TargetError::Relative {
            url: "/api/items".into()
        }
    );
    assert_eq!(
        OutboundTarget::parse_url("mailto:a@b.c").unwrap_err(),
        TargetError::NoHost {
            url: "mailto:a@b.c".into()
        }
    );
    assert_eq!(
        OutboundTarget::parse_url("tcp://1.2.3.4").unwrap_err(),
        TargetError::MissingPort {
            scheme: "tcp".into(),
            host: "1.2.3.4".into()
        }
    );
    for input in [
        "http://example.com:99999/",
        "http://[::1/",
        "http://exa mple.com/",
    ] {
        assert!(
            matches!(
                OutboundTarget::parse_url(input),
                Err(TargetError::InvalidUrl { .. })
            ),
            "{input}"
        );
    }
    assert!(matches!(
        OutboundTarget::parse_url("redis://exa%2Fmple"),
        Err(TargetError::InvalidHost { .. })
    ));
}

#[test]
fn service_chaining_component() {
    assert_eq!(
        url("http://api.spin.internal/x").service_chaining_component(),
        Some("api")
    );
    assert_eq!(
        url("http://a.b.spin.internal/").service_chaining_component(),
        None
    );
    assert_eq!(
        url("http://example.com/").service_chaining_component(),
        None
    );
}

/// Which problem each entry has, checked by variant.
fn problem_of(entry: &str) -> EntryProblem {
    AllowedHosts::parse(&["https://fine.example", entry])
        .map(|_| panic!("{entry:?} should be rejected"))
        .unwrap_err()
        .problem
}

/// An entry and a check of the problem it must be rejected for.
type Rejected = (&'static str, fn(&EntryProblem) -> bool);

#[test]
fn invalid_entries() {
    use EntryProblem as P;
    let cases: &[Rejected] = &[
        ("*", |p| *p == P::NotADestination),
        ("?", |p| *p == P::NotADestination),
        (":", |p| *p == P::NotADestination),
        ("spin.fermyon.dev", |p| *p == P::MissingScheme),
        ("example.com:8080", |p| *p == P::MissingScheme),
        ("[::1]:8080", |p| *p == P::MissingScheme),
        ("{http,https}://example.com", |p| {
            matches!(p, P::SchemeList(_))
        }),
        ("ht-tp://example.com", |p| matches!(p, P::InvalidScheme(_))),
        ("://example.com", |p| matches!(p, P::InvalidScheme(_))),
        ("https://{a.com,b.com}", |p| matches!(p, P::HostList(_))),
        ("http://spin.fermyon.dev/a", |p| *p == P::HasPath),
        ("http://spin.fermyon.dev:6666/a/b", |p| *p == P::HasPath),
        ("http://*.fermyon.dev/a", |p| *p == P::HasPath),
        ("http://example.com:8080/p", |p| *p == P::HasPath),
        ("http://*.example.com:8080/p", |p| *p == P::HasPath),
        ("http://127.0.0.0/24/p", |p| *p == P::HasPath),
        ("http://[::1]/foo", |p| *p == P::HasPath),
        ("http://ff00::/8/extra", |p| *p == P::HasPath),
        ("http://example.com//", |p| *p == P::HasPath),
        ("http://*.example.com//", |p| *p == P::HasPath),
        ("http://self//", |p| *p == P::HasPath),
        ("http://[::1]//", |p| *p == P::HasPath),
        ("https://a.*.com", |p| matches!(p, P::MisplacedWildcard(_))),
        ("https://ex*ample.com", |p| {
            matches!(p, P::MisplacedWildcard(_))
        }),
        ("https://*.*.example.com", |p| {
            matches!(p, P::MisplacedWildcard(_))
        }),
        ("http://*.127.0.0.1", |p| {
            matches!(p, P::WildcardNotDomain(_))
        }),
        ("http://*.192.168.001.001", |p| {
            matches!(p, P::WildcardNotDomain(_))
        }),
        ("http://*.[::1]", |p| matches!(p, P::WildcardNotDomain(_))),
        ("http://*.", |p| matches!(p, P::InvalidHost { .. })),
        ("http://*.:8080", |p| matches!(p, P::InvalidHost { .. })),
        ("http://[::1junk", |p| matches!(p, P::InvalidPort(_))),
        ("http://[::1", |p| matches!(p, P::InvalidHost { .. })),
        ("http://[::1]::80", |p| matches!(p, P::InvalidHost { .. })),
        ("http://[v1.]", |p| matches!(p, P::InvalidHost { .. })),
        ("http://[vG.example]", |p| {
            matches!(p, P::InvalidHost { .. })
        }),
        ("http://example%.com", |p| {
            matches!(p, P::InvalidHost { .. })
        }),
        ("http://example%2.com", |p| {
            matches!(p, P::InvalidHost { .. })
        }),
        ("http://example%GG.com", |p| {
            matches!(p, P::InvalidHost { .. })
        }),
        ("http://exa[mple.com", |p| {
            matches!(p, P::InvalidHost { .. })
        }),
        ("http://exa\\mple.com", |p| {
            matches!(p, P::InvalidHost { .. })
        }),
        ("http://example.com:80:90", |p| {
            matches!(p, P::InvalidHost { .. })
        }),
        ("tcp://10.0.0.1", |p| *p == P::MissingPort("tcp".into())),
        ("*://127.0.0.0/24", |p| *p == P::MissingPort("*".into())),
        ("*://example.com", |p| *p == P::MissingPort("*".into())),
        ("http://example.com:notaport", |p| {
            matches!(p, P::InvalidPort(_))
        }),
        ("http://self:notaport", |p| matches!(p, P::InvalidPort(_))),
        ("http://self.alt:notaport", |p| {
            matches!(p, P::InvalidPort(_))
        }),
        ("http://*:notaport", |p| matches!(p, P::InvalidPort(_))),
        ("http://127.0.0.1:notaport", |p| {
            matches!(p, P::InvalidPort(_))
        }),
        ("http://[::1]:notaport", |p| matches!(p, P::InvalidPort(_))),
        ("http://*.example.com:notaport", |p| {
            matches!(p, P::InvalidPort(_))
        }),
        ("http://*.example.com:8080..", |p| {
            matches!(p, P::InvalidPort(_))
        }),
        ("http://*.example.com:8O8O", |p| {
            matches!(p, P::InvalidPort(_))
        }),
        ("http://example.com:8080..70000", |p| {
            matches!(p, P::InvalidPort(_))
        }),
        ("http://example.com:99999", |p| {
            *p == P::InvalidPort("99999".into())
        }),
        ("http://ff00::/8:99999", |p| {
            *p == P::InvalidPort("99999".into())
        }),
        ("http://example.com:{80,443}", |p| {
            matches!(p, P::PortList(_))
        }),
        ("http://example.com:9000..8000", |p| {
            *p == P::EmptyPortRange {
                start: 9000,
                end: 8000,
            }
        }),
        ("http://example.com:8080..8080", |p| {
            matches!(p, P::EmptyPortRange { .. })
        }),
    ];
    for (entry, check) in cases {
        let problem = problem_of(entry);
        assert!(check(&problem), "{entry:?} gave {problem:?}");
    }
}

#[test]
fn errors_name_the_entry_and_hint_a_valid_fix() {
    for entry in [
        "*",
        "example.com",
        "example.com:8080",
        "{http,https}://example.com",
        "ht-tp://example.com",
        "https://{a.com,b.com}",
        "http://example.com/api",
        "http://example.com:8080/api",
        "https://a.*.com",
        "http://*.10.0.0.1",
        "http://exa[mple.com",
        "tcp://10.0.0.1",
        "*://example.com",
        "http://example.com:80x",
        "http://example.com:{80,443}",
        "http://example.com:9000..8000",
    ] {
        let err = AllowedHosts::parse(&["https://ok.example", entry]).unwrap_err();
        assert_eq!(err.index, 1);
        assert_eq!(err.entry, entry);
        let message = err.to_string();
        assert!(
            message.starts_with(&format!(
                "invalid `allowed_outbound_hosts` entry {entry:?} (index 1): "
            )),
            "{message}"
        );
        // The hint is data, printed once by the CLI, not part of the message.
        assert!(!message.contains("hint: "), "{message}");
        assert_eq!(spin_hint::Hinted::from(&err).hint, err.hint);
        assert_eq!(spin_hint::Hinted::from(&err).message, message);
        // Every example the hint quotes must itself be a valid entry.
        let examples: Vec<&str> = err
            .hint
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| s.contains("://"))
            .collect();
        assert!(!examples.is_empty(), "{entry}: {}", err.hint);
        for example in examples {
            AllowedHosts::parse(&[example])
                .unwrap_or_else(|e| panic!("hint for {entry:?} suggests {example:?}: {e}"));
        }
    }
    let err = AllowedHosts::parse(&["example.com:8080"]).unwrap_err();
    assert_eq!(
        err.hint,
        "add a scheme, as in \"https://example.com:8080\", or \"*://example.com:8080\" for any protocol"
    );
    let err = AllowedHosts::parse(&["http://example.com:8080/api"]).unwrap_err();
    assert_eq!(
        err.hint,
        "remove the path, as in \"http://example.com:8080\""
    );
}

#[test]
fn suggestions() {
    for (target, v1, line) in [
        (
            url("https://example.com/x"),
            false,
            r#"allowed_outbound_hosts = ["https://example.com"]"#,
        ),
        (
            url("https://example.com:8443/"),
            false,
            r#"allowed_outbound_hosts = ["https://example.com:8443"]"#,
        ),
        (
            url("http://[::1]:8080/"),
            false,
            r#"allowed_outbound_hosts = ["http://[::1]:8080"]"#,
        ),
        (
            url("redis://cache"),
            false,
            r#"allowed_outbound_hosts = ["redis://cache"]"#,
        ),
        (
            url("redis://cache:6380"),
            true,
            r#"allowed_outbound_hosts = ["redis://cache:6380"]"#,
        ),
        (
            url("https://example.com/"),
            true,
            r#"allowed_http_hosts = ["example.com"]"#,
        ),
        (
            url("https://example.com:8443/"),
            true,
            r#"allowed_http_hosts = ["example.com:8443"]"#,
        ),
        (
            url("http://self.alt/x"),
            false,
            r#"allowed_outbound_hosts = ["http://self"]"#,
        ),
        (
            url("http://self.alt/x"),
            true,
            r#"allowed_http_hosts = ["self"]"#,
        ),
        (
            OutboundTarget::socket("tcp", "10.0.0.1:5432".parse().unwrap()),
            false,
            r#"allowed_outbound_hosts = ["tcp://10.0.0.1:5432"]"#,
        ),
    ] {
        assert_eq!(suggestion(&target, v1), line, "{target}");
        // The suggested v2 entry really allows the target.
        if !v1 && !target.is_self() {
            let entry = line.split('"').nth(1).unwrap();
            assert!(list(&[entry]).allows(&target), "{line}");
        }
    }
}

#[test]
fn subdomain_wildcard_needs_a_label() {
    let allowed = list(&["http://*.example.com"]);
    // WHATWG accepts an empty first label; it is not a subdomain.
    let target = OutboundTarget::new("http", ".example.com", None).unwrap();
    assert_eq!(target.host, Host::Domain(".example.com".into()));
    assert!(!allowed.allows(&target));
}

#[test]
fn exact_targets_are_the_entries_naming_one_destination() {
    let allowed = list(&[
        "redis://127.0.0.1",
        "postgres://DB.example.com:6543",
        "mysql://[::1]",
        "mqtt://broker:*",
        "redis://*.example.com",
        "postgres://10.0.0.0/8",
        "mysql://db:3000..3010",
        "*://cache:6379",
        "http://self",
        "https://example.com",
    ]);
    let targets: Vec<String> = allowed.exact_targets().map(|t| t.to_string()).collect();
    assert_eq!(
        targets,
        [
            "redis://127.0.0.1:6379",
            "postgres://db.example.com:6543",
            "mysql://[::1]:3306",
            "https://example.com:443",
        ]
    );
}
