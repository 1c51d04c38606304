//! One `allowed_outbound_hosts` entry: `scheme://host[:port]`, parsed as
//! Spin's `allowed_hosts.rs` parses it.

use std::net::IpAddr;
use std::ops::Range;

use ipnet::IpNet;

use crate::target::{Host, OutboundTarget, SELF_ALT, well_known_port};

/// What is wrong with an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryProblem {
    /// `*`, `:` or `?`: probably meant to allow everything.
    #[error("it is not a `scheme://host[:port]` destination")]
    NotADestination,
    /// No `://`.
    #[error("it has no scheme such as `https://`")]
    MissingScheme,
    /// `{http,https}://…`.
    #[error("scheme lists such as `{0}` are not supported")]
    SchemeList(String),
    /// A scheme with characters other than letters.
    #[error("the scheme `{0}` must be letters only")]
    InvalidScheme(String),
    /// `https://{a.com,b.com}`.
    #[error("host lists such as `{0}` are not supported")]
    HostList(String),
    /// Anything after the host and port other than a single `/`.
    #[error("it has a path, but an entry is only `scheme://host[:port]`")]
    HasPath,
    /// A `*` other than a whole-host `*` or a leading `*.`.
    #[error("`{0}` has a `*` that is not a leading `*.`")]
    MisplacedWildcard(String),
    /// `*.` followed by an IP address.
    #[error("`*.{0}` must have a domain name after `*.`")]
    WildcardNotDomain(String),
    /// Not a domain name, IP address or CIDR range.
    #[error("`{host}` is not a valid host: {error}")]
    InvalidHost {
        /// The host as written.
        host: String,
        /// What the WHATWG host parser rejected.
        error: url::ParseError,
    },
    /// No port, and the scheme has no well-known port.
    #[error("it has no port, and `{0}` has no default port")]
    MissingPort(String),
    /// The port is not a number, `*` or a range.
    #[error("`{0}` is not a port number (0-65535), `*`, or a range such as `8000..9000`")]
    InvalidPort(String),
    /// `{a,b}` ports.
    #[error("port lists such as `{0}` are not supported")]
    PortList(String),
    /// `a..b` with `a >= b`: ranges exclude their end, so this allows nothing.
    #[error("the port range `{start}..{end}` is empty (a range excludes its end)")]
    EmptyPortRange {
        /// First port.
        start: u16,
        /// The excluded end.
        end: u16,
    },
}

/// A parsed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    scheme: SchemePattern,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemePattern {
    Any,
    Is(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// Strict subdomains of the domain; holds the suffix with its leading dot.
    Subdomains(String),
    /// `self`/`self.alt`: the application itself.
    ToSelf,
    Exact(Host),
    Network(IpNet),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    One(u16),
    /// End excluded, as in Spin.
    Range(Range<u16>),
}

/// An entry that failed, with a corrected example for the hint.
pub(crate) struct Rejection {
    pub(crate) problem: EntryProblem,
    pub(crate) hint: String,
}

impl Entry {
    /// Parses one entry; `Ok(None)` for an entry that allows nothing because
    /// a variable in it was empty (`"https://{{ host }}"` with `host = ""`),
    /// which Spin skips to support optional endpoints.
    pub(crate) fn parse(text: &str) -> Result<Option<Self>, Rejection> {
        let text = text.trim();
        if matches!(text, "" | "http://" | "https://") {
            return Ok(None);
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(no_scheme(text));
        };
        let parts = Parts::split(scheme, rest)?;
        let scheme = parse_scheme(scheme, rest)?;
        let port = parts.port(&scheme)?;
        let host = parts.host()?;
        Ok(Some(Self { scheme, host, port }))
    }

    /// The entries Spin 1's `insecure:allow-all` stood for: any HTTP(S)
    /// destination, and the application itself.
    pub(crate) fn insecure_allow_all() -> [Self; 3] {
        let any_http = |scheme: &str| Self {
            scheme: SchemePattern::Is(scheme.to_owned()),
            host: HostPattern::Any,
            port: PortPattern::Any,
        };
        [
            any_http("http"),
            any_http("https"),
            Self {
                scheme: SchemePattern::Is("http".to_owned()),
                host: HostPattern::ToSelf,
                port: PortPattern::Any,
            },
        ]
    }

