//! The plugin index: Spin's spin-plugins repository layout
//! (`manifests/<name>/<name>.json` for the latest version and
//! `manifests/<name>/<name>@<version>.json` for others), kept as a local
//! snapshot under the plugins directory and refreshed by
//! `spin plugins update`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;
use crate::manifest::PluginManifest;

/// Spin's public plugin index.
pub const DEFAULT_INDEX_URL: &str = "https://github.com/spinframework/spin-plugins";

const MANIFESTS_DIR: &str = "manifests";

/// Where `spin plugins update` refreshes the index from.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexSource {
    /// A Git repository, cloned with the system `git`.
    Git(String),
    /// A local directory with a `manifests/` folder, copied.
    Directory(PathBuf),
}

impl IndexSource {
    /// Reads a setting such as `SPIN_PLUGINS_INDEX`: an existing directory
    /// is used as a directory, anything else as a Git URL.
    pub fn from_setting(value: &str) -> Self {
        let path = Path::new(value);
        if path.is_dir() {
            Self::Directory(std::path::absolute(path).unwrap_or_else(|_| path.to_owned()))
        } else {
            Self::Git(value.to_owned())
        }
    }
}

impl Default for IndexSource {
    fn default() -> Self {
        Self::Git(DEFAULT_INDEX_URL.to_owned())
    }
}

impl std::fmt::Display for IndexSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Git(url) => f.write_str(url),
            Self::Directory(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// The local copy of the index.
pub(crate) struct Snapshot {
    dir: PathBuf,
}

impl Snapshot {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Whether an index has ever been fetched.
    pub fn exists(&self) -> bool {
        self.dir.join(MANIFESTS_DIR).is_dir()
    }

    /// Every manifest in the snapshot. Unreadable files are skipped: one
    /// bad entry in a community index must not hide the others.
    pub fn manifests(&self) -> Vec<PluginManifest> {
        let Ok(plugin_dirs) = std::fs::read_dir(self.dir.join(MANIFESTS_DIR)) else {
            return vec![];
        };
        let mut manifests: Vec<_> = plugin_dirs
            .filter_map(|d| d.ok().map(|d| d.path()))
            .filter(|p| p.is_dir())
            .flat_map(|dir| json_files(&dir))
            .filter_map(|file| read_manifest(&file).ok())
            .collect();
        manifests.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version_cmp(b)));
        manifests.dedup();
        manifests
    }

    /// The manifest for `name` at `version`, or its latest if `None`.
    pub fn exact(&self, name: &str, version: Option<&semver::Version>) -> Option<PluginManifest> {
        let file = match version {
            Some(v) => format!("{name}@{v}.json"),
            None => format!("{name}.json"),
        };
        let path = self.dir.join(MANIFESTS_DIR).join(name).join(file);
        match read_manifest(&path) {
            Ok(manifest) => Some(manifest),
            // The latest version lives in `<name>.json`, not `<name>@<v>.json`.
            Err(_) => version.and_then(|v| {
                self.exact(name, None)
                    .filter(|latest| latest.semver().as_ref() == Some(v))
            }),
        }
    }

    /// Replaces the snapshot with a fresh copy of `source`, returning the
    /// number of manifests in it. On failure the old snapshot is untouched.
    pub fn refresh(&self, source: &IndexSource) -> Result<usize, Error> {
        let parent = self
            .dir
            .parent()
            .expect("the snapshot lives in the plugins directory");
        let io = |path: &Path| {
            let path = path.to_owned();
            move |error| Error::Io { path, error }
        };
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let staging = tempfile::Builder::new()
            .prefix(".index-staging")
            .tempdir_in(parent)
            .map_err(io(parent))?;
        let fresh = staging.path().join("index");
        match source {
            IndexSource::Git(url) => clone(url, &fresh)?,
            IndexSource::Directory(dir) => {
                let manifests = dir.join(MANIFESTS_DIR);
                if !manifests.is_dir() {
                    return Err(Error::InvalidIndex(source.to_string()));
                }
                copy_dir(&manifests, &fresh.join(MANIFESTS_DIR)).map_err(io(dir))?;
            }
        }
        if !fresh.join(MANIFESTS_DIR).is_dir() {
            return Err(Error::InvalidIndex(source.to_string()));
        }
        let count = Snapshot::new(fresh.clone()).manifests().len();

        let previous = staging.path().join("previous");
        if self.dir.exists() {
            std::fs::rename(&self.dir, &previous).map_err(io(&self.dir))?;
        }
        std::fs::rename(&fresh, &self.dir).map_err(io(&self.dir))?;
        // `staging`, with the previous snapshot in it, is deleted on drop.
        Ok(count)
    }
}

