//! Embeds the repository's `templates/` directory into the crate, so the
//! built-in templates (`http-py`, `http-empty`) work with no network and no
//! prior `spin templates install`.

use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir.join("../../templates");
    // A directory makes Cargo rescan every file below it, so editing or
    // adding a template file rebuilds the crate.
    println!("cargo:rerun-if-changed={}", root.display());
    let root = root
        .canonicalize()
        .unwrap_or_else(|e| panic!("built-in templates directory {}: {e}", root.display()));

    let mut files = Vec::new();
    collect_files(&root, &root, &mut files);
    files.sort();

    let mut code = String::from("&[\n");
    for (relative, absolute) in files {
        code.push_str(&format!(
            "    ({relative:?}, include_bytes!({absolute:?})),\n"
        ));
    }
    code.push_str("]\n");

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("built_in_templates.rs"), code).expect("write generated file");
}

/// Lists every file under `dir` as (path relative to `root` with `/`
/// separators, absolute path).
fn collect_files(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_files(root, &path, files);
        } else {
            let relative = path
                .strip_prefix(root)
                .expect("below root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((relative, path.display().to_string()));
        }
    }
}
