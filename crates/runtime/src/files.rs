//! A component's `files`, mounted read-only. Glob patterns are copied, at
//! load time, into a staging directory under the state dir (so the guest sees
//! exactly the matched files, minus `exclude_files`, and later edits to the
//! sources cannot leak in mid-run); `{ source, destination }` directories are
//! mounted as they are.
//!
//! Everything mounted stays inside the application directory (issue 10): the
//! manifest already refuses absolute and `..` sources, and here symbolic
//! links are resolved, so a link committed into the app cannot smuggle a
//! host directory into the guest. The staging directory is emptied before
//! each run, so it must be a real directory: a committed `.spin/files` link
//! would otherwise point that deletion at a directory elsewhere.

use anyhow::{Context as _, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use spin_hint::Hinted;
use std::path::{Path, PathBuf};

use spin_manifest::{Component, FileMount};

/// Host directories and the guest paths they appear at.
#[derive(Debug, Default, Clone)]
pub struct Mounts(pub Vec<(PathBuf, String)>);

/// How `files` are mounted (`spin up` flags).
#[derive(Debug, Default, Clone, Copy)]
pub struct MountOptions {
    /// `--direct-mounts`: directories are mounted as they are, so edits on
    /// the host show in the guest without a restart; glob patterns and
    /// `exclude_files` (which need a staged copy) are refused.
    pub direct: bool,
    /// `--allow-transient-write`: the guest may write to its files. Every
    /// mount is then a staged copy (directories too), so what it writes is
    /// gone at the next start and never reaches the app's own files.
    pub transient_write: bool,
}

/// Prepares `component`'s mounts; `staging` (`<state_dir>/files/<id>`) is
/// emptied and refilled.
pub fn prepare(
    app_dir: &Path,
    staging: &Path,
    component: &Component,
    options: MountOptions,
) -> Result<Mounts> {
    if component.files.is_empty() {
        return Ok(Mounts::default());
    }
    if options.direct {
        let staged = component
            .files
            .iter()
            .any(|f| matches!(f, FileMount::Pattern(_)))
            || !component.exclude_files.is_empty();
        if staged {
            return Err(Hinted::new(
                format!(
                    "component `{}` lists `files` glob patterns or `exclude_files`, which `--direct-mounts` cannot mount (they need a staged copy)",
                    component.id
                ),
                "drop `--direct-mounts`, or give the files as `{ source = \"dir\", destination = \"/dir\" }`",
            )
            .into());
        }
        if options.transient_write {
            return Err(Hinted::new(
                format!(
                    "`--allow-transient-write` with `--direct-mounts` would let component `{}` change the application's own files",
                    component.id
                ),
                "drop one of the two flags",
            )
            .into());
        }
    }
    let app_root = app_dir
        .canonicalize()
        .with_context(|| format!("resolving `{}`", app_dir.display()))?;
    let staging = fresh_staging_dir(staging)?;
    let excluded = globs(&component.exclude_files, "exclude_files")?;
    let mut mounts = vec![(staging.clone(), "/".to_string())];
    let mut patterns = Vec::new();
    for mount in &component.files {
        match mount {
            FileMount::Pattern(p) => patterns.push(p.clone()),
            FileMount::Placement {
                source,
                destination,
            } => {
                let source = inside_app(&app_root, &app_dir.join(source), component)?;
                if source.is_dir() && options.transient_write {
                    // Written to by the guest: a copy, never the original.
                    let target = staging.join(destination.trim_start_matches('/'));
                    copy_tree(&source, &target, &app_root, component)?;
                } else if source.is_dir() {
                    mounts.push((source, destination.clone()));
                } else {
                    // The manifest normalised the destination, so it cannot
                    // climb out of the staging directory.
                    let target = staging.join(destination.trim_start_matches('/'));
                    copy(&source, &target)?;
                }
            }
        }
    }
    let included = globs(&patterns, "files")?;
    if !patterns.is_empty() {
        // A linked directory that leads out of the app is not entered: its
        // files are not the app's, and walking it could mean walking `/`.
        let walk = walkdir::WalkDir::new(&app_root)
            .follow_links(true)
            .into_iter()
            .filter_entry(|e| {
                !(e.path_is_symlink()
                    && e.file_type().is_dir()
                    && !resolves_inside(&app_root, e.path()))
            });
        for entry in walk {
            let entry = entry.with_context(|| format!("reading `{}`", app_dir.display()))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let relative = entry
                .path()
                .strip_prefix(&app_root)
                .expect("walked under app_root");
            if !included.is_match(relative) || excluded.is_match(relative) {
                continue;
            }
            if entry.path_is_symlink() {
                inside_app(&app_root, entry.path(), component)?;
            }
            copy(entry.path(), &staging.join(relative))?;
        }
    }
    Ok(Mounts(mounts))
}

/// Empties (or creates) `staging`, refusing symbolic links at it and at its
/// parent (`<state_dir>/files`): `remove_dir_all` through a linked `files`
/// would empty whatever directory the link names.
fn fresh_staging_dir(staging: &Path) -> Result<PathBuf> {
    for dir in staging.parent().into_iter().chain([staging]) {
        match std::fs::symlink_metadata(dir) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(Hinted::new(
                    format!(
                        "`{}` is a symbolic link; spin stages `files` there and empties it on every start, so it must be a real directory",
                        dir.display()
                    ),
                    format!(
                        "remove the link (`rm {}`), or pass another `--state-dir`",
                        dir.display()
                    ),
                )
                .into());
            }
            Ok(meta) if !meta.is_dir() => {
                return Err(Hinted::new(
                    format!(
                        "`{}` is not a directory; spin stages `files` there",
                        dir.display()
                    ),
                    "remove it, or pass another `--state-dir`",
                )
                .into());
            }
            _ => {}
        }
    }
    if staging.exists() {
        std::fs::remove_dir_all(staging)
            .with_context(|| format!("clearing `{}`", staging.display()))?;
    }
    std::fs::create_dir_all(staging)
        .with_context(|| format!("creating `{}`", staging.display()))?;
    Ok(staging.to_path_buf())
}

