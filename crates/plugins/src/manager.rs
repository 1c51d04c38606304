//! The plugins directory (`<data dir>/spin/plugins/`), laid out as Spin
//! lays it out so either can read it:
//!
//! ```text
//! manifests/<name>.json   the installed version's manifest
//! <name>/<name>           the executable, plus whatever else the package had
//! <name>/.install.json    where the plugin was installed from
//! .spin-plugins/          the index snapshot
//! ```

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;
use crate::builtin;
use crate::fetch;
use crate::index::{IndexSource, Snapshot, read_manifest};
use crate::manifest::{Compatibility, PluginManifest};

/// Names a plugin cannot take, because they are commands or aliases of the
/// CLI (ours and Spin's) and so would never reach the plugin.
const RESERVED_NAMES: &[&str] = &[
    "a",
    "add",
    "b",
    "build",
    "deploy",
    "doctor",
    "external",
    "help",
    "login",
    "n",
    "new",
    "oci",
    "plugin",
    "plugins",
    "registry",
    "template",
    "templates",
    "trigger",
    "u",
    "up",
    "watch",
];

const INDEX_SNAPSHOT_DIR: &str = ".spin-plugins";
const MANIFESTS_DIR: &str = "manifests";
const INSTALL_RECORD_FILE: &str = ".install.json";

/// Where a manifest being installed came from, recorded with the plugin.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestSource {
    /// The plugin index (or the built-in index).
    Index,
    /// A manifest file on this machine.
    File(PathBuf),
    /// A manifest URL.
    Url(String),
}

