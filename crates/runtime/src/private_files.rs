//! Files only this user may change: the cache of compiled code.
//!
//! A compiled artifact is native code that is mapped and run without being
//! checked again (`Component::deserialize_file` is `unsafe` for that reason),
//! so whoever can write to the cache can run code as the user of `spin up`.
//! The cache therefore lives in directories of mode 0700 owned by this user,
//! its files are written 0600, and a directory another user could write to
//! is not used at all.

use std::fs::{DirBuilder, Metadata};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::Path;

/// Why a cache directory is not used.
#[derive(Debug, thiserror::Error)]
pub enum NotPrivate {
    /// It could not be created or read.
    #[error("cannot create `{path}`: {source}")]
    Io {
        /// The directory.
        path: String,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// Another user owns it.
    #[error("`{path}` belongs to another user (uid {owner})")]
    OtherOwner {
        /// The directory.
        path: String,
        /// Its owner.
        owner: u32,
    },
    /// It is a symbolic link, which could be pointed anywhere.
    #[error("`{path}` is a symbolic link")]
    Symlink {
        /// The directory.
        path: String,
    },
}

/// Creates `dir` (and its missing parents) with mode 0700, and makes sure it
/// belongs to this user and nobody else can write to it. A directory of
/// ours that others may write to (say, made by an older version with the
/// default umask) is tightened to 0700.
pub fn ensure_private_dir(dir: &Path) -> Result<(), NotPrivate> {
    let path = || dir.display().to_string();
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| NotPrivate::Io {
            path: path(),
            source,
        })?;
    let meta = std::fs::symlink_metadata(dir).map_err(|source| NotPrivate::Io {
        path: path(),
        source,
    })?;
    if meta.file_type().is_symlink() {
        return Err(NotPrivate::Symlink { path: path() });
    }
    if meta.uid() != current_uid() {
        return Err(NotPrivate::OtherOwner {
            path: path(),
            owner: meta.uid(),
        });
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
            |source| NotPrivate::Io {
                path: path(),
                source,
            },
        )?;
    }
    Ok(())
}

/// Whether a cached file may be trusted: a regular file of this user's that
/// no one else can write to.
pub fn is_private(meta: &Metadata) -> bool {
    meta.is_file() && meta.uid() == current_uid() && meta.mode() & 0o022 == 0
}

/// Writes `bytes` to `path` atomically, as a 0600 file: a reader sees the
/// old file or the whole new one, never a part.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().expect("cache paths have a parent");
    // `tempfile` creates the file with O_EXCL and mode 0600, under a random
    // name: two writers (threads or processes) never share a temporary file.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_made_and_kept_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        ensure_private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn a_symlinked_directory_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = root.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let link = root.path().join("cache");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        assert!(matches!(
            ensure_private_dir(&link),
            Err(NotPrivate::Symlink { .. })
        ));
    }

    #[test]
    fn files_are_written_0600_and_checked() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("artifact");
        write_private(&file, b"code").unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert!(is_private(&meta));
        assert_eq!(std::fs::read(&file).unwrap(), b"code");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(!is_private(&std::fs::metadata(&file).unwrap()));
    }
}
