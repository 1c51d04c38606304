//! Golden-file tests for error messages.
//!
//! Each `ui/invalid/<case>.toml` must fail to load, rendering exactly the
//! message in `ui/invalid/<case>.err` (with the folder shown as `[DIR]`).
//! Run with `BLESS=1` to rewrite the `.err` files after an intended change,
//! then review the diff.

use std::fs;
use std::path::{Path, PathBuf};

fn invalid_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/invalid")
}

fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

fn render(path: &Path) -> String {
    let error = match spin_manifest::load_file(path) {
        Ok(_) => panic!("{} loaded, but it should be rejected", path.display()),
        Err(error) => error,
    };
    let dir = invalid_dir();
    format!("{error}\n").replace(dir.to_str().unwrap(), "[DIR]")
}

#[test]
fn invalid_manifests_render_the_expected_errors() {
    let bless = std::env::var_os("BLESS").is_some();
    let cases = files_with_extension(&invalid_dir(), "toml");
    assert!(cases.len() > 40, "the golden cases went missing");
    let mut mismatches = Vec::new();
    for case in &cases {
        let actual = render(case);
        let golden = case.with_extension("err");
        if bless {
            fs::write(&golden, &actual).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&golden).unwrap_or_default();
        if actual != expected {
            mismatches.push(format!(
                "--- {}\n{expected}+++ actual\n{actual}",
                golden.display()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} golden file(s) differ (rerun with BLESS=1 to accept):\n\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn every_golden_file_has_an_input() {
    for golden in files_with_extension(&invalid_dir(), "err") {
        assert!(
            golden.with_extension("toml").exists(),
            "{} has no matching .toml",
            golden.display()
        );
    }
}

#[test]
fn every_error_points_at_a_line_and_ends_with_a_hint() {
    for case in files_with_extension(&invalid_dir(), "toml") {
        let rendered = render(&case);
        let last = rendered.trim_end().lines().last().unwrap();
        assert!(last.starts_with("hint: "), "{}: {rendered}", case.display());
        assert!(
            rendered.contains(" | "),
            "{}: no source line in {rendered}",
            case.display()
        );
        assert!(
            rendered.contains('^'),
            "{}: no caret in {rendered}",
            case.display()
        );
    }
}