/// Reads a manifest file, refusing a manifest whose name is not a plain
/// plugin name (so an index entry with such a name is skipped like any
/// unreadable one).
pub(crate) fn read_manifest(path: &Path) -> Result<PluginManifest, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ManifestRead {
        location: path.display().to_string(),
        message: source.to_string(),
    })?;
    let manifest: PluginManifest =
        serde_json::from_str(&text).map_err(|error| Error::ManifestParse {
            location: path.display().to_string(),
            error,
        })?;
    manifest.check_name()?;
    Ok(manifest)
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect()
}

fn clone(url: &str, dest: &Path) -> Result<(), Error> {
    let output = Command::new("git")
        // Never stop to ask for credentials.
        .env("GIT_TERMINAL_PROMPT", "0")
        .args(["clone", "--quiet", "--depth", "1", "--"])
        .arg(url)
        .arg(dest)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::GitNotFound,
            _ => Error::IndexUnreachable {
                source_name: url.to_owned(),
                message: e.to_string(),
            },
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::IndexUnreachable {
            source_name: url.to_owned(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::manifest::tests::manifest;

    /// Writes an index directory with the given (file name, manifest) pairs.
    pub(crate) fn write_index(dir: &Path, entries: &[(&str, PluginManifest)]) {
        for (file, m) in entries {
            let plugin_dir = dir.join(MANIFESTS_DIR).join(&m.name);
            std::fs::create_dir_all(&plugin_dir).unwrap();
            std::fs::write(plugin_dir.join(file), serde_json::to_string(m).unwrap()).unwrap();
        }
    }

    #[test]
    fn refreshes_from_a_directory_and_finds_versions() {
        let source = tempfile::tempdir().unwrap();
        write_index(
            source.path(),
            &[
                ("foo.json", manifest("foo", "2.0.0", ">=1.0")),
                ("foo@1.0.0.json", manifest("foo", "1.0.0", ">=1.0")),
                ("bar.json", manifest("bar", "0.1.0", ">=1.0")),
            ],
        );
        let plugins = tempfile::tempdir().unwrap();
        let snapshot = Snapshot::new(plugins.path().join(".spin-plugins"));
        assert!(!snapshot.exists());

        let count = snapshot
            .refresh(&IndexSource::Directory(source.path().to_owned()))
            .unwrap();
        assert_eq!(count, 3);
        assert!(snapshot.exists());
        let v = |s| semver::Version::parse(s).unwrap();
        assert_eq!(snapshot.exact("foo", None).unwrap().version, "2.0.0");
        assert_eq!(
            snapshot.exact("foo", Some(&v("1.0.0"))).unwrap().version,
            "1.0.0"
        );
        assert_eq!(
            snapshot.exact("foo", Some(&v("2.0.0"))).unwrap().version,
            "2.0.0"
        );
        assert!(snapshot.exact("foo", Some(&v("3.0.0"))).is_none());
        assert!(snapshot.exact("baz", None).is_none());
    }

    #[test]
    fn a_failed_refresh_keeps_the_previous_snapshot() {
        let source = tempfile::tempdir().unwrap();
        write_index(
            source.path(),
            &[("foo.json", manifest("foo", "1.0.0", ">=1.0"))],
        );
        let plugins = tempfile::tempdir().unwrap();
        let snapshot = Snapshot::new(plugins.path().join(".spin-plugins"));
        snapshot
            .refresh(&IndexSource::Directory(source.path().to_owned()))
            .unwrap();

        let missing = plugins.path().join("no-such-repo");
        let err = snapshot
            .refresh(&IndexSource::Git(missing.display().to_string()))
            .unwrap_err();
        assert!(matches!(err, Error::IndexUnreachable { .. }), "{err}");
        let not_an_index = tempfile::tempdir().unwrap();
        let err = snapshot
            .refresh(&IndexSource::Directory(not_an_index.path().to_owned()))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidIndex(_)), "{err}");

        assert_eq!(snapshot.manifests().len(), 1);
    }

    #[test]
    fn settings_name_directories_or_repositories() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            IndexSource::from_setting(&dir.path().display().to_string()),
            IndexSource::Directory(dir.path().to_owned())
        );
        assert_eq!(
            IndexSource::from_setting("https://example.com/index.git"),
            IndexSource::Git("https://example.com/index.git".into())
        );
    }
}
