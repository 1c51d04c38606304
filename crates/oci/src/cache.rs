//! The local, content-addressed store of pulled blobs.
//!
//! `<root>/blobs/sha256/<hex>` holds every blob once, whichever app or
//! version it came with; a blob is written to a temporary file, checked
//! against its digest and only then renamed into place, so a file under
//! `blobs/` always holds exactly the content its name says. The directory
//! is private to the user (0700, files 0600): its files are run as code.
//! `<root>/apps/<hex>/` holds, per pulled image manifest, the manifest the
//! app runs from (see [`crate::run`]).

use anyhow::{Context as _, Result, bail};
use sha2::{Digest as _, Sha256};
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};

use spin_runtime::private_files::{ensure_private_dir, write_private};

/// The registry cache.
#[derive(Debug, Clone)]
pub struct RegistryCache {
    root: PathBuf,
}

impl RegistryCache {
    /// The cache at `root` (created on first write). A relative `root` is
    /// taken from the current directory now, since the paths the cache
    /// hands out end up in manifests read from other directories.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Self {
            root: std::path::absolute(&root).unwrap_or(root),
        }
    }

    /// The user's cache: `--cache-dir` when given, else
    /// `$XDG_CACHE_HOME/spin/oci` (`~/.cache/spin/oci`).
    pub fn user(flag: Option<&Path>) -> Result<Self> {
        match flag {
            Some(dir) => Ok(Self::new(dir)),
            None => {
                let dir = dirs::cache_dir()
                    .context("this user has no cache directory; pass `--cache-dir`")?;
                Ok(Self::new(dir.join("spin").join("oci")))
            }
        }
    }

    /// The cache's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with `digest` is (or would be) kept.
    pub fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        let hex = digest_hex(digest)?;
        Ok(self.root.join("blobs").join("sha256").join(hex))
    }

    /// Whether the blob with `digest` is present.
    pub fn has_blob(&self, digest: &str) -> bool {
        self.blob_path(digest).is_ok_and(|p| p.is_file())
    }

    /// Keeps `bytes` as the blob `digest`, after checking they are it.
    pub fn write_blob(&self, digest: &str, bytes: &[u8]) -> Result<PathBuf> {
        let actual = crate::sha256_digest(bytes);
        if actual != digest {
            return Err(spin_hint::Hinted::new(
                format!("a blob expected to be {digest} is {actual}; it was not kept"),
                "the registry or something between it and you altered the artifact; push it again and check where it is served from",
            )
            .into());
        }
        let path = self.blob_path(digest)?;
        let dir = path.parent().expect("blob paths have a parent");
        self.private_dirs(dir)?;
        write_private(&path, bytes).with_context(|| format!("writing `{}`", path.display()))?;
        Ok(path)
    }

    /// Creates `dir` and the directories from the root down to it, each
    /// private to the user.
    pub(crate) fn private_dirs(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
        let mut here = Some(dir);
        while let Some(d) = here {
            ensure_private_dir(d)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!(
                        "the cache directory `{}` is not private to this user",
                        d.display()
                    )
                })?;
            if d == self.root {
                break;
            }
            here = d.parent().filter(|p| p.starts_with(&self.root));
        }
        Ok(())
    }

    /// Streams `reader` (at most `max_bytes` of it) into a private
    /// temporary file beside the blobs, hashing it on the way; the caller
    /// then keeps it under its digest ([`IncomingBlob::keep`]) or drops
    /// it. Memory stays small whatever the size.
    pub(crate) fn stream_in(
        &self,
        reader: &mut impl Read,
        max_bytes: u64,
    ) -> Result<IncomingBlob, StreamError> {
        let mut writer = self.blob_writer(max_bytes).map_err(StreamError::Write)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StreamError::Read(e)),
            };
            writer.write(&buf[..n])?;
        }
        Ok(writer.finish())
    }

    /// A private temporary file beside the blobs that takes at most
    /// `max_bytes`, hashing them, for a blob that arrives in pieces.
    pub(crate) fn blob_writer(&self, max_bytes: u64) -> Result<BlobWriter> {
        let dir = self.root.join("blobs").join("sha256");
        self.private_dirs(&dir)?;
        remove_abandoned(&dir);
        // Created private (0600) beside the blobs, so the rename that
        // keeps it stays on one file system.
        let file = tempfile::Builder::new()
            .prefix(INCOMING_PREFIX)
            .tempfile_in(&dir)
            .context("writing into the registry cache")?;
        Ok(BlobWriter {
            file,
            hasher: Sha256::new(),
            total: 0,
            max_bytes,
        })
    }

    /// The directory an image's runnable form is kept in.
    pub fn app_dir(&self, manifest_digest: &str) -> Result<PathBuf> {
        Ok(self.root.join("apps").join(digest_hex(manifest_digest)?))
    }
}

