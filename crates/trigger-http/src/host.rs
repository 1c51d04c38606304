//! The host a client's request is for (RFC 9112 §3.2–3.3), checked before
//! anything routes it.
//!
//! The guest sees this host in `Host`, in `spin-full-url` and (for
//! `wasi:http@0.3`) in the request's URI, so a request that names its host
//! twice, or names something that is not a host, is refused with a 400, as
//! RFC 9112 requires and as uvicorn's h11 does, instead of reaching the
//! guest with a URL built from whatever the client wrote.

use http::header::HOST;
use http::uri::Authority;
use http::{HeaderMap, Uri, Version};

/// Why a request's host was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadHost {
    /// An HTTP/1.1 request without `Host`.
    Missing,
    /// More than one `Host` field.
    Repeated,
    /// A `Host` (or absolute-form authority) that is not `host[:port]`.
    Invalid,
    /// An HTTP/2 `Host` naming another host than `:authority` (RFC 9113
    /// §8.3.1).
    Conflicting,
    /// A request target that is neither a path nor an `http`/`https` URL:
    /// another scheme (`ftp://…`), or a bare authority (`GET example.com`,
    /// which only CONNECT may send).
    NotATarget,
}

impl BadHost {
    /// What the client should send instead.
    pub(crate) fn hint(self) -> &'static str {
        match self {
            BadHost::NotATarget => {
                "hint: send a path (`GET /x`), or an http:// or https:// URL (`GET http://host/x`)"
            }
            _ => "hint: send `Host: <host>[:<port>]` once, as HTTP clients do",
        }
    }

    /// The reason, for the 400's body and the debug log.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            BadHost::Missing => "an HTTP/1.1 request needs a Host header",
            BadHost::Repeated => "a request may have only one Host header",
            BadHost::Invalid => {
                "the request's host (its Host header, or the authority of its target) is not a host with an optional port"
            }
            BadHost::Conflicting => "the Host header names another host than :authority",
            BadHost::NotATarget => "the request target is neither a path nor an http or https URL",
        }
    }
}

