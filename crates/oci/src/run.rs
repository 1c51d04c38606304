//! A pulled app in the form `spin up` runs: a v2 `spin.toml` written from
//! the locked app, whose components' sources are the cached blobs and whose
//! files are laid out under `files/<component>/`.
//!
//! Everything in the locked app is untrusted: component ids and file paths
//! become file names here, so they are checked before anything is written,
//! and the manifest is written with a TOML serialiser, so no value can add
//! a table of its own. The manifest then goes through the same validation
//! as a local one.

use anyhow::{Context as _, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{PulledApp, RegistryCache};
use spin_hint::Hinted;
use spin_locked_app::{ContentRef, Placement};

/// Writes (once per image) the runnable form of `pulled` and returns the
/// path of its `spin.toml`.
pub fn prepare(pulled: &PulledApp, cache: &RegistryCache) -> Result<PathBuf> {
    let dir = cache.app_dir(&pulled.digest)?;
    let manifest_path = dir.join("spin.toml");
    if manifest_path.is_file() {
        return Ok(manifest_path);
    }
    let apps = dir.parent().expect("app dirs have a parent");
    cache.private_dirs(apps)?;
    // Built aside and renamed into place: a half-written app is never seen.
    let work = tempfile::tempdir_in(apps).context("creating a directory in the registry cache")?;
    let mut placements = BTreeMap::new();
    for component in &pulled.locked.components {
        check_id(&component.id)?;
        let wasm = blob_for(&component.source.content, cache, &component.id, "its Wasm")?;
        let files = if component.files.is_empty() {
            None
        } else {
            let files_dir = work.path().join("files").join(&component.id);
            for file in &component.files {
                let relative = safe_relative(&file.path).with_context(|| {
                    format!("component `{}` has the file `{}`", component.id, file.path)
                })?;
                let target = files_dir.join(relative);
                std::fs::create_dir_all(target.parent().expect("joined paths have a parent"))?;
                match &file.content.inline {
                    Some(bytes) => std::fs::write(&target, bytes)?,
                    None => {
                        let what = format!("its file `{}`", file.path);
                        let blob = blob_for(&file.content, cache, &component.id, &what)?;
                        std::fs::copy(&blob, &target)
                            .with_context(|| format!("copying `{}`", blob.display()))?;
                    }
                }
            }
            Some(format!("files/{}", component.id))
        };
        let wasm = wasm
            .to_str()
            .context("the cache path is not UTF-8")?
            .to_owned();
        placements.insert(component.id.clone(), Placement { wasm, files });
    }
    let text = spin_locked_app::to_manifest(&pulled.locked, &placements).map_err(|e| {
        anyhow::Error::new(Hinted::new(
            format!("`{}` cannot run here: {e}", pulled.reference),
            e.hint(),
        ))
    })?;
    std::fs::write(work.path().join("spin.toml"), text)?;
    let work = work.keep();
    if std::fs::rename(&work, &dir).is_err() {
        // Another `spin up` of the same image got there first; its copy is
        // the same content.
        let _ = std::fs::remove_dir_all(&work);
        if !manifest_path.is_file() {
            bail!("cannot create `{}`", dir.display());
        }
    }
    Ok(manifest_path)
}

/// The cached blob a content ref names.
fn blob_for(
    content: &ContentRef,
    cache: &RegistryCache,
    component: &str,
    what: &str,
) -> Result<PathBuf> {
    let Some(digest) = &content.digest else {
        bail!("component `{component}`: {what} has no digest");
    };
    let path = cache.blob_path(digest)?;
    if !path.is_file() {
        return Err(Hinted::new(
            format!("component `{component}`: {what} ({digest}) is not among the artifact's layers"),
            "the artifact is incomplete or uses a layout this spin does not read (file archives); push it again",
        )
        .into());
    }
    Ok(path)
}

/// A component id becomes a directory name: lowercase letters, digits,
/// `-` and `_` only.
fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        bail!("the artifact names a component `{id}`, which is not a valid component id");
    }
    Ok(())
}

/// `path` if it is relative and stays below its root.
fn safe_relative(path: &str) -> Result<&Path> {
    let p = Path::new(path);
    let ok = !path.is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !ok {
        bail!("a file path must be relative and stay inside the component's files");
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_an_artifact_cannot_leave_their_directory() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "", "./"] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
        assert!(safe_relative("www/index.html").is_ok());
        for bad in ["../x", "a/b", "", "A", "a.b"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
