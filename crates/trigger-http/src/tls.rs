//! HTTPS serving (`spin up --tls-cert --tls-key`): the certificate chain and
//! key are read and checked before the port is bound, so a bad file is a
//! startup error that names it, never a failure at the first client.

use anyhow::{Context as _, Result, anyhow};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// A TLS server configuration from PEM files: `cert` holds the certificate
/// chain (leaf first), `key` its private key (PKCS#8, PKCS#1 or SEC1).
/// Clients may speak HTTP/2 or HTTP/1.1 (ALPN).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let hint = "hint: pass a PEM certificate chain with `--tls-cert` and its PEM private key with `--tls-key` (e.g. from `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out cert.pem -subj /CN=localhost`)";
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            anyhow!(
                "cannot read the TLS certificate `{}`: {e}\n\n{hint}",
                cert.display()
            )
        })?;
    if certs.is_empty() {
        return Err(anyhow!(
            "`{}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)\n\n{hint}",
            cert.display()
        ));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        anyhow!(
            "cannot read the TLS private key `{}`: {e}\n\n{hint}",
            key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?
        .with_no_client_auth()
        .with_single_cert(certs, private_key)
        .map_err(|e| {
            spin_hint::Hinted::new(
                format!(
                    "the TLS key `{}` cannot be used with the certificate `{}`: {e}",
                    key.display(),
                    cert.display()
                ),
                "check that the key is the one the certificate was issued for",
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
