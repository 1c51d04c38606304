//! The destination a guest wants to reach, normalized so that one address
//! has one spelling before it is compared with the allow list.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The domain under which components call each other in-process.
const SERVICE_CHAINING_DOMAIN: &str = "spin.internal";

/// The host a guest names to call its own application (`http://self.alt/…`)
/// when its HTTP library insists on an absolute URL.
pub const SELF_ALT: &str = "self.alt";

/// A normalized host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain name: lowercase ASCII (IDNA applied), without the trailing
    /// root dot.
    Domain(String),
    /// An IP address; an IPv4-mapped IPv6 address is stored as IPv4, since
    /// that is where a connection to it goes.
    Ip(IpAddr),
}

impl Host {
    /// Parses a host with the WHATWG rules for `http` URLs, which also decode
    /// IPv4 written in decimal, octal or hex (`2130706433`, `0x7f.1`). A bare
    /// IPv6 address (as `IpAddr` prints it) is accepted too.
    pub fn parse(text: &str) -> Result<Self, url::ParseError> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Self::Ip(ip.to_canonical()));
        }
        Self::from_url_host(url::Host::parse(text)?)
    }

    fn from_url_host<S: AsRef<str>>(host: url::Host<S>) -> Result<Self, url::ParseError> {
        match host {
            url::Host::Domain(domain) => {
                let domain = domain.as_ref();
                let domain = domain.strip_suffix('.').unwrap_or(domain);
                // Only one root dot: were `a..` kept as `a.`, an entry `a.`
                // (normalized to `a`) would not match it, two spellings of
                // one name (found by the `allowed_hosts` fuzzer).
                if domain.is_empty() || domain.ends_with('.') {
                    return Err(url::ParseError::EmptyHost);
                }
                Ok(Self::Domain(domain.to_owned()))
            }
            url::Host::Ipv4(ip) => Ok(Self::Ip(ip.into())),
            url::Host::Ipv6(ip) => Ok(Self::Ip(IpAddr::V6(ip).to_canonical())),
        }
    }
}

impl fmt::Display for Host {
    /// As it appears in a URL: IPv6 in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Domain(domain) => f.write_str(domain),
            Self::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            Self::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
        }
    }
}

/// Why a destination could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Not a URL at all. The URL is kept with any password hidden.
    #[error("`{url}` is not a valid URL: {error}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What the WHATWG parser rejected.
        error: url::ParseError,
    },
    /// A path without scheme and host: a request to the application itself,
    /// which [`crate::AllowedHosts::allows_self`] decides.
    #[error("`{url}` is a relative URL")]
    Relative {
        /// The URL as given.
        url: String,
    },
    /// A URL such as `mailto:` that names no host.
    #[error("`{url}` has no host")]
    NoHost {
        /// The URL as given.
        url: String,
    },
    /// `user@host`: refused because an allow-list check that looked at the
    /// text before `@` would pass `http://allowed.com@evil.com/`. The URL
    /// is kept with its password hidden ([`crate::redact_url`]).
    #[error("`{url}` has credentials before its host")]
    Userinfo {
        /// The URL as given.
        url: String,
    },
    /// No port was given and the scheme has no well-known one.
    #[error("`{scheme}://{host}` has no port, and `{scheme}` has no default port")]
    MissingPort {
        /// The scheme.
        scheme: String,
        /// The host as given.
        host: String,
    },
    /// The host is not a domain name or IP address.
    #[error("`{host}` is not a valid host: {error}")]
    InvalidHost {
        /// The host as given.
        host: String,
        /// What the WHATWG host parser rejected.
        error: url::ParseError,
    },
}

impl TargetError {
    /// What to do about it, when the user can do something.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::InvalidUrl { .. } => Some(
                "percent-encode special characters such as `#`, `/` and `@` in user names and passwords",
            ),
            Self::Userinfo { .. } => {
                Some("send credentials in a header such as `Authorization` instead")
            }
            Self::Relative { .. }
            | Self::NoHost { .. }
            | Self::MissingPort { .. }
            | Self::InvalidHost { .. } => None,
        }
    }
}

/// The message with its hint (if any) kept apart, for the CLI to print last.
impl From<&TargetError> for spin_hint::Hinted {
    fn from(error: &TargetError) -> Self {
        spin_hint::Hinted::new(error.to_string(), error.hint().unwrap_or_default())
    }
}

/// A destination: scheme, host and port, each normalized.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutboundTarget {
    /// Lowercase scheme, e.g. `https`, `redis`, `tcp`.
    pub scheme: String,
    /// The host.
    pub host: Host,
    /// The port, the scheme's well-known one when the URL gave none.
    pub port: u16,
}

