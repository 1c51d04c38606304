//! TLS to PostgreSQL, as libpq's `sslmode` asks (the SDKs pass libpq
//! connection strings, and a URL's `?sslmode=` means the same):
//!
//! | `sslmode` | TLS | certificate checked |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default) | if the server offers it | no |
//! | `require` | always | no |
//! | `verify-ca` | always | chain to a trusted root |
//! | `verify-full` | always | chain, and the host name |
//!
//! As in libpq, `prefer` and `require` encrypt without checking who
//! answers (they stop eavesdropping, not impersonation); `verify-full` is
//! the mode for a server across a network. Trusted roots are the webpki
//! roots and the platform's, plus the PEM certificate a `spin:postgres@4.2`
//! connection builder was given (`set-ca-root`), which also makes the
//! connection verified (`verify-full` unless `verify-ca` was asked). A guest
//! cannot name a root file (`sslrootcert`): that would let it have the host
//! read a path of its choosing.

use std::sync::Arc;

use crate::tls::{Checks, Lenient, client_config_with};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::CertificateDer;
use tokio_postgres::config::SslMode as Negotiation;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, unverified.
    #[default]
    Prefer,
    /// TLS, unverified.
    Require,
    /// TLS, the certificate's chain verified.
    VerifyCa,
    /// TLS, the chain and the host name verified.
    VerifyFull,
}

/// The `sslmode` values, for messages.
pub(crate) const SSL_MODES: &str = "disable, prefer, require, verify-ca or verify-full";

impl SslMode {
    /// An `sslmode` value (`allow` is not offered: it would try plain text
    /// first).
    pub(crate) fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }

    /// Whether tokio-postgres asks the server for TLS, and must have it.
    pub(crate) fn negotiation(self) -> Negotiation {
        match self {
            Self::Disable => Negotiation::Disable,
            Self::Prefer => Negotiation::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => Negotiation::Require,
        }
    }

    /// The mode for a connection given its own CA root: verified.
    pub(crate) fn with_ca_root(self) -> Result<Self, String> {
        match self {
            Self::Disable => Err("sslmode=disable leaves no TLS for the CA root to verify".into()),
            Self::VerifyCa => Ok(Self::VerifyCa),
            Self::Prefer | Self::Require | Self::VerifyFull => Ok(Self::VerifyFull),
        }
    }

    /// What makes a verified TLS connection that also trusts the
    /// certificates in `pem` (a builder's CA root).
    pub(crate) fn connector_trusting(self, pem: &str) -> Result<MakeRustlsConnect, String> {
        use rustls::pki_types::pem::PemObject as _;
        let mut roots = (*crate::tls::trusted_roots()).clone();
        let mut added = 0;
        for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let certificate =
                certificate.map_err(|e| format!("the CA root is not a PEM certificate: {e}"))?;
            roots
                .add(certificate)
                .map_err(|e| format!("the CA root cannot be trusted: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err(
                "the CA root holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".into(),
            );
        }
        let full =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), crate::tls::provider())
                .build()
                .map_err(|e| format!("the CA root cannot be used: {e}"))?;
        let verifier: Arc<dyn ServerCertVerifier> = match self {
            Self::VerifyCa => Arc::new(Lenient {
                standard: full,
                chain: true,
            }),
            _ => full,
        };
        Ok(MakeRustlsConnect::new(client_config_with(verifier)))
    }

    /// What to do when the TLS handshake failed in this mode.
    pub(crate) fn failure_hint(self) -> &'static str {
        match self {
            Self::VerifyFull => {
                "`sslmode=verify-full` needs a certificate that chains to a trusted root (the webpki roots, the machine's, or a connection builder's `set-ca-root`) and names the host: connect by the name it is for, or check the chain only with `sslmode=verify-ca`"
            }
            Self::VerifyCa => {
                "`sslmode=verify-ca` needs a certificate that chains to a trusted root: add the server's CA to the machine's roots, or pass it to a connection builder's `set-ca-root`"
            }
            Self::Disable | Self::Prefer | Self::Require => {
                "the server's TLS could not be negotiated with this host (rustls: TLS 1.2 or 1.3); `sslmode=disable` connects without TLS"
            }
        }
    }

    /// What makes the TLS connection (unused under `disable`).
    pub(crate) fn connector(self) -> MakeRustlsConnect {
        let checks = match self {
            Self::Disable | Self::Prefer | Self::Require => Checks::None,
            Self::VerifyCa => Checks::Chain,
            Self::VerifyFull => Checks::ChainAndName,
        };
        MakeRustlsConnect::new((*crate::tls::client_config(checks)).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_libpq_mode_but_allow_is_read() {
        for (text, mode, negotiation) in [
            ("disable", SslMode::Disable, Negotiation::Disable),
            ("prefer", SslMode::Prefer, Negotiation::Prefer),
            ("require", SslMode::Require, Negotiation::Require),
            ("verify-ca", SslMode::VerifyCa, Negotiation::Require),
            ("verify-full", SslMode::VerifyFull, Negotiation::Require),
        ] {
            assert_eq!(SslMode::parse(text), Some(mode));
            assert_eq!(mode.negotiation(), negotiation);
        }
        assert_eq!(SslMode::parse("allow"), None);
        assert_eq!(SslMode::parse("VERIFY-FULL"), None);
        assert_eq!(SslMode::default(), SslMode::Prefer);
    }

    #[test]
    fn a_ca_root_makes_the_connection_verified() {
        assert_eq!(SslMode::Prefer.with_ca_root(), Ok(SslMode::VerifyFull));
        assert_eq!(SslMode::Require.with_ca_root(), Ok(SslMode::VerifyFull));
        assert_eq!(SslMode::VerifyCa.with_ca_root(), Ok(SslMode::VerifyCa));
        assert!(SslMode::Disable.with_ca_root().is_err());
        for pem in [
            "",
            "not a certificate",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            assert!(
                SslMode::VerifyFull.connector_trusting(pem).is_err(),
                "{pem:?}"
            );
        }
    }
}
