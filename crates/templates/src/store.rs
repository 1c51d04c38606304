//! The template store: installed templates, one directory each under the
//! store root (`<data dir>/spin/templates/<id>/`), alongside the built-in
//! set. An installed template shadows a built-in one with the same ID.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::source::{InstallEvent, TemplateSource, fetch};
use crate::template::{Origin, Template, read_files};

/// Records where an installed template came from, inside its directory.
pub(crate) const INSTALL_RECORD_FILE: &str = ".install.toml";

#[derive(Serialize, Deserialize, Default)]
struct InstallRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    git: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    offline_copy: bool,
}

impl InstallRecord {
    fn from_origin(origin: &Origin) -> Self {
        match origin {
            Origin::Git { url, offline_copy } => Self {
                git: Some(url.clone()),
                offline_copy: *offline_copy,
                ..Self::default()
            },
            Origin::Directory(dir) => Self {
                dir: Some(dir.clone()),
                ..Self::default()
            },
            Origin::BuiltIn | Origin::Unknown => Self::default(),
        }
    }

    fn into_origin(self) -> Origin {
        match (self.git, self.dir) {
            (Some(url), _) => Origin::Git {
                url,
                offline_copy: self.offline_copy,
            },
            (None, Some(dir)) => Origin::Directory(dir),
            (None, None) => Origin::Unknown,
        }
    }
}

/// Installed and built-in templates, plus installed entries that failed to
/// load.
#[derive(Debug)]
pub struct ListResults {
    /// Usable templates, sorted by ID.
    pub templates: Vec<Template>,
    /// (directory name, reason) for installed templates that are broken.
    pub warnings: Vec<(String, String)>,
}

/// Why a template in a source was not installed.
#[derive(Debug, PartialEq)]
pub enum SkippedReason {
    /// A template with that ID is installed and `update` was not asked for.
    AlreadyExists,
    /// The template is broken; the text says how.
    Invalid(String),
}

/// The outcome of an install.
#[derive(Debug)]
pub struct InstallResults {
    /// Templates copied into the store, sorted by ID.
    pub installed: Vec<Template>,
    /// (ID or directory name, reason) for templates left alone.
    pub skipped: Vec<(String, SkippedReason)>,
}

/// Lists, installs and removes templates in one store directory.
#[derive(Debug, Clone)]
pub struct TemplateManager {
    root: PathBuf,
}

impl TemplateManager {
    /// A manager for the store at `root`, usually
    /// `<data dir>/spin/templates`. The directory is created on first install.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Every usable template: installed ones, then built-in ones whose IDs
    /// are not installed.
    pub fn list(&self) -> Result<ListResults, Error> {
        let mut templates = Vec::new();
        let mut warnings = Vec::new();
        for dir in self.installed_dirs()? {
            let name = dir_name(&dir);
            match load_installed(&dir) {
                Ok(template) => templates.push(template),
                Err(Error::InvalidTemplate { reason, .. }) => warnings.push((name, reason)),
                Err(e) => warnings.push((name, e.to_string())),
            }
        }
        for built_in in crate::builtin::templates() {
            if !templates.iter().any(|t| t.id() == built_in.id()) {
                templates.push(built_in);
            }
        }
        templates.sort_by(|a, b| a.id().cmp(b.id()));
        Ok(ListResults {
            templates,
            warnings,
        })
    }

    /// The template with ID `id`, installed or built in.
    pub fn get(&self, id: &str) -> Result<Option<Template>, Error> {
        if crate::manifest::is_valid_id(id) {
            let dir = self.root.join(id);
            if dir.is_dir() {
                return load_installed(&dir).map(Some);
            }
        }
        Ok(crate::builtin::templates()
            .into_iter()
            .find(|t| t.id() == id))
    }

