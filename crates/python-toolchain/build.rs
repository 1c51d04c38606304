//! Embeds the Python SDK (`sdk/`), the guest world (`guest.wit`) and the
//! workspace's Spin WIT (`../../wit`) into the crate, so `spin py2wasm` is a
//! single self-contained binary.
//!
//! It writes `$OUT_DIR/embedded.rs`: one `(relative path, include_bytes!)`
//! table per tree. Generating the table, rather than listing files by hand,
//! means a new SDK module or WIT file cannot be forgotten.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let sdk = manifest_dir.join("sdk");
    let wit = manifest_dir.join("../../wit");
    let guest = manifest_dir.join("guest.wit");

    let mut out = String::new();
    table(&mut out, "SDK_FILES", &sdk);
    table(&mut out, "SPIN_WIT_FILES", &wit);
    writeln!(
        out,
        "pub(crate) const GUEST_WORLD: &[u8] = include_bytes!({:?});",
        guest.display().to_string()
    )
    .unwrap();
    println!("cargo:rerun-if-changed={}", guest.display());

    let dest = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")).join("embedded.rs");
    fs::write(dest, out).expect("writing embedded.rs");
}

/// Emits `const NAME: &[(&str, &[u8])]` holding every file under `root`.
fn table(out: &mut String, name: &str, root: &Path) {
    let mut files = Vec::new();
    collect(root, root, &mut files);
    files.sort();
    writeln!(out, "pub(crate) const {name}: &[(&str, &[u8])] = &[").unwrap();
    for (relative, absolute) in files {
        writeln!(out, "    ({relative:?}, include_bytes!({absolute:?})),").unwrap();
    }
    writeln!(out, "];").unwrap();
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    // Directories are watched too, so that adding a file re-runs this script.
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') || name == "__pycache__" {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
            let relative = path.strip_prefix(root).expect("under root");
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push((relative, path.display().to_string()));
        }
    }
}
