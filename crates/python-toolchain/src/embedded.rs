//! The SDK modules and WIT files compiled into the binary, and where they go
//! on disk for componentize-py.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, io_error};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The world in `guest.wit` that components are built against.
pub(crate) const GUEST_WORLD_NAME: &str = "spin-py2wasm-bindings";

/// A hash of everything embedded, which changes whenever the SDK or WIT does.
pub(crate) fn fingerprint() -> String {
    let mut hasher = Sha256::new();
    for (path, contents) in layout() {
        hasher.update(path.as_bytes());
        hasher.update((contents.len() as u64).to_le_bytes());
        hasher.update(contents);
    }
    hex::encode(hasher.finalize())
}

/// Where the embedded files live once unpacked.
#[derive(Debug, Clone)]
pub(crate) struct Unpacked {
    /// The directory holding the SDK's Python modules (a python-path entry).
    pub(crate) sdk: PathBuf,
    /// The WIT directory passed to componentize-py with `-d`.
    pub(crate) wit: PathBuf,
}

/// Unpacks the embedded files under `cache`, once per SDK version: a later
/// build with the same binary finds them already there.
pub(crate) fn unpack(cache: &Path) -> Result<Unpacked, Error> {
    let dir = cache.join("sdk").join(&fingerprint()[..16]);
    let unpacked = Unpacked {
        sdk: dir.join("sdk"),
        wit: dir.join("wit"),
    };
    if dir.is_dir() {
        return Ok(unpacked);
    }
    let parent = dir.parent().expect("has a parent");
    fs::create_dir_all(parent).map_err(io_error("create", parent))?;
    let staging =
        tempfile::tempdir_in(parent).map_err(io_error("create a directory in", parent))?;
    for (relative, contents) in layout() {
        let path = staging.path().join(&relative);
        let folder = path.parent().expect("has a parent");
        fs::create_dir_all(folder).map_err(io_error("create", folder))?;
        fs::write(&path, contents).map_err(io_error("write", &path))?;
    }
    // Another build may have unpacked the same files meanwhile; either copy will do.
    let staged = staging.keep();
    if fs::rename(&staged, &dir).is_err() {
        let _ = fs::remove_dir_all(&staged);
        if !dir.is_dir() {
            return Err(Error::Io {
                action: "create",
                path: dir,
                source: std::io::Error::other("could not move the unpacked SDK into place"),
            });
        }
    }
    Ok(unpacked)
}

/// Every embedded file with its path in the unpacked tree.
///
/// The guest world is the root WIT package, so Spin's own package (the
/// top-level `.wit` files of the workspace's `wit/`) moves into `deps/`
/// beside the WASI packages, which componentize-py expects to be flat.
fn layout() -> Vec<(String, &'static [u8])> {
    let mut files = vec![("wit/world.wit".to_owned(), GUEST_WORLD)];
    files.extend(
        SDK_FILES
            .iter()
            .map(|(path, contents)| (format!("sdk/{path}"), *contents)),
    );
    files.extend(SPIN_WIT_FILES.iter().map(|(path, contents)| {
        let relative = match path.strip_prefix("deps/") {
            Some(dep) => format!("wit/deps/{dep}"),
            None => format!("wit/deps/spin@2.0.0/{path}"),
        };
        (relative, *contents)
    }));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_puts_spin_package_beside_wasi_deps() {
        let paths: Vec<String> = layout().into_iter().map(|(path, _)| path).collect();
        for expected in [
            "wit/world.wit",
            "wit/deps/spin@2.0.0/world.wit",
            "wit/deps/spin@2.0.0/redis.wit",
            "wit/deps/http/types.wit",
            "wit/deps/io/streams.wit",
            "sdk/spin_http.py",
            "sdk/spin_py2wasm/handler.py",
            "sdk/spin_py2wasm/py.typed",
        ] {
            assert!(
                paths.iter().any(|p| p == expected),
                "missing {expected} in {paths:?}"
            );
        }
        assert!(!paths.iter().any(|p| p.contains("__pycache__")));
    }

    #[test]
    fn guest_world_name_matches_guest_wit() {
        let text = std::str::from_utf8(GUEST_WORLD).unwrap();
        assert!(text.contains(&format!("world {GUEST_WORLD_NAME} {{")));
    }

    #[test]
    fn unpack_writes_every_file_and_is_reused() {
        let cache = tempfile::tempdir().unwrap();
        let first = unpack(cache.path()).unwrap();
        let http = fs::read(first.sdk.join("spin_http.py")).unwrap();
        assert_eq!(
            http,
            SDK_FILES
                .iter()
                .find(|(p, _)| *p == "spin_http.py")
                .unwrap()
                .1
        );
        assert!(first.wit.join("deps/spin@2.0.0/key-value.wit").is_file());
        let second = unpack(cache.path()).unwrap();
        assert_eq!(first.sdk, second.sdk);
    }
}