    /// Installs every template in `source`. Templates already installed
    /// are skipped unless `update` is set, in which case they are replaced.
    pub fn install(
        &self,
        source: &TemplateSource,
        update: bool,
        on_event: &mut dyn FnMut(InstallEvent),
    ) -> Result<InstallResults, Error> {
        let mut installed = Vec::new();
        let mut skipped = Vec::new();
        for found in fetch(source, on_event)? {
            let template = match found {
                Ok(template) => template,
                Err((name, reason)) => {
                    skipped.push((name, SkippedReason::Invalid(reason)));
                    continue;
                }
            };
            on_event(InstallEvent::Installing(template.id()));
            let dest = self.root.join(template.id());
            if dest.exists() && !update {
                skipped.push((template.id().to_owned(), SkippedReason::AlreadyExists));
                continue;
            }
            self.copy_in(&template, &dest)?;
            installed.push(template);
        }
        installed.sort_by(|a, b| a.id().cmp(b.id()));
        skipped.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(InstallResults { installed, skipped })
    }

    /// Removes an installed template. A built-in template of the same ID,
    /// if any, becomes visible again.
    pub fn uninstall(&self, id: &str) -> Result<(), Error> {
        let dir = self.root.join(id);
        if !crate::manifest::is_valid_id(id) || !dir.is_dir() {
            return Err(
                if crate::builtin::templates().iter().any(|t| t.id() == id) {
                    Error::BuiltIn(id.to_owned())
                } else {
                    Error::NotInstalled(id.to_owned())
                },
            );
        }
        std::fs::remove_dir_all(&dir).map_err(|error| Error::Io { path: dir, error })
    }

    /// The distinct Git repositories installed templates came from, sorted,
    /// for `spin templates upgrade`.
    pub fn git_sources(&self) -> Result<Vec<String>, Error> {
        let mut urls: Vec<String> = self
            .list()?
            .templates
            .iter()
            .filter_map(|t| match t.origin() {
                Origin::Git { url, .. } => Some(url.clone()),
                _ => None,
            })
            .collect();
        urls.sort();
        urls.dedup();
        Ok(urls)
    }

    fn installed_dirs(&self) -> Result<Vec<PathBuf>, Error> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(error) => {
                return Err(Error::Io {
                    path: self.root.clone(),
                    error,
                });
            }
        };
        let mut dirs: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            // Dot-directories are half-finished installs.
            .filter(|p| p.is_dir() && !dir_name(p).starts_with('.'))
            .collect();
        dirs.sort();
        Ok(dirs)
    }

    /// Writes the template next to its final place, then swaps it in, so a
    /// failed update leaves the previous copy intact.
    fn copy_in(&self, template: &Template, dest: &Path) -> Result<(), Error> {
        let staging = self.root.join(format!(".{}.staging", template.id()));
        let previous = self.root.join(format!(".{}.previous", template.id()));
        let io = |path: &Path| {
            let path = path.to_owned();
            move |error| Error::Io { path, error }
        };
        for leftover in [&staging, &previous] {
            if leftover.exists() {
                std::fs::remove_dir_all(leftover).map_err(io(leftover))?;
            }
        }
        template.write_to(&staging).map_err(io(&staging))?;
        let record = toml::to_string(&InstallRecord::from_origin(template.origin()))
            .expect("install records serialise");
        let record_path = staging.join(INSTALL_RECORD_FILE);
        std::fs::write(&record_path, record).map_err(io(&record_path))?;

        if dest.exists() {
            std::fs::rename(dest, &previous).map_err(io(dest))?;
        }
        std::fs::rename(&staging, dest).map_err(io(dest))?;
        if previous.exists() {
            std::fs::remove_dir_all(&previous).map_err(io(&previous))?;
        }
        Ok(())
    }
}

