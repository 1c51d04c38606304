//! Component sources given as a URL and a digest (`source = { url = "…",
//! digest = "sha256:…" }`), as Spin takes them: each is downloaded once into
//! the registry cache's content-addressed blobs, kept only when its bytes
//! match the digest, and from then on used like a local file. An app whose
//! URL sources are all cached starts without the network.
//!
//! The download streams into the cache (`RegistryCache::stream_in`: a
//! private temporary file beside the blobs, hashed on the way), so a file
//! too large or not matching leaves nothing behind (a blob under `blobs/`
//! always holds what its name says).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result};
use spin_manifest::{App, ComponentSource};

use crate::cache::StreamError;
use crate::{DownloadLimits, RegistryCache};

/// How long connecting to the server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one download may take in all.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Replaces each URL source of `app` by the cached file holding it,
/// downloading those not cached yet (with a line on stderr for each), in
/// the registry cache at `cache_dir` (the user's by default), each of at
/// most `limits.max_download_bytes`.
pub async fn resolve(
    app: &mut App,
    cache_dir: Option<&Path>,
    limits: DownloadLimits,
) -> Result<()> {
    let remote =
        |c: &spin_manifest::Component| matches!(c.source.value, ComponentSource::Remote { .. });
    if !app.components.iter().any(remote) {
        return Ok(());
    }
    let cache = RegistryCache::user(cache_dir)?;
    for index in 0..app.components.len() {
        let component = &app.components[index];
        let ComponentSource::Remote { url, digest } = &component.source.value else {
            continue;
        };
        let location = component.source.location;
        let (url, digest) = (url.clone(), digest.clone());
        let path = cache.blob_path(&digest).map_err(|e| {
            app.error_at(location, "digest", format!("{e:#}"))
                .with_hint(
                    "a digest is `sha256:` and the 64 lowercase hex digits of the file's SHA-256",
                )
        })?;
        if !path.is_file() {
            eprintln!(
                "Downloading component `{}` from {url}...",
                app.components[index].id
            );
            let fetched = {
                let (cache, url, digest) = (cache.clone(), url.clone(), digest.clone());
                tokio::task::spawn_blocking(move || {
                    download(&url, &digest, &cache, limits.max_download_bytes)
                })
                .await
                .context("the download stopped unexpectedly")?
            };
            if let Err(failure) = fetched {
                let (message, hint) = failure.explained(&url, &digest, limits);
                let component = &app.components[index].id;
                return Err(app
                    .error_at(
                        location,
                        "source",
                        format!("component `{component}`: {message}"),
                    )
                    .with_hint(hint)
                    .into());
            }
        }
        app.components[index].source.value = ComponentSource::Local(path);
    }
    Ok(())
}

/// Why a download was not kept.
#[derive(Debug)]
enum Failure {
    /// The request failed (connection, TLS, HTTP status, timeout).
    Request(String),
    /// The bytes were not those of the digest.
    Mismatch(String),
    /// The server sent more than the most allowed
    /// ([`DownloadLimits::max_download_bytes`]).
    TooLarge,
    /// The cache could not hold it.
    Cache(anyhow::Error),
}

impl Failure {
    /// The message and the hint for a download of `url` expected to be
    /// `digest`, under `limits`.
    fn explained(self, url: &str, digest: &str, limits: DownloadLimits) -> (String, String) {
        match self {
            Failure::Request(e) => (
                format!("cannot download its source from `{url}`: {e}"),
                "check the URL, and that this machine reaches it (once downloaded, a source is kept in the registry cache, `--cache-dir`)".to_owned(),
            ),
            Failure::Mismatch(actual) => (
                format!("the file at `{url}` is {actual}, not {digest} as `digest` says; it was not kept"),
                "if the file changed on purpose, set `digest` to its new value; otherwise something between you and the server altered it".to_owned(),
            ),
            Failure::TooLarge => (
                format!(
                    "the file at `{url}` is larger than {}, the most one download may be; nothing of it was kept",
                    crate::human_size(limits.max_download_bytes)
                ),
                "check the URL names the component's `.wasm` file; if it is this large, raise `--max-download-size`".to_owned(),
            ),
            Failure::Cache(e) => (
                format!("cannot keep its source from `{url}` in the registry cache: {e:#}"),
                "check that the cache directory (`--cache-dir`, default `~/.cache/spin/oci`) is writable".to_owned(),
            ),
        }
    }
}

/// Downloads `url` into `cache` as the blob `digest`, if its bytes are it
/// and there are at most `max_bytes` of them.
fn download(
    url: &str,
    digest: &str,
    cache: &RegistryCache,
    max_bytes: u64,
) -> Result<PathBuf, Failure> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Failure::Request(
            "only http:// and https:// URLs can be downloaded".to_owned(),
        ));
    }
    // Checked before anything is fetched: it names the file.
    cache.blob_path(digest).map_err(Failure::Cache)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(DOWNLOAD_TIMEOUT))
        .build()
        .into();
    let response = agent
        .get(url)
        .call()
        .map_err(|e| Failure::Request(e.to_string()))?;
    let mut body = response.into_body().into_reader();
    let incoming = cache.stream_in(&mut body, max_bytes).map_err(|e| match e {
        StreamError::Read(e) => Failure::Request(e.to_string()),
        StreamError::TooLarge => Failure::TooLarge,
        StreamError::Write(e) => Failure::Cache(e),
    })?;
    if incoming.digest != digest {
        return Err(Failure::Mismatch(incoming.digest));
    }
    incoming.keep(cache).map_err(Failure::Cache)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A loopback server answering every request `200` with `body`.
    fn serving(body: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{addr}/app.wasm")
    }

    fn blobs(cache: &RegistryCache) -> usize {
        let dir = cache.root().join("blobs/sha256");
        std::fs::read_dir(dir).map_or(0, |d| d.count())
    }

    #[test]
    fn a_download_is_kept_only_when_it_matches_and_fits() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RegistryCache::new(dir.path().join("oci"));
        let body = b"\0asm not quite a component".repeat(40);
        let url = serving(body.clone());
        let digest = crate::sha256_digest(&body);

        let other = crate::sha256_digest(b"something else");
        let err = download(&url, &other, &cache, 1 << 20).unwrap_err();
        assert!(
            matches!(&err, Failure::Mismatch(actual) if *actual == digest),
            "{err:?}"
        );
        let err = download(&url, &digest, &cache, body.len() as u64 - 1).unwrap_err();
        assert!(matches!(err, Failure::TooLarge), "{err:?}");
        assert_eq!(blobs(&cache), 0, "nothing is left of a download not kept");

        let path = download(&url, &digest, &cache, body.len() as u64).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), body);
        // Run as code: private to the user, as the directories above it.
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(cache.root()), 0o700);
        assert!(cache.has_blob(&digest));
        assert_eq!(blobs(&cache), 1);
    }

    #[test]
    fn a_non_http_url_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RegistryCache::new(dir.path().join("oci"));
        let digest = crate::sha256_digest(b"x");
        let err = download("file:///etc/passwd", &digest, &cache, 1 << 20).unwrap_err();
        assert!(matches!(err, Failure::Request(_)), "{err:?}");
        assert!(!cache.has_blob(&digest));
    }
}
