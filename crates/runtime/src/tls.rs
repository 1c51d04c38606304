//! The certificates outbound TLS trusts: the webpki roots and the
//! platform's (`SSL_CERT_FILE`/`SSL_CERT_DIR` included), loaded once — the
//! platform's are read from files; and the client configurations the
//! database and broker clients share, by how much of the server's
//! certificate they check.

use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// The roots every verified outbound TLS connection (HTTPS, PostgreSQL with
/// `sslmode=verify-ca`/`verify-full`) trusts.
pub(crate) fn trusted_roots() -> Arc<rustls::RootCertStore> {
    static ROOTS: OnceLock<Arc<rustls::RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let (added, ignored) =
                roots.add_parsable_certificates(platform_certs().iter().cloned());
            tracing::debug!("trusting {added} platform certificates ({ignored} unusable)");
            Arc::new(roots)
        })
        .clone()
}

/// The platform's root certificates, read once (for clients that take
/// certificates rather than a root store: MySQL's).
pub(crate) fn platform_certs() -> Arc<Vec<rustls::pki_types::CertificateDer<'static>>> {
    static CERTS: OnceLock<Arc<Vec<rustls::pki_types::CertificateDer<'static>>>> = OnceLock::new();
    CERTS
        .get_or_init(|| {
            let native = rustls_native_certs::load_native_certs();
            for error in &native.errors {
                tracing::debug!("skipping a platform certificate: {error}");
            }
            // Only those rustls can use: a client that adds every one (as
            // MySQL's does) fails at the first it cannot.
            let usable = native
                .certs
                .into_iter()
                .filter(|cert| rustls::RootCertStore::empty().add(cert.clone()).is_ok())
                .collect();
            Arc::new(usable)
        })
        .clone()
}

/// The cryptography every outbound TLS connection uses.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// How much of the server's certificate a connection checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Checks {
    /// Nothing but the handshake's signatures (libpq's `prefer` and
    /// `require`, a Redis URL's `#insecure`): encrypted, not authenticated.
    None,
    /// The chain to a trusted root, not the name (`verify-ca`).
    Chain,
    /// The chain and the host name: what TLS is for.
    ChainAndName,
}

/// The client configuration for `checks`, made once.
pub(crate) fn client_config(checks: Checks) -> Arc<rustls::ClientConfig> {
    static NONE: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    static CHAIN: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    static FULL: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    let lenient = |chain| {
        Arc::new(client_config_with(Arc::new(Lenient {
            standard: webpki(),
            chain,
        })))
    };
    match checks {
        Checks::None => NONE.get_or_init(|| lenient(false)),
        Checks::Chain => CHAIN.get_or_init(|| lenient(true)),
        Checks::ChainAndName => FULL.get_or_init(|| Arc::new(client_config_with(webpki()))),
    }
    .clone()
}

/// A client configuration that verifies with `verifier`.
pub(crate) fn client_config_with(verifier: Arc<dyn ServerCertVerifier>) -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth()
}

/// The standard verifier: the chain to a trusted root, then the name.
fn webpki() -> Arc<WebPkiServerVerifier> {
    WebPkiServerVerifier::builder_with_provider(crate::tls::trusted_roots(), crate::tls::provider())
        .build()
        .expect("the trusted roots are not empty")
}

/// [`Checks::None`] and [`Checks::Chain`]: the standard verifier with
/// fewer checks. The handshake's signatures are always checked against the
/// server's certificate.
#[derive(Debug)]
pub(crate) struct Lenient {
    /// The verifier whose checks are relaxed.
    pub(crate) standard: Arc<WebPkiServerVerifier>,
    /// Whether the chain must lead to a trusted root (`verify-ca`); the
    /// name is never checked.
    pub(crate) chain: bool,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.chain {
            // Any certificate, as libpq's `prefer` and `require`.
            return Ok(ServerCertVerified::assertion());
        }
        // The name is checked after the chain was verified: a name error
        // means the chain is good.
        match self.standard.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.standard.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.standard.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.standard.supported_verify_schemes()
    }
}
