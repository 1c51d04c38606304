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
    serde_json::from_str(&text).map_err(|error| Error::ManifestParse {
        location: url.to_owned(),
        error,
    })
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

/// Unpacks a `.tar.gz` into `dest`, keeping file modes so the executable
/// stays executable. `tar` refuses entries that would land outside `dest`.
pub(crate) fn unpack(archive: &Path, dest: &Path) -> Result<(), Error> {
    let extract = |message: String| Error::Extract {
        archive: archive.to_owned(),
        message,
    };
    let file = std::fs::File::open(archive).map_err(|e| extract(e.to_string()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    tar.set_preserve_permissions(true);
    std::fs::create_dir_all(dest).map_err(|e| extract(e.to_string()))?;
    tar.unpack(dest).map_err(|e| extract(e.to_string()))
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