fn dir_name(dir: &Path) -> String {
    dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn load_installed(dir: &Path) -> Result<Template, Error> {
    let files = read_files(dir).map_err(|error| Error::Io {
        path: dir.to_owned(),
        error,
    })?;
    let origin = std::fs::read_to_string(dir.join(INSTALL_RECORD_FILE))
        .ok()
        .and_then(|text| toml::from_str::<InstallRecord>(&text).ok())
        .map_or(Origin::Unknown, InstallRecord::into_origin);
    Template::from_files(&dir_name(dir), files, origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_template(root: &Path, id: &str, description: &str) {
        let dir = root.join("templates").join(id);
        std::fs::create_dir_all(dir.join("metadata")).unwrap();
        std::fs::create_dir_all(dir.join("content")).unwrap();
        std::fs::write(
            dir.join("metadata/spin-template.toml"),
            format!("manifest_version = \"1\"\nid = \"{id}\"\ndescription = \"{description}\"\n"),
        )
        .unwrap();
        std::fs::write(dir.join("content/hello.txt"), "hello {{project-name}}").unwrap();
    }

    fn install(manager: &TemplateManager, dir: &Path, update: bool) -> InstallResults {
        let mut events = Vec::new();
        let results = manager
            .install(&TemplateSource::directory(dir), update, &mut |e| {
                events.push(format!("{e:?}"))
            })
            .unwrap();
        assert!(
            !events.iter().any(|e| e.contains("CopyingRemote")),
            "{events:?}"
        );
        results
    }

    #[test]
    fn installs_lists_skips_updates_and_uninstalls() {
        let store = tempfile::tempdir().unwrap();
        let source = tempfile::tempdir().unwrap();
        write_template(source.path(), "greet", "Greets");
        write_template(source.path(), "http-empty", "My own empty app");
        let manager = TemplateManager::new(store.path().join("templates"));

        let results = install(&manager, source.path(), false);
        let ids: Vec<_> = results.installed.iter().map(Template::id).collect();
        assert_eq!(ids, ["greet", "http-empty"]);

        let list = manager.list().unwrap();
        let listed: Vec<_> = list
            .templates
            .iter()
            .map(|t| (t.id(), t.description().unwrap(), t.origin().to_string()))
            .collect();
        let source_dir = source.path().display().to_string();
        assert_eq!(
            listed,
            [
                ("greet", "Greets", source_dir.clone()),
                ("http-empty", "My own empty app", source_dir.clone()),
                (
                    "http-py",
                    "HTTP request handler using Python",
                    "built-in".into()
                ),
            ]
        );

        write_template(source.path(), "greet", "Greets better");
        let again = install(&manager, source.path(), false);
        assert!(again.installed.is_empty());
        assert_eq!(
            again.skipped[0],
            ("greet".into(), SkippedReason::AlreadyExists)
        );
        assert_eq!(
            manager.get("greet").unwrap().unwrap().description(),
            Some("Greets")
        );

        install(&manager, source.path(), true);
        assert_eq!(
            manager.get("greet").unwrap().unwrap().description(),
            Some("Greets better")
        );

        manager.uninstall("http-empty").unwrap();
        assert_eq!(
            manager.get("http-empty").unwrap().unwrap().origin(),
            &Origin::BuiltIn,
            "the built-in template is visible again"
        );
        assert!(matches!(
            manager.uninstall("http-empty"),
            Err(Error::BuiltIn(_))
        ));
        assert!(matches!(
            manager.uninstall("nope"),
            Err(Error::NotInstalled(_))
        ));
    }

    #[test]
    fn broken_templates_are_skipped_with_a_reason() {
        let store = tempfile::tempdir().unwrap();
        let source = tempfile::tempdir().unwrap();
        write_template(source.path(), "good", "Good");
        std::fs::create_dir_all(source.path().join("templates/bad/metadata")).unwrap();
        std::fs::write(
            source
                .path()
                .join("templates/bad/metadata/spin-template.toml"),
            "id = \"bad\"",
        )
        .unwrap();

        let manager = TemplateManager::new(store.path());
        let results = install(&manager, source.path(), false);
        assert_eq!(results.installed.len(), 1);
        let (name, reason) = &results.skipped[0];
        assert_eq!(name, "bad");
        assert!(matches!(reason, SkippedReason::Invalid(r) if r.contains("manifest_version")));
    }

    #[test]
    fn a_directory_without_templates_is_an_error() {
        let store = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let err = TemplateManager::new(store.path())
            .install(&TemplateSource::directory(empty.path()), false, &mut |_| {})
            .unwrap_err();
        assert!(matches!(err, Error::NoTemplates(_)), "{err}");
    }
}
