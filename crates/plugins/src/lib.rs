//! Spin plugins: executables that extend the `spin` command line.
//!
//! A plugin is described by a JSON [`PluginManifest`] (Spin's format) that
//! points at a `.tar.gz` package per platform. Manifests come from the plugin
//! index (a snapshot of Spin's spin-plugins repository, or any Git
//! repository or directory with the same layout), from a file or from a URL.
//! [`PluginManager`] installs packages into the plugins directory, verifying
//! their SHA-256, and tells the CLI where each plugin's executable is.
//!
//! Some plugins are built into the binary ([`builtin`]): installing them
//! needs no index and no network.

#![deny(missing_docs)]

pub mod builtin;
mod fetch;
mod index;
mod manager;
mod manifest;

pub use fetch::manifest_from_url;
pub use index::{DEFAULT_INDEX_URL, IndexSource};
pub use manager::{InstallAction, ManifestSource, PluginManager, manifest_from_file};
pub use manifest::{Arch, Compatibility, Os, PluginManifest, PluginPackage, check_name};
/// Re-exported because versions in this crate's API are `semver` types.
pub use semver;

use std::path::PathBuf;

/// Everything that can go wrong with plugins. Each error says what to do
/// about it in its [`Error::hint`], which the CLI prints once, after the
/// whole cause chain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The index has no plugin of this name.
    #[error(
        "Plugin '{name}' was not found in the plugin index{}", match index_problem {
            Some(problem) => format!(", which could not be fetched: {problem}"),
            None => String::new(),
        }
    )]
    NotInIndex {
        /// The plugin.
        name: String,
        /// Why the index could not be fetched, if it could not.
        index_problem: Option<Box<Error>>,
    },
    /// The index has the plugin, but not this version.
    #[error(
        "Plugin '{name}' has no version {version} in the index (available: {})", available.join(", ")
    )]
    VersionNotFound {
        /// The plugin.
        name: String,
        /// The version asked for.
        version: String,
        /// The versions the index has.
        available: Vec<String>,
    },
    /// A plugin name that is not a plain word: it becomes a directory and a
    /// file name in the plugins directory, so `..` or `/` would reach
    /// outside it.
    #[error("Invalid plugin name '{name}': {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The plugin's name is a `spin` command.
    #[error("Can't install a plugin named '{0}': that name belongs to a built-in spin command")]
    ReservedName(String),
    /// Installing would replace a newer version.
    #[error("Newer version {installed} of plugin '{name}' is already installed")]
    Downgrade {
        /// The plugin.
        name: String,
        /// The installed version.
        installed: String,
        /// The version asked for.
        requested: String,
    },
    /// The plugin does not support this version of Spin.
    #[error(
        "Plugin '{name}' {version} is not compatible with this version of Spin (supported: {requirement}, actual: {spin_version})"
    )]
    Incompatible {
        /// The plugin.
        name: String,
        /// Its version.
        version: String,
        /// Its `spinCompatibility`.
        requirement: String,
        /// The Spin version checked against.
        spin_version: String,
    },
    /// No package for this OS and architecture.
    #[error("Plugin '{name}' does not support this OS ({os}) or architecture ({arch})")]
    NoPackage {
        /// The plugin.
        name: String,
        /// This OS.
        os: &'static str,
        /// This architecture.
        arch: &'static str,
    },
    /// A manifest could not be read.
    #[error("Can't read plugin manifest {location}: {message}")]
    ManifestRead {
        /// File path or URL.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// A manifest is not valid JSON of the right shape.
    #[error("Invalid plugin manifest {location}: {error}")]
    ManifestParse {
        /// File path or URL.
        location: String,
        /// The JSON error.
        error: serde_json::Error,
    },
    /// A manifest or package URL could not be fetched.
    #[error("Can't download {url}: {message}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A URL scheme other than `file`, `http` or `https`.
    #[error("Unsupported URL {0}")]
    UnsupportedUrl(String),
    /// The package's digest differs from the manifest's.
    #[error(
        "Checksum did not match for {url} (expected {expected}, got {actual}), so the plugin was not installed"
    )]
    Checksum {
        /// The package URL.
        url: String,
        /// The manifest's digest.
        expected: String,
        /// The package's digest.
        actual: String,
    },
    /// The package archive could not be unpacked.
    #[error("Can't unpack plugin package {}: {message}", .archive.display())]
    Extract {
        /// The archive.
        archive: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The package archive has an entry that would land outside the plugin's
    /// directory, or that is not a file, directory or link.
    #[error(
        "Refusing to install plugin package {}: its entry `{entry}` {problem}",
        .archive.display()
    )]
    UnsafeArchiveEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry's path as stored in the archive.
        entry: String,
        /// What is wrong with it.
        problem: String,
    },
    /// `git clone` of the index failed.
    #[error("Could not fetch the plugin index from {source_name}: {message}")]
    IndexUnreachable {
        /// The index source.
        source_name: String,
        /// Git's error output.
        message: String,
    },
    /// An index source without a `manifests/` directory.
    #[error("{0} is not a plugin index: it has no `manifests` directory")]
    InvalidIndex(String),
    /// The `git` program is missing.
    #[error("`git` is not installed or not on PATH; it is needed to fetch the plugin index")]
    GitNotFound,
    /// A file or directory could not be read or written.
    #[error("{}: {error}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