impl OutboundTarget {
    /// Parses a URL the guest wants to reach, with WHATWG URL rules (so the
    /// host is what a browser would connect to), and refuses URLs carrying
    /// `user:password@`.
    ///
    /// Connect to the returned target rather than re-parsing the URL with
    /// another parser, so the address checked is the address used.
    pub fn parse_url(url: &str) -> Result<Self, TargetError> {
        let parsed = parse_absolute(url)?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(TargetError::Userinfo {
                url: crate::redact_url(url),
            });
        }
        Self::from_parsed(url, &parsed)
    }

    /// Like [`Self::parse_url`] but accepts credentials, for database
    /// connection strings such as `postgres://user:pass@db:5432/app`. The
    /// credentials are ignored: the host is the part after the last `@`, as
    /// WHATWG parsing defines it. Unlike Spin, credentials are not
    /// pre-encoded, so `mysql://evil.com#@allowed.com` is checked as
    /// `evil.com`, where a URL-parsing client would connect; a `#` in a
    /// password must be written `%23`.
    pub fn parse_connection_url(url: &str) -> Result<Self, TargetError> {
        Self::from_parsed(url, &parse_absolute(url)?)
    }

    /// A target from parts, e.g. a Redis address or a socket connect. `host`
    /// may be a domain, an IPv4 address in any WHATWG form, or an IPv6
    /// address with or without brackets. Without `port`, the scheme's
    /// well-known port is used.
    pub fn new(scheme: &str, host: &str, port: Option<u16>) -> Result<Self, TargetError> {
        let scheme = scheme.to_ascii_lowercase();
        let Some(port) = port.or_else(|| well_known_port(&scheme)) else {
            return Err(TargetError::MissingPort {
                scheme,
                host: host.to_owned(),
            });
        };
        let host = Host::parse(host).map_err(|error| TargetError::InvalidHost {
            host: host.to_owned(),
            error,
        })?;
        Ok(Self { scheme, host, port })
    }

    /// A socket destination, checked as `tcp://addr:port` or
    /// `udp://addr:port` as Spin does for WASI sockets.
    pub fn socket(scheme: &str, addr: SocketAddr) -> Self {
        Self {
            scheme: scheme.to_ascii_lowercase(),
            host: Host::Ip(addr.ip().to_canonical()),
            port: addr.port(),
        }
    }

    /// True for `self.alt`, the name for the application itself; such
    /// requests are decided by [`crate::AllowedHosts::allows_self`].
    pub fn is_self(&self) -> bool {
        matches!(&self.host, Host::Domain(d) if d == SELF_ALT)
    }

    /// For `<component>.spin.internal`, the component being called.
    pub fn service_chaining_component(&self) -> Option<&str> {
        let Host::Domain(domain) = &self.host else {
            return None;
        };
        match domain.split_once('.') {
            Some((component, SERVICE_CHAINING_DOMAIN)) => Some(component),
            _ => None,
        }
    }

    fn from_parsed(original: &str, url: &url::Url) -> Result<Self, TargetError> {
        let host = match url.host() {
            None => {
                return Err(TargetError::NoHost {
                    url: original.to_owned(),
                });
            }
            // Non-`http` schemes keep hosts opaque (`redis://0x7f.1` has the
            // domain `0x7f.1`); re-parse so they normalize like HTTP hosts.
            Some(url::Host::Domain(domain)) => Host::parse(domain),
            Some(ip) => Host::from_url_host(ip),
        }
        .map_err(|error| TargetError::InvalidHost {
            host: url.host_str().unwrap_or_default().to_owned(),
            error,
        })?;
        let scheme = url.scheme().to_owned();
        let Some(port) = url
            .port_or_known_default()
            .or_else(|| well_known_port(&scheme))
        else {
            return Err(TargetError::MissingPort {
                scheme,
                host: host.to_string(),
            });
        };
        Ok(Self { scheme, host, port })
    }
}

impl fmt::Display for OutboundTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

fn parse_absolute(url: &str) -> Result<url::Url, TargetError> {
    url::Url::parse(url).map_err(|error| match error {
        url::ParseError::RelativeUrlWithoutBase => TargetError::Relative {
            url: url.to_owned(),
        },
        error => TargetError::InvalidUrl {
            url: crate::redact_url(url),
            error,
        },
    })
}

/// The port a scheme implies when none is written, for the schemes Spin
/// knows.
pub(crate) fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "redis" => Some(6379),
        "mysql" => Some(3306),
        "postgres" => Some(5432),
        "mqtt" => Some(1883),
        _ => None,
    }
}