/// Spin's install record format, so Spin can read ours and vice versa.
#[derive(Serialize)]
#[serde(tag = "source")]
enum InstallRecord<'a> {
    PluginsRepository,
    BuiltIn,
    Remote { url: &'a str },
    Local { file: &'a Path },
}

/// What installing a manifest would do.
#[derive(Debug, PartialEq)]
pub enum InstallAction {
    /// Install it (first install, upgrade or allowed downgrade).
    Install,
    /// This exact version is already installed.
    AlreadyInstalled {
        /// The installed version.
        version: String,
    },
}

/// Installs, lists and removes plugins in one plugins directory, and looks
/// plugins up in the index.
#[derive(Debug, Clone)]
pub struct PluginManager {
    root: PathBuf,
    index_source: IndexSource,
}

impl PluginManager {
    /// A manager for the plugins directory `root` (usually
    /// `<data dir>/spin/plugins`), refreshing its index from `index_source`.
    pub fn new(root: impl Into<PathBuf>, index_source: IndexSource) -> Self {
        Self {
            root: root.into(),
            index_source,
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.root.join(INDEX_SNAPSHOT_DIR))
    }

    /// Whether an index has ever been fetched.
    pub fn has_index_snapshot(&self) -> bool {
        self.snapshot().exists()
    }

    /// Fetches the index afresh, returning how many manifests it has. On
    /// failure the previous snapshot, if any, stays in use.
    pub fn update_index(&self) -> Result<usize, Error> {
        self.snapshot().refresh(&self.index_source)
    }

    /// Every version of every plugin the index knows, built-in plugins
    /// included (and taking precedence over index entries of the same
    /// name), sorted by name and version.
    pub fn catalogue(&self) -> Vec<PluginManifest> {
        let mut all: Vec<_> = self
            .snapshot()
            .manifests()
            .into_iter()
            .filter(|m| !builtin::is_built_in(&m.name))
            .chain(builtin::manifests())
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version_cmp(b)));
        all
    }

    /// Finds `name` in the index: the given version, or the latest version
    /// compatible with `spin_version` (the latest at all if none is). The
    /// index is fetched first if there is no snapshot yet.
    pub fn lookup(
        &self,
        name: &str,
        version: Option<&semver::Version>,
        spin_version: &semver::Version,
    ) -> Result<PluginManifest, Error> {
        crate::check_name(name)?;
        let name = name.to_lowercase();
        if let Some(built_in) = builtin::manifest(&name) {
            return match version {
                Some(v) if built_in.semver().as_ref() != Some(v) => Err(Error::VersionNotFound {
                    name,
                    version: v.to_string(),
                    available: vec![built_in.version],
                }),
                _ => Ok(built_in),
            };
        }

        let snapshot = self.snapshot();
        if !snapshot.exists()
            && let Err(e) = self.update_index()
        {
            return Err(Error::NotInIndex {
                name,
                index_problem: Some(Box::new(e)),
            });
        }
        let versions: Vec<_> = snapshot
            .manifests()
            .into_iter()
            .filter(|m| m.normalized_name() == name)
            .collect();
        let Some(exact) = snapshot.exact(&name, version) else {
            return Err(match version {
                Some(v) if !versions.is_empty() => Error::VersionNotFound {
                    name,
                    version: v.to_string(),
                    available: versions.into_iter().map(|m| m.version).collect(),
                },
                _ => Error::NotInIndex {
                    name,
                    index_problem: None,
                },
            });
        };
        if version.is_some() || exact.compatibility(spin_version) == Compatibility::Compatible {
            return Ok(exact);
        }
        Ok(versions
            .into_iter()
            .filter(|m| m.compatibility(spin_version) == Compatibility::Compatible)
            .max_by(|a, b| a.version_cmp(b))
            .unwrap_or(exact))
    }

    /// The manifests of all installed plugins, sorted by name. Unreadable
    /// manifests are skipped.
    pub fn installed(&self) -> Vec<PluginManifest> {
        let Ok(entries) = std::fs::read_dir(self.root.join(MANIFESTS_DIR)) else {
            return vec![];
        };
        let mut installed: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter_map(|p| read_manifest(&p).ok())
            .collect();
        installed.sort_by(|a, b| a.name.cmp(&b.name));
        installed
    }

    /// The installed manifest of `name`, if it is installed.
    pub fn installed_manifest(&self, name: &str) -> Result<Option<PluginManifest>, Error> {
        crate::check_name(name)?;
        let path = self.installed_manifest_path(name);
        if path.is_file() {
            read_manifest(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Decides whether `manifest` may be installed: its name must be free,
    /// it must not downgrade the installed version unless `allow_downgrade`,
    /// and it must run here unless `override_compatibility`.
    pub fn check_install(
        &self,
        manifest: &PluginManifest,
        spin_version: &semver::Version,
        override_compatibility: bool,
        allow_downgrade: bool,
    ) -> Result<InstallAction, Error> {
        manifest.check_name()?;
        let name = manifest.normalized_name();
        if RESERVED_NAMES.contains(&name.as_str())
            || (builtin::is_built_in(&name) && builtin::manifest(&name).as_ref() != Some(manifest))
        {
            return Err(Error::ReservedName(name));
        }
        if let Some(installed) = self.installed_manifest(&name)? {
            if &installed == manifest {
                return Ok(InstallAction::AlreadyInstalled {
                    version: installed.version,
                });
            }
            if installed.version_cmp(manifest).is_gt() && !allow_downgrade {
                return Err(Error::Downgrade {
                    name,
                    installed: installed.version,
                    requested: manifest.version.clone(),
                });
            }
        }
        match manifest.compatibility(spin_version) {
            Compatibility::Compatible => Ok(InstallAction::Install),
            Compatibility::NoPackage => Err(Error::NoPackage {
                name,
                os: std::env::consts::OS,
                arch: std::env::consts::ARCH,
            }),
            Compatibility::IncompatibleSpin(_) if override_compatibility => {
                Ok(InstallAction::Install)
            }
            Compatibility::IncompatibleSpin(requirement) => Err(Error::Incompatible {
                name,
                version: manifest.version.clone(),
                requirement,
                spin_version: spin_version.to_string(),
            }),
        }
    }

    /// Installs `manifest`: downloads and verifies its package for this
    /// machine, unpacks it into the plugin's directory (replacing any
    /// previous version only once everything succeeded) and records the
    /// manifest. Built-in plugins are only recorded. Call
    /// [`check_install`](Self::check_install) first.
    pub fn install(&self, manifest: &PluginManifest, source: &ManifestSource) -> Result<(), Error> {
        // The name becomes paths below `root`; checked here too so that no
        // caller can skip it.
        manifest.check_name()?;
        let name = manifest.normalized_name();
        let io = |path: &Path| {
            let path = path.to_owned();
            move |error| Error::Io { path, error }
        };
        std::fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let work = tempfile::Builder::new()
            .prefix(&format!(".{name}-install"))
            .tempdir_in(&self.root)
            .map_err(io(&self.root))?;
        let staged = work.path().join(&name);

        if builtin::is_built_in(&name) {
            std::fs::create_dir_all(&staged).map_err(io(&staged))?;
        } else {
            let package = manifest
                .package_for_this_machine()
                .ok_or(Error::NoPackage {
                    name: name.clone(),
                    os: std::env::consts::OS,
                    arch: std::env::consts::ARCH,
                })?;
            let archive = fetch::package(&package.url, &package.sha256, work.path())?;
            fetch::unpack(&archive, &staged)?;
        }

        let record = match (source, builtin::is_built_in(&name)) {
            (_, true) => InstallRecord::BuiltIn,
            (ManifestSource::Index, false) => InstallRecord::PluginsRepository,
            (ManifestSource::Url(url), false) => InstallRecord::Remote { url },
            (ManifestSource::File(file), false) => InstallRecord::Local { file },
        };
        let record_path = staged.join(INSTALL_RECORD_FILE);
        let record = serde_json::to_string_pretty(&record).expect("install records serialise");
        std::fs::write(&record_path, record).map_err(io(&record_path))?;

        let dest = self.plugin_dir(&name);
        if dest.exists() {
            std::fs::rename(&dest, work.path().join("previous")).map_err(io(&dest))?;
        }
        std::fs::rename(&staged, &dest).map_err(io(&dest))?;

        let manifests_dir = self.root.join(MANIFESTS_DIR);
        std::fs::create_dir_all(&manifests_dir).map_err(io(&manifests_dir))?;
        let manifest_path = self.installed_manifest_path(&name);
        let json = serde_json::to_string_pretty(manifest).expect("manifests serialise");
        std::fs::write(&manifest_path, json).map_err(io(&manifest_path))
    }

    /// Removes a plugin. Returns `false` if it was not installed.
    pub fn uninstall(&self, name: &str) -> Result<bool, Error> {
        crate::check_name(name)?;
        let name = name.to_lowercase();
        let manifest = self.installed_manifest_path(&name);
        if !manifest.exists() {
            return Ok(false);
        }
        std::fs::remove_file(&manifest).map_err(|error| Error::Io {
            path: manifest,
            error,
        })?;
        let dir = self.plugin_dir(&name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|error| Error::Io { path: dir, error })?;
        }
        Ok(true)
    }

    /// The directory a plugin's package is unpacked into.
    pub fn plugin_dir(&self, name: &str) -> PathBuf {
        self.root.join(name.to_lowercase())
    }

    /// The plugin's executable: `<name>/<name>` (`.exe` on Windows).
    pub fn executable_path(&self, name: &str) -> PathBuf {
        let name = name.to_lowercase();
        let mut path = self.plugin_dir(&name).join(&name);
        if cfg!(windows) {
            path.set_extension("exe");
        }
        path
    }

    fn installed_manifest_path(&self, name: &str) -> PathBuf {
        self.root
            .join(MANIFESTS_DIR)
            .join(format!("{}.json", name.to_lowercase()))
    }
}

/// Reads a plugin manifest file (`spin plugins install --file`).
pub fn manifest_from_file(path: &Path) -> Result<PluginManifest, Error> {
    read_manifest(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::tests::make_package;
    use crate::index::tests::write_index;
    use crate::manifest::tests::manifest;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    fn packaged(dir: &Path, name: &str, version: &str, script: &str) -> PluginManifest {
        let pkg_dir = dir.join(format!("{name}-{version}"));
        std::fs::create_dir_all(&pkg_dir).unwrap();
        let (archive, sha) = make_package(&pkg_dir, &[(name, script, 0o755)]);
        let mut m = manifest(name, version, ">=1.0");
        m.packages[0].url = format!("file://{}", archive.display());
        m.packages[0].sha256 = sha;
        m
    }

    #[test]
    fn installs_upgrades_and_uninstalls_a_packaged_plugin() {
        let data = tempfile::tempdir().unwrap();
        let manager = PluginManager::new(data.path().join("plugins"), IndexSource::default());
        let m1 = packaged(data.path(), "hello", "1.0.0", "#!/bin/sh\necho one\n");

        assert_eq!(
            manager
                .check_install(&m1, &v("1.5.1"), false, false)
                .unwrap(),
            InstallAction::Install
        );
        manager
            .install(&m1, &ManifestSource::File("/x/hello.json".into()))
            .unwrap();
        assert_eq!(manager.installed(), std::slice::from_ref(&m1));
        let exe = manager.executable_path("hello");
        assert_eq!(
            std::fs::read_to_string(&exe).unwrap(),
            "#!/bin/sh\necho one\n"
        );
        let record =
            std::fs::read_to_string(manager.plugin_dir("hello").join(".install.json")).unwrap();
        assert!(
            record.contains("\"Local\"") && record.contains("/x/hello.json"),
            "{record}"
        );

        assert_eq!(
            manager
                .check_install(&m1, &v("1.5.1"), false, false)
                .unwrap(),
            InstallAction::AlreadyInstalled {
                version: "1.0.0".into()
            }
        );

        let m2 = packaged(data.path(), "hello", "2.0.0", "#!/bin/sh\necho two\n");
        manager.install(&m2, &ManifestSource::Index).unwrap();
        assert_eq!(
            std::fs::read_to_string(&exe).unwrap(),
            "#!/bin/sh\necho two\n"
        );
        assert!(matches!(
            manager.check_install(&m1, &v("1.5.1"), false, false),
            Err(Error::Downgrade { .. })
        ));
        assert_eq!(
            manager
                .check_install(&m1, &v("1.5.1"), false, true)
                .unwrap(),
            InstallAction::Install
        );

        assert!(manager.uninstall("HELLO").unwrap());
        assert!(!exe.exists());
        assert!(manager.installed().is_empty());
        assert!(!manager.uninstall("hello").unwrap());
    }

    #[test]
    fn a_bad_checksum_leaves_the_installed_version_alone() {
        let data = tempfile::tempdir().unwrap();
        let manager = PluginManager::new(data.path().join("plugins"), IndexSource::default());
        let good = packaged(data.path(), "hello", "1.0.0", "#!/bin/sh\necho one\n");
        manager.install(&good, &ManifestSource::Index).unwrap();

        let mut bad = packaged(data.path(), "hello", "2.0.0", "#!/bin/sh\necho two\n");
        bad.packages[0].sha256 = "0".repeat(64);
        assert!(matches!(
            manager.install(&bad, &ManifestSource::Index),
            Err(Error::Checksum { .. })
        ));
        assert_eq!(manager.installed(), [good]);
        assert_eq!(
            std::fs::read_to_string(manager.executable_path("hello")).unwrap(),
            "#!/bin/sh\necho one\n"
        );
    }

    #[test]
    fn refuses_reserved_names_incompatible_and_foreign_plugins() {
        let data = tempfile::tempdir().unwrap();
        let manager = PluginManager::new(data.path(), IndexSource::default());
        let spin = v("1.5.1");
        assert!(matches!(
            manager.check_install(&manifest("build", "1.0.0", ">=1.0"), &spin, false, false),
            Err(Error::ReservedName(_))
        ));
        assert!(matches!(
            manager.check_install(&manifest("py2wasm", "9.0.0", ">=1.0"), &spin, false, false),
            Err(Error::ReservedName(_))
        ));
        let future = manifest("future", "1.0.0", ">=9.0");
        assert!(matches!(
            manager.check_install(&future, &spin, false, false),
            Err(Error::Incompatible { .. })
        ));
        assert_eq!(
            manager.check_install(&future, &spin, true, false).unwrap(),
            InstallAction::Install
        );
        let mut foreign = manifest("foreign", "1.0.0", ">=1.0");
        foreign.packages.clear();
        assert!(matches!(
            manager.check_install(&foreign, &spin, true, false),
            Err(Error::NoPackage { .. })
        ));
    }

    #[test]
    fn names_that_are_paths_touch_nothing_outside_the_store() {
        let data = tempfile::tempdir().unwrap();
        let root = data.path().join("store/plugins");
        let victim = data.path().join("victim");
        std::fs::create_dir_all(&victim).unwrap();
        std::fs::write(victim.join("canary"), "alive").unwrap();
        std::fs::write(data.path().join("victim.json"), "{}").unwrap();
        let index = data.path().join("index");
        let mut evil = packaged(data.path(), "evil", "1.0.0", "#!/bin/sh\n");
        evil.name = "../../../victim".into();
        // Not `write_index`: it would file the entry under its name.
        std::fs::create_dir_all(index.join("manifests/evil")).unwrap();
        std::fs::write(
            index.join("manifests/evil/evil.json"),
            serde_json::to_string(&evil).unwrap(),
        )
        .unwrap();
        let manager = PluginManager::new(&root, IndexSource::Directory(index));
        let spin = v("1.5.1");

        let invalid = |r: Result<_, Error>| matches!(r, Err(Error::InvalidName { .. }));
        assert!(invalid(
            manager
                .check_install(&evil, &spin, false, false)
                .map(|_| ())
        ));
        assert!(invalid(manager.install(&evil, &ManifestSource::Index)));
        assert!(invalid(manager.uninstall("../../../victim").map(|_| ())));
        assert!(invalid(manager.lookup("../x", None, &spin).map(|_| ())));
        // An index entry with such a name is skipped like a broken one.
        assert!(matches!(
            manager.lookup("evil", None, &spin),
            Err(Error::NotInIndex { .. })
        ));
        assert!(manager.catalogue().iter().all(|m| m.name != evil.name));

        assert_eq!(
            std::fs::read_to_string(victim.join("canary")).unwrap(),
            "alive"
        );
        assert!(data.path().join("victim.json").exists());
    }

    #[test]
    fn the_built_in_py2wasm_installs_without_an_index_or_network() {
        let data = tempfile::tempdir().unwrap();
        let manager = PluginManager::new(
            data.path(),
            IndexSource::Git(data.path().join("unreachable").display().to_string()),
        );
        let py2wasm = manager.lookup("Py2Wasm", None, &v("1.5.1")).unwrap();
        assert_eq!(
            manager
                .check_install(&py2wasm, &v("1.5.1"), false, false)
                .unwrap(),
            InstallAction::Install
        );
        manager.install(&py2wasm, &ManifestSource::Index).unwrap();
        assert_eq!(
            manager.installed_manifest("py2wasm").unwrap(),
            Some(py2wasm.clone())
        );
        let record =
            std::fs::read_to_string(manager.plugin_dir("py2wasm").join(".install.json")).unwrap();
        assert!(record.contains("BuiltIn"), "{record}");
        assert!(!manager.has_index_snapshot());
    }

    #[test]
    fn lookup_prefers_the_latest_compatible_version() {
        let data = tempfile::tempdir().unwrap();
        let index = data.path().join("index");
        write_index(
            &index,
            &[
                ("tool.json", manifest("tool", "3.0.0", ">=9.0")),
                ("tool@2.0.0.json", manifest("tool", "2.0.0", ">=1.0")),
                ("tool@1.0.0.json", manifest("tool", "1.0.0", ">=1.0")),
            ],
        );
        let manager =
            PluginManager::new(data.path().join("plugins"), IndexSource::Directory(index));
        let spin = v("1.5.1");
        assert_eq!(
            manager.lookup("tool", None, &spin).unwrap().version,
            "2.0.0"
        );
        assert_eq!(
            manager
                .lookup("tool", Some(&v("3.0.0")), &spin)
                .unwrap()
                .version,
            "3.0.0"
        );
        assert_eq!(
            manager
                .lookup("tool", Some(&v("1.0.0")), &spin)
                .unwrap()
                .version,
            "1.0.0"
        );
        assert!(matches!(
            manager.lookup("tool", Some(&v("4.0.0")), &spin),
            Err(Error::VersionNotFound { .. })
        ));
        assert!(matches!(
            manager.lookup("nope", None, &spin),
            Err(Error::NotInIndex {
                index_problem: None,
                ..
            })
        ));
        let names: Vec<_> = manager
            .catalogue()
            .into_iter()
            .map(|m| (m.name, m.version))
            .collect();
        assert_eq!(names[0].0, "py2wasm");
        assert_eq!(names.len(), 4);
    }

    #[test]
    fn lookup_without_a_reachable_index_says_why() {
        let data = tempfile::tempdir().unwrap();
        let manager = PluginManager::new(
            data.path(),
            IndexSource::Git(data.path().join("unreachable").display().to_string()),
        );
        let err = manager.lookup("tool", None, &v("1.5.1")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotInIndex {
                    index_problem: Some(_),
                    ..
                }
            ),
            "{err}"
        );
    }
}