fn resolves_inside(app_root: &Path, path: &Path) -> bool {
    path.canonicalize()
        .is_ok_and(|real| real.starts_with(app_root))
}

/// `path` with its links resolved, if that is inside the app directory.
fn inside_app(app_root: &Path, path: &Path, component: &Component) -> Result<PathBuf> {
    let real = path.canonicalize().with_context(|| {
        Hinted::new(
            format!(
                "the `files` source `{}` of component `{}` cannot be read",
                path.display(),
                component.id
            ),
            "check the path; it is relative to the directory containing the manifest",
        )
    })?;
    if !real.starts_with(app_root) {
        return Err(Hinted::new(
            format!(
                "the `files` entry `{}` of component `{}` resolves to `{}`, outside the application directory `{}`",
                path.display(),
                component.id,
                real.display(),
                app_root.display()
            ),
            "a component only gets files from inside its application directory; copy the files in, or list the link in `exclude_files`",
        )
        .into());
    }
    Ok(real)
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

/// Copies the files under `source` (links followed only while they stay
/// inside the app) to `target`.
fn copy_tree(source: &Path, target: &Path, app_root: &Path, component: &Component) -> Result<()> {
    let walk = walkdir::WalkDir::new(source)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| !e.path_is_symlink() || resolves_inside(app_root, e.path()));
    for entry in walk {
        let entry = entry.with_context(|| format!("reading `{}`", source.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        if entry.path_is_symlink() {
            inside_app(app_root, entry.path(), component)?;
        }
        let relative = entry
            .path()
            .strip_prefix(source)
            .expect("walked under source");
        copy(entry.path(), &target.join(relative))?;
    }
    std::fs::create_dir_all(target).with_context(|| format!("creating `{}`", target.display()))?;
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("copying `{}` to `{}`", from.display(), to.display()))?;
    Ok(())
}
