//! Getting manifests and packages from `file://` and `http(s)://` URLs,
//! checking package digests and unpacking package archives.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::Error;
use crate::manifest::PluginManifest;

/// A URL's contents as a reader, or the local file a `file://` URL names.
enum Fetched {
    Local(PathBuf),
    Remote(Box<dyn Read + Send>),
}

fn open(url: &str) -> Result<Fetched, Error> {
    if let Some(path) = url.strip_prefix("file://") {
        let path = PathBuf::from(percent_decode(path));
        return if path.is_file() {
            Ok(Fetched::Local(path))
        } else {
            Err(Error::Download {
                url: url.to_owned(),
                message: format!("{} does not exist or is not a file", path.display()),
            })
        };
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::UnsupportedUrl(url.to_owned()));
    }
    let response = ureq::get(url).call().map_err(|e| Error::Download {
        url: url.to_owned(),
        message: e.to_string(),
    })?;
    Ok(Fetched::Remote(Box::new(
        response.into_body().into_reader(),
    )))
}

/// Reads a plugin manifest from a `file://` or `http(s)://` URL.
pub fn manifest_from_url(url: &str) -> Result<PluginManifest, Error> {
    let text = match open(url)? {
        Fetched::Local(path) => std::fs::read_to_string(&path).map_err(|e| e.to_string()),
        Fetched::Remote(mut reader) => {
            let mut text = String::new();
            reader
                .read_to_string(&mut text)
                .map(|_| text)
                .map_err(|e| e.to_string())
        }
    }
    .map_err(|message| Error::ManifestRead {
        location: url.to_owned(),
        message,
    })?;
    let manifest: PluginManifest =
        serde_json::from_str(&text).map_err(|error| Error::ManifestParse {
            location: url.to_owned(),
            error,
        })?;
    manifest.check_name()?;
    Ok(manifest)
}

/// Downloads (or locates) a package archive into `work_dir`, checks its
/// SHA-256 against `expected_sha256` and returns its path.
pub(crate) fn package(url: &str, expected_sha256: &str, work_dir: &Path) -> Result<PathBuf, Error> {
    let path = match open(url)? {
        Fetched::Local(path) => path,
        Fetched::Remote(mut reader) => {
            let path = work_dir.join("package.tar.gz");
            let mut file = std::fs::File::create(&path).map_err(|error| Error::Io {
                path: path.clone(),
                error,
            })?;
            std::io::copy(&mut reader, &mut file).map_err(|e| Error::Download {
                url: url.to_owned(),
                message: e.to_string(),
            })?;
            path
        }
    };
    let actual = sha256_of(&path)?;
    if actual.eq_ignore_ascii_case(expected_sha256.trim()) {
        Ok(path)
    } else {
        Err(Error::Checksum {
            url: url.to_owned(),
            expected: expected_sha256.to_owned(),
            actual,
        })
    }
}

