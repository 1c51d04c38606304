//! `[[client_tls]]`: for the named components' HTTPS requests to the named
//! hosts, which certificate authorities to trust and which client
//! certificate to present (mutual TLS). The outbound HTTP capability
//! (`spin-runtime`'s `capabilities/outbound_http`) builds one TLS client per
//! entry from what is read here.
//!
//! The keys and their defaults are Spin's. The certificate files are read
//! and parsed here, so a missing or malformed file is an error that points at
//! its line before anything compiles.

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use spin_outbound_networking::Host;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use crate::error::{ErrorKind, RuntimeConfigError};
use crate::table::Table;

/// One `[[client_tls]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientTls {
    /// The components whose requests it covers (`component_ids`).
    pub component_ids: Vec<String>,
    /// The hosts it covers (`hosts`), lower-cased, IPv6 addresses without
    /// brackets; every port of each.
    pub hosts: Vec<String>,
    /// Trust the platform's certificate authorities (`ca_use_platform_roots`;
    /// by default, unless `ca_roots_file` is given).
    pub use_platform_roots: bool,
    /// Trust the Mozilla roots built into the host (`ca_use_webpki_roots`;
    /// off by default).
    pub use_webpki_roots: bool,
    /// The certificate authorities of `ca_roots_file`, trusted besides.
    pub ca_roots: Vec<CertificateDer<'static>>,
    /// The certificate to present (`client_cert_file` and
    /// `client_private_key_file`).
    pub client_cert: Option<ClientCert>,
    /// `<file>:<line>` of the entry, for messages.
    pub origin: String,
}

/// A client certificate chain with its private key.
pub struct ClientCert {
    /// The chain, the client's own certificate first.
    pub chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl ClientCert {
    /// The private key.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }
}

impl Clone for ClientCert {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl PartialEq for ClientCert {
    fn eq(&self, other: &Self) -> bool {
        self.chain == other.chain && self.key == other.key
    }
}

/// Never shows the key.
impl fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCert")
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Whether the entry covers `component`'s requests to `host` (as in a
    /// URL: an IPv6 address may be in brackets, a name in any case, in
    /// Unicode or punycode, with or without its final dot).
    pub fn covers(&self, component: &str, host: &str) -> bool {
        normalize_host(host).is_some_and(|host| self.covers_normalized(component, &host))
    }

    /// [`Self::covers`] for a host already passed through
    /// [`normalize_host`].
    pub fn covers_normalized(&self, component: &str, host: &str) -> bool {
        self.component_ids.iter().any(|c| c == component) && self.hosts.iter().any(|h| h == host)
    }
}

/// Which of `entries` covers `component`'s requests to `host`: the first
/// that does, as in Spin, where the first entry naming a pair wins.
pub fn position(entries: &[ClientTls], component: &str, host: &str) -> Option<usize> {
    if entries.is_empty() {
        return None;
    }
    let host = normalize_host(host)?;
    entries
        .iter()
        .position(|entry| entry.covers_normalized(component, &host))
}

/// One spelling per host, so that entries and URLs compare equal whenever
/// they name the same host: the allow list's normalization
/// ([`spin_outbound_networking::Host`]: IP addresses canonical, names
/// lower-cased, in punycode, without a final dot), IPv6 without brackets.
/// `None` for what is not a host.
pub fn normalize_host(host: &str) -> Option<String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match Host::parse(bare).ok()? {
        Host::Domain(domain) => Some(domain),
        Host::Ip(ip) => Some(ip.to_string()),
    }
}

const KEYS: &[&str] = &[
    "component_ids",
    "hosts",
    "ca_use_platform_roots",
    "ca_use_webpki_roots",
    "ca_roots_file",
    "client_cert_file",
    "client_private_key_file",
];