    /// Whether the entry may allow a destination of `scheme` given as an
    /// address (a socket's): its scheme allows `scheme`, and its host is
    /// `*`, an IP address or a CIDR block.
    pub(crate) fn may_match_address(&self, scheme: &str) -> bool {
        self.scheme.allows(scheme)
            && matches!(
                self.host,
                HostPattern::Any | HostPattern::Network(_) | HostPattern::Exact(Host::Ip(_))
            )
    }

    /// For an entry of `scheme` (exactly, not `*`) that names hosts by
    /// domain, the domain pattern as written; such an entry never matches a
    /// destination given as an address.
    pub(crate) fn names_domains_for(&self, scheme: &str) -> Option<String> {
        if self.scheme != SchemePattern::Is(scheme.to_owned()) {
            return None;
        }
        match &self.host {
            HostPattern::Exact(host @ Host::Domain(_)) => Some(host.to_string()),
            HostPattern::Subdomains(suffix) => Some(format!("*{suffix}")),
            _ => None,
        }
    }

    /// Scheme, host and port all allow the target.
    pub(crate) fn allows(&self, target: &OutboundTarget) -> bool {
        self.scheme.allows(&target.scheme)
            && self.port.allows(target.port)
            && self.host.allows(&target.host)
    }

    /// The one destination the entry names, when scheme, host and port are
    /// each a single value (a name or an address, not `*`, `*.domain`, a
    /// CIDR block, `self`, or a port range).
    pub(crate) fn exact_target(&self) -> Option<OutboundTarget> {
        match (&self.scheme, &self.host, &self.port) {
            (SchemePattern::Is(scheme), HostPattern::Exact(host), PortPattern::One(port)) => {
                Some(OutboundTarget {
                    scheme: scheme.clone(),
                    host: host.clone(),
                    port: *port,
                })
            }
            _ => None,
        }
    }

    /// Requests to the application itself with this scheme.
    pub(crate) fn allows_self(&self, scheme: &str) -> bool {
        self.scheme.allows(&scheme.to_ascii_lowercase())
            && matches!(self.host, HostPattern::Any | HostPattern::ToSelf)
    }
}

impl SchemePattern {
    fn allows(&self, scheme: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Is(s) => s == scheme,
        }
    }
}

impl HostPattern {
    /// `scheme` is only used to phrase hints.
    fn parse(host: &str, scheme: &str) -> Result<Self, Rejection> {
        let host = host.trim();
        match host {
            "*" => return Ok(Self::Any),
            "self" | SELF_ALT => return Ok(Self::ToSelf),
            _ => {}
        }
        if host.starts_with('{') {
            return Err(Rejection {
                problem: EntryProblem::HostList(host.to_owned()),
                hint: format!(
                    "write one entry per host, as in \"{scheme}://a.example.com\", \
                     \"{scheme}://b.example.com\""
                ),
            });
        }
        if let Ok(net) = host.parse::<IpNet>() {
            return Ok(Self::Network(net.trunc()));
        }
        let host = host.strip_suffix('/').unwrap_or(host);
        if host.contains('/') {
            let without_path = host.split('/').next().unwrap_or_default();
            return Err(Rejection {
                problem: EntryProblem::HasPath,
                hint: format!("remove the path, as in \"{scheme}://{without_path}\""),
            });
        }
        if let Some(domain) = host.strip_prefix("*.") {
            return Self::subdomains(domain, scheme);
        }
        if host.contains('*') {
            return Err(misplaced_wildcard(host, scheme));
        }
        Host::parse(host)
            .map(Self::Exact)
            .map_err(|error| invalid_host(host, scheme, error))
    }

