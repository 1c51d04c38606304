//! Skipping unchanged builds.
//!
//! A build's inputs (the app's sources, its dependencies, the SDK and the
//! componentize-py version) are hashed, and the hash is appended to the
//! component as a custom section. The next build recomputes the hash and
//! compares it with the last bytes of the existing output, which is all it
//! reads: a no-op build never starts Python, and never parses the component.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, io_error};

/// The custom section's name.
const SECTION_NAME: &str = "spin-py2wasm-inputs";

/// Accumulates a build's inputs into one hash.
pub(crate) struct InputHasher(Sha256);

impl InputHasher {
    pub(crate) fn new() -> Self {
        Self(Sha256::new())
    }

    /// Adds a labelled value (the label keeps adjacent values apart).
    pub(crate) fn value(&mut self, label: &str, value: &[u8]) {
        self.0.update(label.as_bytes());
        self.0.update((value.len() as u64).to_le_bytes());
        self.0.update(value);
    }

    /// Adds every file under `dir` that Python could import or read, by
    /// relative path and content. Skipped: hidden entries (`.git`, `.spin`,
    /// ...), bytecode caches and `.wasm` files, the build's own output among
    /// them. A missing `dir` adds nothing, as componentize-py ignores it too.
    pub(crate) fn tree(&mut self, label: &str, dir: &Path) -> Result<(), Error> {
        self.value(label, dir.as_os_str().as_encoded_bytes());
        if dir.is_dir() {
            self.walk(dir, dir)?;
        }
        Ok(())
    }

    fn walk(&mut self, root: &Path, dir: &Path) -> Result<(), Error> {
        let mut entries = fs::read_dir(dir)
            .map_err(io_error("read", dir))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io_error("read", dir))?;
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.starts_with('.')
                || name == "__pycache__"
                || name.ends_with(".pyc")
                || name.ends_with(".wasm")
            {
                continue;
            }
            if path.is_dir() {
                self.walk(root, &path)?;
            } else if path.is_file() {
                let contents = fs::read(&path).map_err(io_error("read", &path))?;
                let relative = path.strip_prefix(root).unwrap_or(&path);
                self.value("file", relative.as_os_str().as_encoded_bytes());
                self.value("contents", &contents);
            }
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// The custom section recording `hash`, as appended to the component.
fn stamp(hash: &str) -> Vec<u8> {
    let mut payload = leb128(SECTION_NAME.len());
    payload.extend_from_slice(SECTION_NAME.as_bytes());
    payload.extend_from_slice(hash.as_bytes());
    let mut section = vec![0u8]; // custom section id
    section.extend(leb128(payload.len()));
    section.extend(payload);
    section
}

fn leb128(mut value: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            bytes.push(byte);
            return bytes;
        }
        bytes.push(byte | 0x80);
    }
}

/// Whether `output` exists and was built from inputs hashing to `hash`.
pub(crate) fn is_current(output: &Path, hash: &str) -> bool {
    let expected = stamp(hash);
    let Ok(mut file) = File::open(output) else {
        return false;
    };
    let mut tail = vec![0; expected.len()];
    file.seek(SeekFrom::End(-(expected.len() as i64))).is_ok()
        && file.read_exact(&mut tail).is_ok()
        && tail == expected
}

/// Appends the record of `hash` to the component at `path`.
pub(crate) fn record(path: &Path, hash: &str) -> Result<(), Error> {
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io_error("open", path))?;
    file.write_all(&stamp(hash))
        .map_err(io_error("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_encodes_multi_byte_lengths() {
        assert_eq!(leb128(0), [0]);
        assert_eq!(leb128(127), [127]);
        assert_eq!(leb128(128), [0x80, 1]);
        assert_eq!(leb128(300), [0xac, 2]);
    }

    #[test]
    fn stamp_is_a_valid_custom_section_after_a_component() {
        // The smallest valid component: magic, version 0x0d, layer 1.
        let mut component = b"\0asm\x0d\0\x01\0".to_vec();
        component.extend(stamp(&"ab".repeat(32)));
        let mut found = None;
        for payload in wasmparser::Parser::new(0).parse_all(&component) {
            if let wasmparser::Payload::CustomSection(reader) = payload.unwrap() {
                found = Some((reader.name().to_owned(), reader.data().to_vec()));
            }
        }
        assert_eq!(
            found,
            Some((SECTION_NAME.to_owned(), "ab".repeat(32).into_bytes()))
        );
    }

    #[test]
    fn recorded_hash_is_current_until_inputs_change() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("app.wasm");
        assert!(!is_current(&output, "x"));
        fs::write(&output, b"\0asm\x0d\0\x01\0").unwrap();
        record(&output, "first").unwrap();
        assert!(is_current(&output, "first"));
        assert!(!is_current(&output, "second"));
    }

    #[test]
    fn tree_hash_follows_sources_but_ignores_caches_and_outputs() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("app.py"), "x = 1\n").unwrap();
        let hash = || {
            let mut hasher = InputHasher::new();
            hasher.tree("path", dir.path()).unwrap();
            hasher.finish()
        };
        let before = hash();
        fs::write(dir.path().join("app.wasm"), "output").unwrap();
        fs::create_dir(dir.path().join("__pycache__")).unwrap();
        fs::write(dir.path().join("__pycache__/app.cpython-312.pyc"), "cache").unwrap();
        fs::create_dir(dir.path().join(".spin")).unwrap();
        fs::write(dir.path().join(".spin/state"), "state").unwrap();
        assert_eq!(before, hash());
        fs::write(dir.path().join("app.py"), "x = 2\n").unwrap();
        assert_ne!(before, hash());
    }
}
