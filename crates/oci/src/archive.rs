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
//! it may unpack to at most `--max-unpacked-size` (4 GiB by default), and each entry streams
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

/// Why an archive layer was not unpacked: it unpacks to more than its cap
/// (the bytes).
#[derive(Debug)]
pub struct UnpackedTooMuch(pub u64);

impl std::fmt::Display for UnpackedTooMuch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "it unpacks to more than {}, the most one archive layer may",
            crate::human_size(self.0)
        )
    }
}

impl std::error::Error for UnpackedTooMuch {}

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
        exceeded: false,
    };
    let mut tar = tar::Archive::new(unpacked);
    let kept = keep_wanted(&mut tar, cache, wanted);
    // Whatever error the cap surfaced as (a short entry, a broken header),
    // it is reported as the cap.
    if tar.into_inner().exceeded {
        return Err(UnpackedTooMuch(max_unpacked).into());
    }
    kept
}

/// The loop of [`unpack_wanted`].
fn keep_wanted<R: Read>(
    tar: &mut tar::Archive<R>,
    cache: &RegistryCache,
    wanted: &HashSet<String>,
) -> Result<usize> {
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

/// A gzipped tar of `files` (each a path relative to the component's root
/// and its bytes), as a push makes an archive layer of them. Nothing of the
/// host is recorded (no times, owners or modes of its own), so the same
/// files make the same layer, and a registry that has it skips the upload.
pub(crate) fn pack<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        // Paths longer than a tar header holds go in a GNU long-name entry.
        tar.append_data(&mut header, path, bytes)
            .with_context(|| format!("packing `{path}` into an archive layer"))?;
    }
    let gz = tar.into_inner().context("finishing an archive layer")?;
    gz.finish().context("finishing an archive layer")
}

/// A reader that fails, and says so in `exceeded`, once more than the
/// bytes it was given (`left`) have come through.
struct Bounded<R> {
    inner: R,
    left: u64,
    exceeded: bool,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => self.left = left,
            None => {
                self.exceeded = true;
                return Err(std::io::Error::other("the archive layer's cap was reached"));
            }
        }
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
    fn a_packed_archive_unpacks_to_its_files_and_is_the_same_each_time() {
        let long = format!("{}/deep.txt", "d".repeat(150));
        let files: Vec<(&str, &[u8])> = vec![("a.txt", b"first"), (&long, b"second")];
        let packed = pack(files.clone()).unwrap();
        assert_eq!(packed, pack(files).unwrap(), "deterministic");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("layer.tar.gz");
        std::fs::write(&path, &packed).unwrap();
        let cache = RegistryCache::new(dir.path().join("oci"));
        let wanted: HashSet<String> = [b"first".as_slice(), b"second"]
            .iter()
            .map(|b| crate::sha256_digest(b))
            .collect();
        assert_eq!(unpack_wanted(&cache, &path, &wanted, 1 << 20).unwrap(), 2);
        // The names too, as another tool would read them.
        let mut names = Vec::new();
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&packed[..]));
        for entry in tar.entries().unwrap() {
            names.push(entry.unwrap().path().unwrap().display().to_string());
        }
        assert_eq!(names, ["a.txt", long.as_str()]);
    }

    #[test]
    fn an_archive_unpacking_past_its_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RegistryCache::new(dir.path().join("oci"));
        let big = vec![0u8; 3 << 20];
        let path = archive(dir.path(), &[("zeros", &big)]);
        let wanted: HashSet<String> = [crate::sha256_digest(&big)].into();
        let err = unpack_wanted(&cache, &path, &wanted, 2 << 20).unwrap_err();
        assert!(err.downcast_ref::<UnpackedTooMuch>().is_some(), "{err:#}");
        assert!(
            format!("{err:#}").contains("unpacks to more than 2 MiB"),
            "{err:#}"
        );
        assert!(!cache.has_blob(&crate::sha256_digest(&big)));
    }
}