/// One `[[client_tls]]` table; relative file paths are relative to `base`,
/// the runtime config file's directory (as in Spin).
pub(crate) fn parse_entry(table: &Table, base: &Path) -> Result<ClientTls, RuntimeConfigError> {
    table.check_keys(KEYS)?;
    let component_ids = list(table, "component_ids", "component_ids = [\"my-component\"]")?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let hosts = list(table, "hosts", "hosts = [\"api.example.com\"]")?
        .into_iter()
        .map(|(host, span)| {
            check_host(&host).map_err(|reason| {
                table
                    .file
                    .error(span, ErrorKind::InvalidTlsHost { host, reason })
            })
        })
        .collect::<Result<_, _>>()?;
    let platform = table.boolean("ca_use_platform_roots")?;
    let webpki = table.boolean("ca_use_webpki_roots")?;
    let ca_roots = match file(table, "ca_roots_file", base)? {
        Some((path, span)) => Some(certificates(table, "ca_roots_file", &path, span)?),
        None => None,
    };
    // Spin's defaults: the platform's roots unless roots are given, the
    // built-in ones only when asked for.
    let (use_platform_roots, use_webpki_roots) = match (platform, webpki) {
        (Some(platform), Some(webpki)) => (platform, webpki),
        (Some(platform), None) => (platform, false),
        (None, Some(webpki)) => (false, webpki),
        (None, None) => (ca_roots.is_none(), false),
    };
    if !use_platform_roots && !use_webpki_roots && ca_roots.is_none() {
        return Err(table.file.error(
            table.get("ca_use_platform_roots").map_or_else(
                || table.span(),
                |(key, value)| key.span().start..value.span().end,
            ),
            ErrorKind::NoTrustedRoots,
        ));
    }
    let client_cert = match (
        file(table, "client_cert_file", base)?,
        file(table, "client_private_key_file", base)?,
    ) {
        (Some((cert, cert_span)), Some((key, key_span))) => {
            let chain = certificates(table, "client_cert_file", &cert, cert_span)?;
            let pem = read_pem(table, "client_private_key_file", &key, key_span.clone())?;
            let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
                file_error(
                    table,
                    "client_private_key_file",
                    &key,
                    key_span,
                    e.to_string(),
                )
            })?;
            Some(ClientCert { chain, key })
        }
        (None, None) => None,
        (Some((_, span)), None) => {
            return Err(table.file.error(
                span,
                ErrorKind::UnpairedClientCert {
                    given: "client_cert_file",
                    missing: "client_private_key_file",
                },
            ));
        }
        (None, Some((_, span))) => {
            return Err(table.file.error(
                span,
                ErrorKind::UnpairedClientCert {
                    given: "client_private_key_file",
                    missing: "client_cert_file",
                },
            ));
        }
    };
    Ok(ClientTls {
        component_ids,
        hosts,
        use_platform_roots,
        use_webpki_roots,
        ca_roots: ca_roots.unwrap_or_default(),
        client_cert,
        origin: table.file.origin(&table.span()),
    })
}

/// A required, non-empty array of strings.
fn list(
    table: &Table,
    key: &'static str,
    example: &'static str,
) -> Result<Vec<(String, Range<usize>)>, RuntimeConfigError> {
    let Some((k, value)) = table.get(key) else {
        return Err(table.missing(key, example));
    };
    let items = table.strings(k, value, "an array of strings")?;
    if items.is_empty() {
        return Err(table.file.error(
            value.span(),
            ErrorKind::EmptyList {
                table: table.name.clone(),
                key,
                example,
            },
        ));
    }
    Ok(items)
}

/// A host as `hosts` may name it: a name or an address, nothing more; in
/// the spelling of [`normalize_host`].
fn check_host(host: &str) -> Result<String, &'static str> {
    if host.is_empty() {
        return Err("it is empty");
    }
    if host.contains("://") {
        return Err("it has a scheme");
    }
    if host.contains('*') {
        return Err("wildcards are not supported");
    }
    if let Some(ip) = normalize_host(host).filter(|h| h.parse::<std::net::Ipv6Addr>().is_ok()) {
        return Ok(ip);
    }
    if host.contains(':') {
        return Err("ports are not supported: an entry covers every port of its hosts");
    }
    if host.contains(['/', '?', '#', '@']) {
        return Err("it is not a host name");
    }
    normalize_host(host).ok_or("it is not a host name")
}

/// The path given as `key`, resolved against `base`, with its span.
fn file(
    table: &Table,
    key: &str,
    base: &Path,
) -> Result<Option<(std::path::PathBuf, Range<usize>)>, RuntimeConfigError> {
    let Some((k, value)) = table.get(key) else {
        return Ok(None);
    };
    Ok(Some((base.join(table.str(k, value)?), value.span())))
}

/// The largest certificate or key file read: far above any CA bundle, and
/// a bound on what a mistaken path (a device, a log) can make `spin up` read.
const MAX_PEM_FILE: u64 = 16 << 20;

/// Why the file `path`, given as `key` at `span`, cannot be used.
fn file_error(
    table: &Table,
    key: &'static str,
    path: &Path,
    span: Range<usize>,
    reason: String,
) -> RuntimeConfigError {
    let path = path.display().to_string();
    let kind = ErrorKind::CertificateFile { key, path, reason };
    table.file.error(span, kind)
}

