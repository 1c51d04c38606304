//! Spin's archive layers: past 500 layers (or with `SPIN_OCI_ARCHIVE_LAYERS`
//! set), Spin pushes each component's files as one gzipped tar
//! (`application/vnd.wasm.content.bundle.v1.tar+gzip`) instead of a layer
//! per file, while the locked app still names every file by its digest.
//! A pull unpacks such a layer into the cache's blobs, each file kept under
//! the digest of its bytes, as Spin's own pull does.
//!
//! The archive comes from a registry: nothing of it is written at the paths
//! it names (only regular files are read, and only their bytes count; the
//! names are not even parsed), only files the locked app asks for are kept,
//! it may unpack to at most [`MAX_UNPACKED_BYTES`], and each entry streams
//! into the cache (`RegistryCache::stream_in`), so memory stays small
//! whatever the archive holds.

use std::collections::HashSet;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::RegistryCache;
use crate::cache::StreamError;

/// The media type of an archive layer.
pub const ARCHIVE_MEDIA_TYPE: &str = "application/vnd.wasm.content.bundle.v1.tar+gzip";

/// The most bytes one archive layer may unpack to: a few megabytes of
/// gzip can expand to any size.
pub const MAX_UNPACKED_BYTES: u64 = 4 << 30;

/// Keeps in `cache` each regular file of the archive at `archive` whose
/// digest is in `wanted` (and not cached yet); returns how many it kept.
pub(crate) fn unpack_wanted(
    cache: &RegistryCache,
    archive: &Path,
    wanted: &HashSet<String>,
    max_unpacked: u64,
) -> Result<usize> {
    let file =
        std::fs::File::open(archive).with_context(|| format!("opening `{}`", archive.display()))?;
    let unpacked = Bounded {
        inner: flate2::read::GzDecoder::new(BufReader::new(file)),
        left: max_unpacked,
        cap: max_unpacked,
    };
    let mut tar = tar::Archive::new(unpacked);
    let mut kept = 0;
    // Raw: long-name and pax entries are not read whole into memory (names
    // are not used).
    let entries = tar.entries().context("reading an archive layer")?.raw(true);
    for entry in entries {
        let mut entry = entry.context("reading an archive layer")?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        // The archive's own cap bounds every entry.
        let incoming = cache.stream_in(&mut entry, u64::MAX).map_err(|e| match e {
            StreamError::Read(e) => anyhow::Error::from(e).context("reading an archive layer"),
            StreamError::TooLarge => anyhow::anyhow!("an archive entry is too large"),
            StreamError::Write(e) => e.context("writing into the registry cache"),
        })?;
        if wanted.contains(&incoming.digest) && !cache.has_blob(&incoming.digest) {
            incoming.keep(cache)?;
            kept += 1;
        }
    }
    Ok(kept)
}

/// A reader that fails once more than `cap` bytes have come through.
struct Bounded<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::other(format!(
                "the archive layer unpacks to more than {} MiB",
                self.cap >> 20
            ))
        })?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A gzipped tar of `files` (path, bytes), with a link and a directory
    /// among them.
    fn archive(dir: &Path, files: &[(&str, &[u8])]) -> std::path::PathBuf {
        let path = dir.join("files.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        let mut tar = tar::Builder::new(gz);
        for (name, bytes) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, *bytes).unwrap();
        }
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        tar.append_link(&mut link, "escape", "/etc/passwd").unwrap();
        tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
        path
    }

    #[test]
    fn only_wanted_regular_files_are_kept_by_their_digest() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RegistryCache::new(dir.path().join("oci"));
        let path = archive(
            dir.path(),
            &[("./a.txt", b"wanted"), ("nested/b.txt", b"not wanted")],
        );
        let wanted: HashSet<String> = [crate::sha256_digest(b"wanted")].into();
        assert_eq!(unpack_wanted(&cache, &path, &wanted, 1 << 20).unwrap(), 1);
        assert!(cache.has_blob(&crate::sha256_digest(b"wanted")));
        assert!(!cache.has_blob(&crate::sha256_digest(b"not wanted")));
        // Only the wanted file is left in the cache (no temporary files).
        let blobs = cache.root().join("blobs/sha256");
        assert_eq!(std::fs::read_dir(blobs).unwrap().count(), 1);
        // Kept once.
        assert_eq!(unpack_wanted(&cache, &path, &wanted, 1 << 20).unwrap(), 0);
    }

    #[test]
    fn an_archive_unpacking_past_its_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RegistryCache::new(dir.path().join("oci"));
        let big = vec![0u8; 3 << 20];
        let path = archive(dir.path(), &[("zeros", &big)]);
        let wanted: HashSet<String> = [crate::sha256_digest(&big)].into();
        let err = unpack_wanted(&cache, &path, &wanted, 2 << 20).unwrap_err();
        assert!(format!("{err:#}").contains("more than 2 MiB"), "{err:#}");
        assert!(
            format!("{err:#}").contains("unpacks to more than"),
            "{err:#}"
        );
        assert!(!cache.has_blob(&crate::sha256_digest(&big)));
    }
}
