//! The TLS settings of outbound HTTPS: by default the webpki roots and the
//! platform's (`SSL_CERT_FILE`/`SSL_CERT_DIR` included); for a component and
//! host that a runtime config `[[client_tls]]` entry covers, that entry's
//! roots and client certificate (mutual TLS), as in Spin.

use anyhow::Result;
use spin_hint::Hinted;
use spin_runtime_config::{ClientTls, client_tls};
use std::sync::{Arc, OnceLock};

/// Every TLS configuration an application's requests may use: index 0 is
/// the default, index `i + 1` the `i`th `[[client_tls]]` entry.
#[derive(Default)]
pub(crate) struct TlsConfigs {
    entries: Vec<ClientTls>,
    /// One per entry.
    configs: Vec<Arc<rustls::ClientConfig>>,
}

impl TlsConfigs {
    /// Builds one TLS client configuration per entry; an entry whose roots
    /// or client certificate rustls cannot use is an error naming it.
    pub(crate) fn new(entries: &[ClientTls]) -> Result<Self> {
        Ok(Self {
            entries: entries.to_vec(),
            configs: entries.iter().map(entry_config).collect::<Result<_>>()?,
        })
    }

    /// How many configurations there are, the default included.
    pub(crate) fn len(&self) -> usize {
        self.configs.len() + 1
    }

    /// Which configuration `component`'s requests to `host` use.
    pub(crate) fn index(&self, component: &str, host: &str) -> usize {
        client_tls::position(&self.entries, component, host).map_or(0, |i| i + 1)
    }

    /// The configuration at `index`.
    pub(crate) fn config(&self, index: usize) -> Arc<rustls::ClientConfig> {
        match index.checked_sub(1) {
            None => default_config(),
            Some(i) => self.configs[i].clone(),
        }
    }

    /// The entry behind `index`, if it is not the default.
    pub(crate) fn entry(&self, index: usize) -> Option<&ClientTls> {
        self.entries.get(index.checked_sub(1)?)
    }
}

/// The TLS settings of requests no entry covers, built once.
pub(crate) fn default_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
                .with_safe_default_protocol_versions()
                .expect("ring supports the default TLS versions")
                .with_root_certificates(crate::tls::trusted_roots())
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// One entry's TLS settings.
fn entry_config(entry: &ClientTls) -> Result<Arc<rustls::ClientConfig>> {
    let origin = &entry.origin;
    let mut roots = rustls::RootCertStore::empty();
    if entry.use_webpki_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if entry.use_platform_roots {
        roots.add_parsable_certificates(crate::tls::platform_certs().iter().cloned());
    }
    for (n, root) in entry.ca_roots.iter().enumerate() {
        roots.add(root.clone()).map_err(|e| {
            Hinted::new(
                format!(
                    "the `[[client_tls]]` entry at {origin}: certificate {} of `ca_roots_file` cannot be trusted as a root: {e}",
                    n + 1
                ),
                "give `ca_roots_file` the PEM certificate(s) of the certificate authority that issued the server's certificate",
            )
        })?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots);
    let config = match &entry.client_cert {
        None => builder.with_no_client_auth(),
        Some(cert) => builder
            .with_client_auth_cert(cert.chain.clone(), cert.key())
            .map_err(|e| {
                Hinted::new(
                    format!(
                        "the `[[client_tls]]` entry at {origin}: the client certificate and key cannot be used: {e}"
                    ),
                    "check that `client_private_key_file` holds the key that `client_cert_file`'s certificate (its first) was issued for",
                )
            })?,
    };
    Ok(Arc::new(config))
}