    fn subdomains(domain: &str, scheme: &str) -> Result<Self, Rejection> {
        let wildcard = format!("*.{domain}");
        if domain.contains('*') {
            return Err(misplaced_wildcard(&wildcard, scheme));
        }
        match Host::parse(domain) {
            Ok(Host::Domain(domain)) => Ok(Self::Subdomains(format!(".{domain}"))),
            Ok(Host::Ip(_)) => Err(Rejection {
                problem: EntryProblem::WildcardNotDomain(domain.to_owned()),
                hint: format!(
                    "to allow a range of addresses write a CIDR block, as in \"{scheme}://10.0.0.0/8\""
                ),
            }),
            Err(error) => Err(invalid_host(&wildcard, scheme, error)),
        }
    }

    fn allows(&self, host: &Host) -> bool {
        match (self, host) {
            (Self::Any, _) => true,
            (Self::Subdomains(suffix), Host::Domain(domain)) => {
                domain.len() > suffix.len() && domain.ends_with(suffix.as_str())
            }
            (Self::Exact(exact), host) => exact == host,
            (Self::Network(_), Host::Ip(ip)) => self.contains_ip(*ip),
            // Self requests are decided by `allows_self`.
            (Self::ToSelf, _) | (Self::Subdomains(_), Host::Ip(_)) => false,
            (Self::Network(_), Host::Domain(_)) => false,
        }
    }

    /// An address entry (single IP or CIDR) that covers `ip`. `ip` must be
    /// canonical (IPv4-mapped IPv6 already turned into IPv4).
    fn contains_ip(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Self::Exact(Host::Ip(exact)), ip) => *exact == ip,
            (Self::Network(net), ip) if net.contains(&ip) => true,
            // An IPv6 range written over mapped addresses (`::ffff:0:0/96`).
            (Self::Network(IpNet::V6(net)), IpAddr::V4(v4)) => net.contains(&v4.to_ipv6_mapped()),
            _ => false,
        }
    }
}

impl PortPattern {
    fn allows(&self, port: u16) -> bool {
        match self {
            Self::Any => true,
            Self::One(p) => *p == port,
            Self::Range(range) => range.contains(&port),
        }
    }
}

/// The host and port text of an entry, split the way Spin splits them: at
/// the last `:`, unless everything after `://` is already a valid host (an
/// IPv6 address or CIDR contains colons).
struct Parts<'a> {
    scheme: &'a str,
    host: &'a str,
    port: &'a str,
}

impl<'a> Parts<'a> {
    fn split(scheme: &'a str, rest: &'a str) -> Result<Self, Rejection> {
        let (host, port) = match rest.rsplit_once(':') {
            None => (rest, ""),
            Some((host, "")) => (host, ""),
            // The colon is inside an IPv6 literal (`*.[::1]`): no port.
            Some((_, tail)) if tail.ends_with(']') => (rest, ""),
            Some(_) if HostPattern::parse(rest, scheme).is_ok() => (rest, ""),
            Some((host, tail)) => {
                let port = match tail.split_once('/') {
                    None => tail,
                    Some((port, "")) => port,
                    Some((port, _)) => {
                        return Err(Rejection {
                            problem: EntryProblem::HasPath,
                            hint: format!("remove the path, as in \"{scheme}://{host}:{port}\""),
                        });
                    }
                };
                (host, port)
            }
        };
        Ok(Self { scheme, host, port })
    }

    fn host(&self) -> Result<HostPattern, Rejection> {
        HostPattern::parse(self.host, self.scheme)
    }