/// The host `uri` and `headers` name for a request of `version` from a
/// client, or why there is none that may be used.
///
/// - A URI with an authority (an absolute-form request target, or HTTP/2's
///   `:authority`) names the host itself; `Host` is then ignored, apart
///   from being required once in HTTP/1.1 (RFC 9112 §3.2.2).
/// - Otherwise `Host`: required in HTTP/1.1, optional in HTTP/1.0 and
///   HTTP/2.
///
/// `Ok(None)`: no host was named (HTTP/1.0 or HTTP/2 without one, or an
/// empty `Host`); the caller falls back to the address the request came in
/// on.
pub(crate) fn target_host(
    version: Version,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Option<Authority>, BadHost> {
    let mut hosts = headers.get_all(HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err(BadHost::Repeated);
    }
    if host.is_none() && version == Version::HTTP_11 {
        return Err(BadHost::Missing);
    }
    if uri.authority().is_some()
        && !matches!(uri.scheme_str(), Some(scheme) if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
    {
        return Err(BadHost::NotATarget);
    }
    if let Some(authority) = uri.authority() {
        let authority = checked(authority.clone()).ok_or(BadHost::Invalid)?;
        if version == Version::HTTP_2
            && let Some(host) = host
            && !same_host(host.as_bytes(), &authority)
        {
            return Err(BadHost::Conflicting);
        }
        return Ok(Some(authority));
    }
    match host {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) => Authority::try_from(value.as_bytes())
            .ok()
            .and_then(checked)
            .map(Some)
            .ok_or(BadHost::Invalid),
    }
}

/// Whether the `Host` value `host` names `authority`'s host (a port counts
/// only where both name one).
fn same_host(host: &[u8], authority: &Authority) -> bool {
    let Some(host) = Authority::try_from(host).ok().and_then(checked) else {
        return false;
    };
    host.host().eq_ignore_ascii_case(authority.host())
        && (host.port_u16().is_none()
            || authority.port_u16().is_none()
            || host.port_u16() == authority.port_u16())
}

/// `authority` if it is `host[:port]`: no user information, and a port
/// that is a number (`Authority` parses the port only when asked).
fn checked(authority: Authority) -> Option<Authority> {
    let text = authority.as_str();
    // User information has no place in a request's host (and `host()`
    // assumes a host follows the last `@`).
    if text.is_empty() || text.contains('@') {
        return None;
    }
    let host = authority.host();
    let valid = !host.is_empty() && (text.len() == host.len() || authority.port_u16().is_some());
    valid.then_some(authority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn host_of(version: Version, uri: &str, hosts: &[&[u8]]) -> Result<Option<String>, BadHost> {
        let mut headers = HeaderMap::new();
        for host in hosts {
            headers.append(HOST, HeaderValue::from_bytes(host).unwrap());
        }
        target_host(version, &uri.parse().unwrap(), &headers).map(|a| a.map(|a| a.to_string()))
    }

    fn http11(hosts: &[&[u8]]) -> Result<Option<String>, BadHost> {
        host_of(Version::HTTP_11, "/path?q", hosts)
    }

    #[test]
    fn a_host_with_or_without_a_port_is_taken() {
        assert_eq!(http11(&[b"example.com"]), Ok(Some("example.com".into())));
        assert_eq!(
            http11(&[b"example.com:8080"]),
            Ok(Some("example.com:8080".into()))
        );
        assert_eq!(
            http11(&[b"127.0.0.1:3000"]),
            Ok(Some("127.0.0.1:3000".into()))
        );
        assert_eq!(http11(&[b"[::1]:3000"]), Ok(Some("[::1]:3000".into())));
        assert_eq!(http11(&[b"[::1]"]), Ok(Some("[::1]".into())));
    }

    #[test]
    fn http11_needs_exactly_one_host() {
        assert_eq!(http11(&[]), Err(BadHost::Missing));
        assert_eq!(http11(&[b"a", b"a"]), Err(BadHost::Repeated));
        assert_eq!(http11(&[b"a", b"b"]), Err(BadHost::Repeated));
    }

    #[test]
    fn what_is_not_a_host_is_refused() {
        for bad in [
            &b"evil.com/x?"[..],
            b"evil.com?x",
            b"evil.com#x",
            b"user@example.com",
            b"user@",
            b"@",
            b"user:pw@example.com",
            b"example.com:http",
            b"example.com:99999",
            b"example.com:",
            b":80",
            b"exa mple.com",
            b"[::1",
        ] {
            assert_eq!(
                http11(&[bad]),
                Err(BadHost::Invalid),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn an_empty_host_names_none() {
        assert_eq!(http11(&[b""]), Ok(None));
    }

    #[test]
    fn http10_and_http2_may_leave_the_host_out() {
        assert_eq!(host_of(Version::HTTP_10, "/", &[]), Ok(None));
        assert_eq!(host_of(Version::HTTP_2, "/", &[]), Ok(None));
        assert_eq!(
            host_of(Version::HTTP_10, "/", &[b"a", b"b"]),
            Err(BadHost::Repeated)
        );
    }

    #[test]
    fn a_target_is_a_path_or_an_http_url() {
        for target in ["ftp://target/x", "ws://target/x", "target", "target:80"] {
            assert_eq!(
                host_of(Version::HTTP_11, target, &[b"target"]),
                Err(BadHost::NotATarget),
                "{target}"
            );
        }
        assert_eq!(
            host_of(Version::HTTP_11, "HTTPS://target/x", &[b"target"]),
            Ok(Some("target".into()))
        );
        assert_eq!(
            host_of(Version::HTTP_11, "*", &[b"target"]),
            Ok(Some("target".into()))
        );
    }

    #[test]
    fn the_uri_authority_wins_over_host() {
        // Absolute form: `Host` must be there in HTTP/1.1, but names nothing.
        assert_eq!(
            host_of(Version::HTTP_11, "http://target:81/x", &[b"other"]),
            Ok(Some("target:81".into()))
        );
        assert_eq!(
            host_of(Version::HTTP_11, "http://target/x", &[]),
            Err(BadHost::Missing)
        );
        assert_eq!(
            host_of(Version::HTTP_11, "http://user@target/x", &[b"target"]),
            Err(BadHost::Invalid)
        );
        // HTTP/2's `:authority`, which a `Host` may repeat but not
        // contradict.
        assert_eq!(
            host_of(Version::HTTP_2, "https://target/x", &[]),
            Ok(Some("target".into()))
        );
        for same in [&b"target"[..], b"TARGET:8443", b"target"] {
            assert_eq!(
                host_of(Version::HTTP_2, "https://target:8443/x", &[same]),
                Ok(Some("target:8443".into()))
            );
        }
        for other in [&b"other"[..], b"target:1", b"target/x"] {
            assert_eq!(
                host_of(Version::HTTP_2, "https://target:8443/x", &[other]),
                Err(BadHost::Conflicting)
            );
        }
    }
}
