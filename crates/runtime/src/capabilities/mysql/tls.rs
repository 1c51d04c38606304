//! TLS to MySQL and MariaDB, as a connection URL's `ssl-mode` asks, with
//! the meanings MySQL's own clients give the modes (any case; `sslmode`
//! and `ssl_mode` are read too, as Spin reads `sslmode`):
//!
//! | `ssl-mode` | TLS | certificate checked |
//! |---|---|---|
//! | `DISABLED` (the default, as in Spin) | never | — |
//! | `PREFERRED` | if the server offers it | no |
//! | `REQUIRED` | always | no |
//! | `VERIFY_IDENTITY` | always | chain to a trusted root, and the host name |
//!
//! `PREFERRED` and `REQUIRED` stop eavesdropping, not impersonation;
//! `VERIFY_IDENTITY` is the mode for a server across a network. (Spin
//! verifies fully under every mode but `DISABLED`.) Trusted roots are the
//! webpki roots and the platform's. `VERIFY_CA` (the chain without the
//! name) is refused: mysql_async cannot tell a wrong name from other
//! failures with the rustls it is built with, so it would check the name
//! anyway.

use mysql_async::SslOpts;

/// The modes this host offers, for errors.
pub(super) const SSL_MODES: &str = "DISABLED, PREFERRED, REQUIRED or VERIFY_IDENTITY";

/// How a MySQL connection uses TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SslMode {
    /// Never.
    Disabled,
    /// When the server offers it, unverified.
    Preferred,
    /// Always, unverified.
    Required,
    /// Always, verified: chain and host name.
    VerifyIdentity,
}

/// Whether `key`, a connection URL's query key, names the TLS mode.
pub(super) fn is_ssl_mode_key(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "ssl-mode" | "sslmode" | "ssl_mode"
    )
}

impl SslMode {
    /// The mode `value` names, or why it cannot be used.
    pub(super) fn parse(key: &str, value: &str) -> Result<Self, String> {
        match value.to_ascii_uppercase().replace('-', "_").as_str() {
            "DISABLED" => Ok(Self::Disabled),
            "PREFERRED" => Ok(Self::Preferred),
            "REQUIRED" => Ok(Self::Required),
            "VERIFY_IDENTITY" => Ok(Self::VerifyIdentity),
            "VERIFY_CA" => Err(format!(
                "{key}={value} is not offered by this host (it cannot check a certificate's chain without its name)\n\nhint: use {key}=VERIFY_IDENTITY and connect by the name the certificate is for, or {key}=REQUIRED to encrypt without checking"
            )),
            _ => Err(format!(
                "{key}={value} is not a TLS mode this host offers: use {SSL_MODES}"
            )),
        }
    }

    /// What mysql_async connects with in this mode; `name` is the host the
    /// URL names (the certificate must be for it under `VERIFY_IDENTITY`,
    /// even when the connection goes to an address pinned for it).
    pub(super) fn ssl_opts(self, name: &str) -> Option<SslOpts> {
        let opts = SslOpts::default().with_danger_tls_hostname_override(Some(name.to_owned()));
        match self {
            Self::Disabled => None,
            Self::Preferred | Self::Required => Some(
                opts.with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true),
            ),
            Self::VerifyIdentity => {
                let platform = crate::tls::platform_certs();
                let roots = platform.iter().map(|cert| cert.to_vec().into()).collect();
                Some(opts.with_root_certs(roots))
            }
        }
    }

    /// What to do when connecting failed in this mode.
    fn hint(self) -> &'static str {
        match self {
            Self::VerifyIdentity => {
                "`ssl-mode=VERIFY_IDENTITY` needs a certificate that chains to a trusted root (the webpki roots or the machine's) and names the host: connect by the name it is for, or encrypt without checking with `ssl-mode=REQUIRED`"
            }
            Self::Required => {
                "`ssl-mode=REQUIRED` needs a server that offers TLS: enable it on the server, or use `ssl-mode=PREFERRED` (TLS when offered) or `DISABLED`"
            }
            Self::Disabled | Self::Preferred => {
                "check that the server is up, and the user, password and database"
            }
        }
    }
}

/// What to do when connecting in `mode` failed with `error`.
pub(super) fn failure_hint(mode: SslMode, error: &str) -> &'static str {
    if error.contains("UnsupportedCertVersion") {
        // rustls checks even an unverified certificate's signature, and
        // reads only X.509 v3 for it.
        "the server's certificate is X.509 v1 (as some servers generate for themselves), which this host's TLS cannot read even unverified: give the server a v3 certificate, or connect with `ssl-mode=DISABLED`"
    } else {
        mode.hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_read_in_any_case_and_spelling() {
        for (value, mode) in [
            ("disabled", SslMode::Disabled),
            ("PREFERRED", SslMode::Preferred),
            ("Required", SslMode::Required),
            ("verify-identity", SslMode::VerifyIdentity),
            ("VERIFY_IDENTITY", SslMode::VerifyIdentity),
        ] {
            assert_eq!(SslMode::parse("ssl-mode", value), Ok(mode), "{value}");
        }
        assert!(is_ssl_mode_key("sslMode") && is_ssl_mode_key("SSL-MODE"));
        assert!(!is_ssl_mode_key("ssl"));
    }

    #[test]
    fn unknown_and_unoffered_modes_say_what_to_use() {
        let err = SslMode::parse("ssl-mode", "VERIFY_CA").unwrap_err();
        assert!(err.contains("hint: use ssl-mode=VERIFY_IDENTITY"), "{err}");
        let err = SslMode::parse("sslmode", "sometimes").unwrap_err();
        assert!(err.ends_with(SSL_MODES), "{err}");
    }

    #[test]
    fn only_verify_identity_checks_the_certificate() {
        let unverified = SslMode::Required.ssl_opts("db.example").unwrap();
        assert!(unverified.accept_invalid_certs() && unverified.skip_domain_validation());
        let verified = SslMode::VerifyIdentity.ssl_opts("db.example").unwrap();
        assert!(!verified.accept_invalid_certs() && !verified.skip_domain_validation());
        assert_eq!(verified.tls_hostname_override(), Some("db.example"));
        assert!(SslMode::Disabled.ssl_opts("db.example").is_none());
    }
}