impl Error {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            // The index could not be fetched: what to do about that.
            Self::NotInIndex {
                index_problem: Some(problem),
                ..
            } => problem.hint(),
            Self::NotInIndex {
                index_problem: None,
                ..
            } => "run `spin plugins update` to refresh the index, and `spin plugins list` to see the available plugins".into(),
            Self::VersionNotFound { .. } => {
                "pick one of those, or run `spin plugins update` to refresh the index".into()
            }
            Self::InvalidName { .. } => "a plugin name is made of letters, digits, `-` and `_`, starting with a letter or digit, e.g. `cloud` or `trigger-sqs`".into(),
            Self::ReservedName(_) => "ask the plugin's author to rename it".into(),
            Self::Downgrade {
                name, requested, ..
            } => format!(
                "to downgrade to version {requested}, run `spin plugins upgrade {name} --version {requested} --downgrade`"
            ),
            Self::Incompatible { .. } => "run `spin plugins update` and try again to find a compatible version, or pass `--override-compatibility-check`".into(),
            Self::NoPackage { .. } => "ask the plugin's author for a build for this platform".into(),
            Self::ManifestRead { .. } => "check the path or URL".into(),
            Self::ManifestParse { .. } => "a plugin manifest is JSON with name, version, spinCompatibility, license and packages".into(),
            Self::Download { .. } => "check the URL and your network connection".into(),
            Self::UnsupportedUrl(_) => "use a file://, http:// or https:// URL".into(),
            Self::Checksum { .. } => {
                "the package or its manifest is wrong; tell the plugin's author".into()
            }
            Self::Extract { .. } => "a plugin package must be a .tar.gz archive".into(),
            Self::UnsafeArchiveEntry { .. } => {
                "the package is broken or malicious; tell the plugin's author".into()
            }
            Self::IndexUnreachable { .. } => "check your network connection, or set SPIN_PLUGINS_INDEX to a reachable repository or a local directory".into(),
            Self::InvalidIndex(_) => {
                "point SPIN_PLUGINS_INDEX at a copy of the spin-plugins repository".into()
            }
            Self::GitNotFound => {
                "install Git, or set SPIN_PLUGINS_INDEX to a local directory".into()
            }
            Self::Io { .. } => "check that the path exists and is writable".into(),
        }
    }
}

/// The message with its hint kept apart, for the CLI to print last.
impl From<&Error> for spin_hint::Hinted {
    fn from(error: &Error) -> Self {
        spin_hint::Hinted::new(error.to_string(), error.hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message, with the hint checked to be data rather than text in it.
    fn hinted(error: &Error) -> spin_hint::Hinted {
        let hinted = spin_hint::Hinted::from(error);
        assert_eq!(hinted.message, error.to_string());
        assert!(!hinted.message.contains("hint: "), "{}", hinted.message);
        assert!(!hinted.hint.is_empty(), "{error}");
        hinted
    }

    #[test]
    fn every_error_carries_its_hint_as_data() {
        let unreachable = Error::IndexUnreachable {
            source_name: "https://example.com/index.git".into(),
            message: "could not resolve host".into(),
        };
        let errors = [
            Error::NotInIndex {
                name: "nope".into(),
                index_problem: None,
            },
            Error::VersionNotFound {
                name: "tool".into(),
                version: "9.0.0".into(),
                available: vec!["1.0.0".into()],
            },
            Error::InvalidName {
                name: "../x".into(),
                reason: "it contains `/`".into(),
            },
            Error::ReservedName("build".into()),
            Error::Incompatible {
                name: "tool".into(),
                version: "1.0.0".into(),
                requirement: ">=9".into(),
                spin_version: "3.0.0".into(),
            },
            Error::NoPackage {
                name: "tool".into(),
                os: "linux",
                arch: "riscv64",
            },
            Error::ManifestRead {
                location: "tool.json".into(),
                message: "not found".into(),
            },
            Error::ManifestParse {
                location: "tool.json".into(),
                error: serde_json::from_str::<PluginManifest>("{").unwrap_err(),
            },
            Error::Download {
                url: "https://example.com/tool.tar.gz".into(),
                message: "404".into(),
            },
            Error::UnsupportedUrl("ftp://example.com".into()),
            Error::Checksum {
                url: "https://example.com/tool.tar.gz".into(),
                expected: "aa".into(),
                actual: "bb".into(),
            },
            Error::Extract {
                archive: "tool.tar.gz".into(),
                message: "not gzip".into(),
            },
            Error::UnsafeArchiveEntry {
                archive: "tool.tar.gz".into(),
                entry: "../evil".into(),
                problem: "leaves the plugin's directory".into(),
            },
            Error::InvalidIndex("/tmp/index".into()),
            Error::GitNotFound,
            Error::Io {
                path: "/plugins".into(),
                error: std::io::Error::other("read-only file system"),
            },
        ];
        for error in &errors {
            hinted(error);
        }

        let downgrade = Error::Downgrade {
            name: "tool".into(),
            installed: "2.0.0".into(),
            requested: "1.0.0".into(),
        };
        assert_eq!(
            hinted(&downgrade).hint,
            "to downgrade to version 1.0.0, run `spin plugins upgrade tool --version 1.0.0 --downgrade`"
        );
        assert!(hinted(&unreachable).hint.contains("SPIN_PLUGINS_INDEX"));
    }

    #[test]
    fn a_plugin_missing_from_an_unfetchable_index_hints_at_the_fetch() {
        let unreachable = Error::IndexUnreachable {
            source_name: "https://example.com/index.git".into(),
            message: "could not resolve host".into(),
        };
        let hint = unreachable.hint();
        let error = Error::NotInIndex {
            name: "tool".into(),
            index_problem: Some(Box::new(unreachable)),
        };
        let hinted = hinted(&error);
        assert_eq!(
            hinted.message,
            "Plugin 'tool' was not found in the plugin index, which could not be fetched: \
             Could not fetch the plugin index from https://example.com/index.git: could not resolve host"
        );
        assert_eq!(hinted.hint, hint);
    }
}