fn sha256_of(path: &Path) -> Result<String, Error> {
    let io = |error| Error::Io {
        path: path.to_owned(),
        error,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Unpacks a `.tar.gz` into `dest`, keeping the permission bits so the
/// executable stays executable, but never setuid, setgid or sticky bits,
/// nor write access for group or others.
/// Every entry must stay inside `dest`: an absolute path, a `..`, or a link
/// that could lead out of `dest` refuses the whole package (the `tar` crate
/// would skip a `..` entry silently and create such links as asked). Only
/// files, directories and links are accepted.
pub(crate) fn unpack(archive: &Path, dest: &Path) -> Result<(), Error> {
    let extract = |message: String| Error::Extract {
        archive: archive.to_owned(),
        message,
    };
    let file = std::fs::File::open(archive).map_err(|e| extract(e.to_string()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    // Without `preserve_permissions`, `tar` sets each file's mode to the
    // entry's mode masked to 0o777: the setid and sticky bits are dropped.
    tar.set_preserve_permissions(false);
    // Nor may others write to a plugin's files, which spin will execute.
    tar.set_mask(0o022);
    tar.set_preserve_ownerships(false);
    tar.set_unpack_xattrs(false);
    tar.set_overwrite(true);
    std::fs::create_dir_all(dest).map_err(|e| extract(e.to_string()))?;
    let entries = tar.entries().map_err(|e| extract(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| extract(e.to_string()))?;
        let path = entry
            .path()
            .map_err(|e| extract(e.to_string()))?
            .into_owned();
        let unsafe_entry = |problem: &str| Error::UnsafeArchiveEntry {
            archive: archive.to_owned(),
            entry: path.display().to_string(),
            problem: problem.to_owned(),
        };
        if !points_down(&path) {
            return Err(unsafe_entry(
                "has an absolute path or a `..`, which would land outside the plugin directory",
            ));
        }
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            // Metadata for other entries (`git archive` writes one); there
            // is nothing to unpack.
            continue;
        }
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name()
                .map_err(|e| extract(e.to_string()))?
                .ok_or_else(|| unsafe_entry("is a link without a target"))?;
            if !points_down(&target) {
                return Err(unsafe_entry(&format!(
                    "is a link to `{}`; a plugin's links must point down into its own directory, without `..`",
                    target.display()
                )));
            }
        } else if !(kind.is_file() || kind.is_dir() || kind == tar::EntryType::GNUSparse) {
            return Err(unsafe_entry(
                "is neither a file, a directory nor a link (a device or a pipe)",
            ));
        }
        entry
            .unpack_in(dest)
            .map_err(|e| extract(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

/// Whether `path` only goes down: relative, without `..`. Links are held to
/// this too (not merely to staying inside lexically): a link whose target
/// only goes down leads below its own directory whatever other links it
/// passes through, while `a/..` leaves it if `a` is itself a link.
fn points_down(path: &Path) -> bool {
    use std::path::Component;
    path.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Decodes `%XX` escapes, which `file://` URLs use for spaces and the like.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a `.tar.gz` holding `files` (name, contents, mode) and
    /// returns its path and SHA-256.
    pub(crate) fn make_package(dir: &Path, files: &[(&str, &str, u32)]) -> (PathBuf, String) {
        let path = dir.join("plugin.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        let mut tar = tar::Builder::new(gz);
        for (name, contents, mode) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(*mode);
            header.set_cksum();
            tar.append_data(&mut header, name, contents.as_bytes())
                .unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        let sha = sha256_of(&path).unwrap();
        (path, sha)
    }

    #[test]
    fn local_packages_are_checked_and_unpacked() {
        let dir = tempfile::tempdir().unwrap();
        let (archive, sha) = make_package(dir.path(), &[("tool", "#!/bin/sh\necho hi\n", 0o755)]);
        let url = format!("file://{}", archive.display());

        let found = package(&url, &sha.to_uppercase(), dir.path()).unwrap();
        assert_eq!(found, archive);
        let dest = dir.path().join("out");
        unpack(&found, &dest).unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.join("tool")).unwrap(),
            "#!/bin/sh\necho hi\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dest.join("tool"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111, "still executable");
        }

        let err = package(&url, "00", dir.path()).unwrap_err();
        assert!(
            matches!(err, Error::Checksum { ref actual, .. } if *actual == sha),
            "{err}"
        );
    }

    /// Writes a `.tar.gz` of raw entries (path, type, link target, mode),
    /// bypassing the `tar` builder's own path checks as a hostile archive
    /// would.
    fn make_raw_archive(dir: &Path, entries: &[(&str, tar::EntryType, &str, u32)]) -> PathBuf {
        let path = dir.join("raw.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        let mut tar = tar::Builder::new(gz);
        for (name, kind, link, mode) in entries {
            let mut header = tar::Header::new_gnu();
            let raw = &mut header.as_old_mut().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            let raw = &mut header.as_old_mut().linkname;
            raw[..link.len()].copy_from_slice(link.as_bytes());
            header.set_entry_type(*kind);
            header.set_mode(*mode);
            let body: &[u8] = if kind.is_file() { b"data" } else { b"" };
            header.set_size(body.len() as u64);
            header.set_cksum();
            tar.append(&header, body).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        path
    }

    #[test]
    fn setid_and_sticky_bits_are_dropped() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let archive = make_raw_archive(
            dir.path(),
            &[
                ("tool", tar::EntryType::Regular, "", 0o6777),
                ("data", tar::EntryType::Directory, "", 0o1777),
            ],
        );
        let dest = dir.path().join("out");
        unpack(&archive, &dest).unwrap();
        let mode = |p: &str| {
            std::fs::metadata(dest.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        };
        assert_eq!(mode("tool"), 0o755);
        assert_eq!(mode("data"), 0o755);
    }

    #[test]
    fn entries_and_links_leading_outside_are_refused() {
        use tar::EntryType::{Link, Regular, Symlink};
        let dir = tempfile::tempdir().unwrap();
        let cases: &[&[(&str, tar::EntryType, &str, u32)]] = &[
            &[("../escape", Regular, "", 0o644)],
            &[("a/../../escape", Regular, "", 0o644)],
            &[("/tmp/escape", Regular, "", 0o644)],
            &[("link", Symlink, "/etc", 0o777)],
            &[("link", Symlink, "..", 0o777)],
            &[("sub/link", Symlink, "../..", 0o777)],
            &[("x", Symlink, ".", 0o777), ("y", Symlink, "x/..", 0o777)],
            &[("hard", Link, "../outside", 0o644)],
            &[("fifo", tar::EntryType::Fifo, "", 0o644)],
        ];
        for (i, entries) in cases.iter().enumerate() {
            let case_dir = dir.path().join(i.to_string());
            std::fs::create_dir_all(&case_dir).unwrap();
            let archive = make_raw_archive(&case_dir, entries);
            let dest = case_dir.join("plugins/tool");
            let err = unpack(&archive, &dest).unwrap_err();
            assert!(
                matches!(err, Error::UnsafeArchiveEntry { .. }),
                "{entries:?}: {err}"
            );
            assert!(!case_dir.join("plugins/escape").exists());
            assert!(!case_dir.join("escape").exists());
        }

        // Links that stay below their directory are fine.
        let archive = make_raw_archive(
            dir.path(),
            &[
                ("bin/tool", Regular, "", 0o755),
                ("tool", Symlink, "bin/tool", 0o777),
            ],
        );
        let dest = dir.path().join("ok");
        unpack(&archive, &dest).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("tool")).unwrap(), "data");
    }

    #[test]
    fn bad_urls_are_explained() {
        assert!(matches!(
            package("file:///no/such/file.tar.gz", "00", Path::new("/tmp")),
            Err(Error::Download { .. })
        ));
        assert!(matches!(
            manifest_from_url("ftp://example.com/m.json"),
            Err(Error::UnsupportedUrl(_))
        ));
    }

    #[test]
    fn file_urls_are_percent_decoded() {
        assert_eq!(
            percent_decode("/tmp/my%20plugin/a.json"),
            "/tmp/my plugin/a.json"
        );
        assert_eq!(percent_decode("/100%"), "/100%");
    }
}