/// The contents of the regular file `path`, named as `key`.
fn read_pem(
    table: &Table,
    key: &'static str,
    path: &Path,
    span: Range<usize>,
) -> Result<Vec<u8>, RuntimeConfigError> {
    let error = |reason: String| file_error(table, key, path, span.clone(), reason);
    let metadata = std::fs::metadata(path).map_err(|e| error(e.to_string()))?;
    if !metadata.is_file() {
        return Err(error("it is not a regular file".into()));
    }
    if metadata.len() > MAX_PEM_FILE {
        return Err(error(format!(
            "it holds {} bytes, more than the {MAX_PEM_FILE} a certificate file may",
            metadata.len()
        )));
    }
    std::fs::read(path).map_err(|e| error(e.to_string()))
}

/// The PEM certificates in `path`; at least one.
fn certificates(
    table: &Table,
    key: &'static str,
    path: &Path,
    span: Range<usize>,
) -> Result<Vec<CertificateDer<'static>>, RuntimeConfigError> {
    let pem = read_pem(table, key, path, span.clone())?;
    let error = |reason: String| file_error(table, key, path, span.clone(), reason);
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if certs.is_empty() {
        return Err(error(
            "it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".into(),
        ));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::tests::{parse_err, parse_ok};

    /// A PEM certificate block: this crate reads PEM and leaves the DER
    /// inside to the TLS client.
    const CERT: &str =
        "-----BEGIN CERTIFICATE-----\nc3BpbiB0ZXN0IGNlcnRpZmljYXRl\n-----END CERTIFICATE-----\n";

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// `text` parsed as `<dir>/rc.toml`.
    fn parse_in(dir: &Path, text: &str) -> Result<crate::RuntimeConfig, RuntimeConfigError> {
        crate::RuntimeConfig::parse(text, &dir.join("rc.toml"))
    }

    #[test]
    fn the_smallest_entry_trusts_the_platform() {
        let config = parse_ok(
            "[[client_tls]]\ncomponent_ids = [\"api\"]\nhosts = [\"Internal.Example.com\", \"[::1]\", \"bücher.example\", \"0:0::2\"]\n",
        );
        let [entry] = &config.client_tls[..] else {
            panic!("{:?}", config.client_tls)
        };
        assert_eq!(entry.component_ids, ["api"]);
        assert_eq!(
            entry.hosts,
            [
                "internal.example.com",
                "::1",
                "xn--bcher-kva.example",
                "::2"
            ]
        );
        assert!(entry.covers("api", "xn--bcher-kva.example"));
        assert!(entry.use_platform_roots && !entry.use_webpki_roots);
        assert!(entry.ca_roots.is_empty() && entry.client_cert.is_none());
        assert_eq!(entry.origin, "conf/rc.toml:1");
        assert!(entry.covers("api", "internal.EXAMPLE.com"));
        assert!(entry.covers("api", "internal.example.com."));
        assert!(entry.covers("api", "[::1]"));
        assert!(entry.covers("api", "[0:0::1]"));
        assert!(!entry.covers("other", "internal.example.com"));
        assert!(!entry.covers("api", "example.com"));
    }

    #[test]
    fn the_first_entry_naming_a_component_and_host_wins() {
        let config = parse_ok(
            "[[client_tls]]\ncomponent_ids = [\"a\"]\nhosts = [\"x\"]\n\n[[client_tls]]\ncomponent_ids = [\"a\", \"b\"]\nhosts = [\"x\", \"y\"]\nca_use_webpki_roots = true\n",
        );
        let entries = &config.client_tls;
        assert_eq!(position(entries, "a", "x"), Some(0));
        assert_eq!(position(entries, "b", "X."), Some(1));
        assert_eq!(position(entries, "a", "y"), Some(1));
        assert_eq!(position(entries, "c", "x"), None);
        assert_eq!(entries[1].origin, "conf/rc.toml:5");
        // Only the built-in roots: the platform's are off unless asked for.
        assert!(entries[1].use_webpki_roots && !entries[1].use_platform_roots);
    }

    #[test]
    fn certificate_files_are_read_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("certs")).unwrap();
        write(
            &dir.path().join("certs"),
            "ca.pem",
            &format!("{CERT}{CERT}"),
        );
        let config = parse_in(
            dir.path(),
            "[[client_tls]]\ncomponent_ids = [\"api\"]\nhosts = [\"db.internal\"]\nca_roots_file = \"certs/ca.pem\"\n",
        )
        .unwrap();
        let entry = &config.client_tls[0];
        assert_eq!(entry.ca_roots.len(), 2);
        // Given roots replace the platform's unless both are asked for.
        assert!(!entry.use_platform_roots && !entry.use_webpki_roots);
    }

    #[test]
    fn mistakes_are_located_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ca.pem", CERT);
        write(dir.path(), "empty.pem", "not a certificate\n");
        let head = "[[client_tls]]\ncomponent_ids = [\"api\"]\n";
        let cases: &[(&str, usize, &str, &str)] = &[
            (
                "[[client_tls]]\nhosts = [\"x\"]\n",
                1,
                "`[[client_tls]]` has no `component_ids`",
                "add `component_ids = [\"my-component\"]`",
            ),
            (
                "[[client_tls]]\ncomponent_ids = []\nhosts = [\"x\"]\n",
                2,
                "`component_ids` in `[[client_tls]]` is empty",
                "name at least one",
            ),
            (
                &format!("{head}hosts = [\"api.example.com:8443\"]\n"),
                3,
                "`api.example.com:8443` is not a host for `[[client_tls]]`: ports are not supported",
                "without scheme, port or wildcard",
            ),
            (
                &format!("{head}hosts = [\"*.example.com\"]\n"),
                3,
                "wildcards are not supported",
                "name each host",
            ),
            (
                &format!("{head}hosts = [\"https://x\"]\n"),
                3,
                "it has a scheme",
                "hint:",
            ),
            (
                &format!("{head}hosts = [\"x\"]\nca_roots_file = \"missing.pem\"\n"),
                4,
                "cannot use `",
                "relative to the runtime config file's directory",
            ),
            (
                &format!("{head}hosts = [\"x\"]\nca_roots_file = \"/dev/zero\"\n"),
                4,
                "it is not a regular file",
                "hint:",
            ),
            (
                &format!("{head}hosts = [\"x\"]\nca_roots_file = \"empty.pem\"\n"),
                4,
                "it holds no PEM certificate",
                "hint:",
            ),
            (
                &format!("{head}hosts = [\"x\"]\nclient_cert_file = \"ca.pem\"\n"),
                4,
                "`client_cert_file` is given without `client_private_key_file`",
                "mutual TLS needs both",
            ),
            (
                &format!(
                    "{head}hosts = [\"x\"]\nclient_cert_file = \"ca.pem\"\nclient_private_key_file = \"ca.pem\"\n"
                ),
                5,
                "cannot use `",
                "PRIVATE KEY",
            ),
            (
                &format!("{head}hosts = [\"x\"]\nca_use_platform_roots = false\n"),
                4,
                "trusts no certificate authority",
                "set `ca_roots_file`",
            ),
            (
                &format!("{head}hosts = [\"x\"]\nca_file = \"ca.pem\"\n"),
                4,
                "unknown key `ca_file`",
                "`ca_roots_file`",
            ),
            (
                &format!("{head}hosts = \"x\"\n"),
                3,
                "`hosts` in `[[client_tls]]` must be an array of strings",
                "hint:",
            ),
        ];
        for (text, line, message, hint) in cases {
            let err = parse_in(dir.path(), text).expect_err(text);
            let shown = err.to_string();
            assert_eq!(err.line(), Some(*line), "{text}\n{shown}");
            assert!(shown.contains(message), "{text}\n{shown}");
            let hint_line = shown.lines().last().unwrap();
            assert!(hint_line.starts_with("hint: "), "{shown}");
            assert!(hint_line.contains(hint), "{text}\n{shown}");
        }
        // Through the shared helper, with the file name of the test's own parse.
        let err = parse_err("[[client_tls]]\ncomponent_ids = [\"a\"]\nhosts = [1]\n");
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }), "{err}");
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ca.pem", CERT);
        write(
            dir.path(),
            "key.pem",
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n",
        );
        let config = parse_in(
            dir.path(),
            "[[client_tls]]\ncomponent_ids = [\"a\"]\nhosts = [\"x\"]\nclient_cert_file = \"ca.pem\"\nclient_private_key_file = \"key.pem\"\n",
        )
        .unwrap();
        let shown = format!("{config:?}");
        assert!(shown.contains("ClientCert"), "{shown}");
        // "secret-key-bytes", as text, decimal bytes or hex.
        for secret in ["secret", "115, 101, 99, 114", "73656372"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(config.clone(), config);
    }
}
