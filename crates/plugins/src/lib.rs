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

/// Everything that can go wrong with plugins. Each message ends with what to
/// do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The index has no plugin of this name.
    #[error(
        "Plugin '{name}' was not found in the plugin index{}", match index_problem {
            Some(problem) => format!(", which could not be fetched: {problem}"),
            None => "\n\nhint: run `spin plugins update` to refresh the index, and `spin plugins list` to see the available plugins".to_owned(),
        }
    )]
    NotInIndex {
        /// The plugin.
        name: String,
        /// Why the index could not be fetched, if it could not.
        index_problem: Option<String>,
    },
    /// The index has the plugin, but not this version.
    #[error(
        "Plugin '{name}' has no version {version} in the index (available: {})\n\nhint: pick one of those, or run `spin plugins update` to refresh the index", available.join(", ")
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
    #[error(
        "Invalid plugin name '{name}': {reason}\n\nhint: a plugin name is made of letters, digits, `-` and `_`, starting with a letter or digit, e.g. `cloud` or `trigger-sqs`"
    )]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The plugin's name is a `spin` command.
    #[error(
        "Can't install a plugin named '{0}': that name belongs to a built-in spin command\n\nhint: ask the plugin's author to rename it"
    )]
    ReservedName(String),
    /// Installing would replace a newer version.
    #[error(
        "Newer version {installed} of plugin '{name}' is already installed\n\nhint: to downgrade to version {requested}, run `spin plugins upgrade {name} --version {requested} --downgrade`"
    )]
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
        "Plugin '{name}' {version} is not compatible with this version of Spin (supported: {requirement}, actual: {spin_version})\n\nhint: run `spin plugins update` and try again to find a compatible version, or pass `--override-compatibility-check`"
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
    #[error(
        "Plugin '{name}' does not support this OS ({os}) or architecture ({arch})\n\nhint: ask the plugin's author for a build for this platform"
    )]
    NoPackage {
        /// The plugin.
        name: String,
        /// This OS.
        os: &'static str,
        /// This architecture.
        arch: &'static str,
    },
    /// A manifest could not be read.
    #[error("Can't read plugin manifest {location}: {message}\n\nhint: check the path or URL")]
    ManifestRead {
        /// File path or URL.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// A manifest is not valid JSON of the right shape.
    #[error(
        "Invalid plugin manifest {location}: {error}\n\nhint: a plugin manifest is JSON with name, version, spinCompatibility, license and packages"
    )]
    ManifestParse {
        /// File path or URL.
        location: String,
        /// The JSON error.
        error: serde_json::Error,
    },
    /// A manifest or package URL could not be fetched.
    #[error("Can't download {url}: {message}\n\nhint: check the URL and your network connection")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A URL scheme other than `file`, `http` or `https`.
    #[error("Unsupported URL {0}\n\nhint: use a file://, http:// or https:// URL")]
    UnsupportedUrl(String),
    /// The package's digest differs from the manifest's.
    #[error(
        "Checksum did not match for {url} (expected {expected}, got {actual}), so the plugin was not installed\n\nhint: the package or its manifest is wrong; tell the plugin's author"
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
    #[error("Can't unpack plugin package {}: {message}\n\nhint: a plugin package must be a .tar.gz archive", .archive.display())]
    Extract {
        /// The archive.
        archive: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The package archive has an entry that would land outside the plugin's
    /// directory, or that is not a file, directory or link.
    #[error(
        "Refusing to install plugin package {}: its entry `{entry}` {problem}\n\nhint: the package is broken or malicious; tell the plugin's author",
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
    #[error(
        "Could not fetch the plugin index from {source_name}: {message}\n\nhint: check your network connection, or set SPIN_PLUGINS_INDEX to a reachable repository or a local directory"
    )]
    IndexUnreachable {
        /// The index source.
        source_name: String,
        /// Git's error output.
        message: String,
    },
    /// An index source without a `manifests/` directory.
    #[error(
        "{0} is not a plugin index: it has no `manifests` directory\n\nhint: point SPIN_PLUGINS_INDEX at a copy of the spin-plugins repository"
    )]
    InvalidIndex(String),
    /// The `git` program is missing.
    #[error(
        "`git` is not installed or not on PATH; it is needed to fetch the plugin index\n\nhint: install Git, or set SPIN_PLUGINS_INDEX to a local directory"
    )]
    GitNotFound,
    /// A file or directory could not be read or written.
    #[error("{}: {error}\n\nhint: check that the path exists and is writable", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}