/// A blob being written into the cache's directory, piece by piece
/// (removed when dropped unfinished).
pub(crate) struct BlobWriter {
    file: tempfile::NamedTempFile,
    hasher: Sha256,
    total: u64,
    max_bytes: u64,
}

impl BlobWriter {
    /// Appends `piece`; refused past the writer's most.
    pub(crate) fn write(&mut self, piece: &[u8]) -> Result<(), StreamError> {
        self.total += piece.len() as u64;
        if self.total > self.max_bytes {
            return Err(StreamError::TooLarge);
        }
        self.hasher.update(piece);
        self.file
            .write_all(piece)
            .map_err(|e| StreamError::Write(e.into()))
    }

    /// The blob written, with its digest.
    pub(crate) fn finish(self) -> IncomingBlob {
        IncomingBlob {
            file: self.file,
            digest: format!("sha256:{}", hex::encode(self.hasher.finalize())),
        }
    }
}

/// A blob streamed into the cache's directory and hashed, not yet kept
/// under its name (removed when dropped).
pub(crate) struct IncomingBlob {
    file: tempfile::NamedTempFile,
    /// `sha256:<hex>` of its bytes.
    pub(crate) digest: String,
}

impl IncomingBlob {
    /// Keeps it in `cache` under its digest, on disk first: a blob is
    /// trusted by its name from then on, and a crash must not leave a
    /// short one behind it.
    pub(crate) fn keep(self, cache: &RegistryCache) -> Result<PathBuf> {
        let path = cache.blob_path(&self.digest)?;
        self.file
            .as_file()
            .sync_all()
            .context("writing into the registry cache")?;
        self.file
            .persist(&path)
            .map_err(|e| e.error)
            .context("writing into the registry cache")?;
        Ok(path)
    }
}

/// Why [`RegistryCache::stream_in`] stopped.
#[derive(Debug)]
pub(crate) enum StreamError {
    /// Reading the source failed.
    Read(std::io::Error),
    /// The source held more than allowed.
    TooLarge,
    /// The cache could not take it.
    Write(anyhow::Error),
}

/// How a blob being streamed in is named in the blob directory.
const INCOMING_PREFIX: &str = ".incoming-";
/// A file being streamed in older than this was left by a `spin` that was
/// killed (a finished or failed one removes its own).
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Removes from `dir` the files of runs killed while streaming a blob in.
fn remove_abandoned(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let abandoned = entry
            .file_name()
            .to_string_lossy()
            .starts_with(INCOMING_PREFIX)
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > ABANDONED_AFTER));
        if abandoned {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The hex of a `sha256:<hex>` digest, checked: it names a file, so nothing
/// but 64 lowercase hex digits may pass.
pub(crate) fn digest_hex(digest: &str) -> Result<&str> {
    match digest.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            Ok(hex)
        }
        _ => bail!("`{digest}` is not a sha256 digest (`sha256:` and 64 lowercase hex digits)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sha256_hex_digests_name_files() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert!(digest_hex(&good).is_ok());
        for bad in [
            "sha256:../../etc/passwd".to_string(),
            format!("sha512:{}", "a".repeat(64)),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}/x", "a".repeat(62)),
        ] {
            assert!(digest_hex(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_blob_written_in_pieces_stops_at_its_most_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RegistryCache::new(dir.path().join("oci"));
        let mut writer = cache.blob_writer(4).unwrap();
        writer.write(b"ab").unwrap();
        writer.write(b"cd").unwrap();
        assert!(matches!(writer.write(b"e"), Err(StreamError::TooLarge)));
        drop(writer);
        let blobs = dir.path().join("oci/blobs/sha256");
        assert_eq!(std::fs::read_dir(&blobs).unwrap().count(), 0);

        let mut writer = cache.blob_writer(5).unwrap();
        writer.write(b"hel").unwrap();
        writer.write(b"lo").unwrap();
        let incoming = writer.finish();
        assert_eq!(incoming.digest, crate::sha256_digest(b"hello"));
        let path = incoming.keep(&cache).unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"hello");
    }

    #[test]
    fn a_blob_is_kept_only_when_it_matches_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RegistryCache::new(dir.path().join("oci"));
        let digest = crate::sha256_digest(b"hello");
        assert!(cache.write_blob(&digest, b"hellO").is_err());
        assert!(!cache.has_blob(&digest));
        let path = cache.write_blob(&digest, b"hello").unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"hello");
        assert!(cache.has_blob(&digest));
    }
}