    fn port(&self, scheme: &SchemePattern) -> Result<PortPattern, Rejection> {
        let port = self.port.trim();
        let example = |port: &str| format!("\"{}://{}:{port}\"", self.scheme, self.host);
        if port.is_empty() {
            let default = match scheme {
                SchemePattern::Is(s) => well_known_port(s),
                SchemePattern::Any => None,
            };
            return default.map(PortPattern::One).ok_or_else(|| Rejection {
                problem: EntryProblem::MissingPort(self.scheme.to_owned()),
                hint: format!(
                    "add a port, as in {}, or {} for any port",
                    example("8080"),
                    example("*")
                ),
            });
        }
        if port == "*" {
            return Ok(PortPattern::Any);
        }
        if port.starts_with('{') {
            return Err(Rejection {
                problem: EntryProblem::PortList(port.to_owned()),
                hint: format!(
                    "write one entry per port, or a range as in {}",
                    example("8000..9000")
                ),
            });
        }
        let number = |text: &str| {
            text.trim().parse::<u16>().map_err(|_| Rejection {
                problem: EntryProblem::InvalidPort(port.to_owned()),
                hint: format!("write a port as in {}", example("8080")),
            })
        };
        let Some((start, end)) = port.split_once("..") else {
            return number(port).map(PortPattern::One);
        };
        let (start, end) = (number(start)?, number(end)?);
        if start >= end {
            let (low, high) = (start.min(end), start.max(end));
            return Err(Rejection {
                problem: EntryProblem::EmptyPortRange { start, end },
                hint: format!(
                    "to allow ports {low} to {high}, write {}",
                    example(&format!("{low}..{}", high.saturating_add(1)))
                ),
            });
        }
        Ok(PortPattern::Range(start..end))
    }
}

fn parse_scheme(scheme: &str, rest: &str) -> Result<SchemePattern, Rejection> {
    if scheme == "*" {
        return Ok(SchemePattern::Any);
    }
    if scheme.starts_with('{') {
        let first = scheme
            .trim_matches(['{', '}'])
            .split(',')
            .next()
            .unwrap_or("https")
            .trim();
        return Err(Rejection {
            problem: EntryProblem::SchemeList(scheme.to_owned()),
            hint: format!(
                "write one entry per scheme, as in \"{first}://{rest}\", or \"*://{}\" for any scheme",
                with_port(rest)
            ),
        });
    }
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(Rejection {
            problem: EntryProblem::InvalidScheme(scheme.to_owned()),
            hint: format!(
                "write a scheme such as \"https://{rest}\", or \"*://{}\" for any scheme",
                with_port(rest)
            ),
        });
    }
    Ok(SchemePattern::Is(scheme.to_ascii_lowercase()))
}

fn no_scheme(text: &str) -> Rejection {
    if matches!(text, "*" | ":" | "?") {
        return Rejection {
            problem: EntryProblem::NotADestination,
            hint: "name a destination, as in \"https://example.com\"; \"*://*:*\" allows \
                   every destination, which turns off network sandboxing"
                .to_owned(),
        };
    }
    let bare = text.trim_end_matches('/');
    Rejection {
        problem: EntryProblem::MissingScheme,
        hint: format!(
            "add a scheme, as in \"https://{bare}\", or \"*://{}\" for any protocol",
            with_port(bare)
        ),
    }
}

/// `host[:port]` with `:*` added when it has no port, for `*://` examples
/// (a `*` scheme has no default port).
fn with_port(host_port: &str) -> String {
    let host_port = host_port.trim_end_matches('/');
    let has_port = host_port.rsplit_once(':').is_some_and(|(_, port)| {
        port == "*" || (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
    });
    if has_port {
        host_port.to_owned()
    } else {
        format!("{host_port}:*")
    }
}

fn misplaced_wildcard(host: &str, scheme: &str) -> Rejection {
    Rejection {
        problem: EntryProblem::MisplacedWildcard(host.to_owned()),
        hint: format!(
            "write \"{scheme}://*.example.com\" for the subdomains of a domain, or \
             \"{scheme}://*\" for any host"
        ),
    }
}

fn invalid_host(host: &str, scheme: &str, error: url::ParseError) -> Rejection {
    Rejection {
        problem: EntryProblem::InvalidHost {
            host: host.to_owned(),
            error,
        },
        hint: format!(
            "write a domain name, IP address or CIDR block, as in \"{scheme}://example.com\", \
             \"{scheme}://10.0.0.1\" or \"{scheme}://10.0.0.0/8\""
        ),
    }
}
