//! The certificates outbound TLS trusts: the webpki roots and the
//! platform's (`SSL_CERT_FILE`/`SSL_CERT_DIR` included), loaded once — the
//! platform's are read from files.

use std::sync::{Arc, OnceLock};

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
