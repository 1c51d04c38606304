//! A component's `files`, mounted read-only. Glob patterns are copied, at
//! load time, into a staging directory under the state dir (so the guest sees
//! exactly the matched files, minus `exclude_files`, and later edits to the
//! sources cannot leak in mid-run); `{ source, destination }` directories are
//! mounted as they are.

use anyhow::{Context as _, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};

use spin_manifest::{Component, FileMount};

/// Host directories and the guest paths they appear at.
#[derive(Debug, Default, Clone)]
pub struct Mounts(pub Vec<(PathBuf, String)>);

/// Prepares `component`'s mounts; `staging` is emptied and refilled.
pub fn prepare(app_dir: &Path, staging: &Path, component: &Component) -> Result<Mounts> {
    if component.files.is_empty() {
        return Ok(Mounts::default());
    }
    if staging.exists() {
        std::fs::remove_dir_all(staging)
            .with_context(|| format!("clearing `{}`", staging.display()))?;
    }
    std::fs::create_dir_all(staging)
        .with_context(|| format!("creating `{}`", staging.display()))?;
    let excluded = globs(&component.exclude_files, "exclude_files")?;
    let mut mounts = vec![(staging.to_path_buf(), "/".to_string())];
    let mut patterns = Vec::new();
    for mount in &component.files {
        match mount {
            FileMount::Pattern(p) => patterns.push(p.clone()),
            FileMount::Placement {
                source,
                destination,
            } => {
                let source = app_dir.join(source);
                if source.is_dir() {
                    mounts.push((source, destination.clone()));
                } else {
                    let target = staging.join(destination.trim_start_matches('/'));
                    copy(&source, &target)?;
                }
            }
        }
    }
    let included = globs(&patterns, "files")?;
    if !patterns.is_empty() {
        for entry in walkdir::WalkDir::new(app_dir).follow_links(true) {
            let entry = entry.with_context(|| format!("reading `{}`", app_dir.display()))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let relative = entry
                .path()
                .strip_prefix(app_dir)
                .expect("walked under app_dir");
            if included.is_match(relative) && !excluded.is_match(relative) {
                copy(entry.path(), &staging.join(relative))?;
            }
        }
    }
    Ok(Mounts(mounts))
}

fn globs(patterns: &[String], field: &str) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern.trim_start_matches("./"))
            .with_context(|| format!("`{pattern}` in `{field}` is not a valid glob pattern"))?;
        set.add(glob);
    }
    Ok(set.build()?)
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("copying `{}` to `{}`", from.display(), to.display()))?;
    Ok(())
}
