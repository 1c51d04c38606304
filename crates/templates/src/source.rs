//! Where templates are installed from: a Git repository (cloned with the
//! system `git`) or a local directory. Either holds a `templates/` folder
//! with one subfolder per template, or is itself a single template.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;
use crate::template::{Origin, Template, read_files};

const TEMPLATES_DIR: &str = "templates";

/// A place to install templates from.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateSource {
    /// A repository URL or path that `git clone` accepts.
    Git {
        /// The repository.
        url: String,
        /// A branch or tag to clone instead of the default branch.
        branch: Option<String>,
    },
    /// A directory on this machine.
    Directory(PathBuf),
}

impl TemplateSource {
    /// A Git source for `repo` as typed by the user: an existing local path
    /// is made absolute (so `upgrade` finds it again from anywhere), and
    /// `owner/name` is GitHub shorthand, as in Spin.
    pub fn git(repo: &str, branch: Option<String>) -> Self {
        let path = Path::new(repo);
        let url = if path.exists() {
            std::path::absolute(path).map_or_else(|_| repo.to_owned(), |p| p.display().to_string())
        } else if is_github_shorthand(repo) {
            format!("https://github.com/{repo}")
        } else {
            repo.to_owned()
        };
        Self::Git { url, branch }
    }

    /// A directory source, made absolute for the install record.
    pub fn directory(dir: &Path) -> Self {
        Self::Directory(std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned()))
    }
}

fn is_github_shorthand(repo: &str) -> bool {
    let mut parts = repo.split('/');
    let is_segment = |s: Option<&str>| {
        s.is_some_and(|s| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
    };
    is_segment(parts.next()) && is_segment(parts.next()) && parts.next().is_none()
}

/// Progress of an install, for the command line to report.
#[derive(Debug, PartialEq)]
pub enum InstallEvent<'a> {
    /// A repository is being cloned.
    CopyingRemoteSource,
    /// The repository could not be cloned, and the built-in copies of its
    /// templates are installed instead.
    UsingBuiltInCopy {
        /// The repository that failed.
        url: &'a str,
        /// Git's error output.
        reason: &'a str,
        /// The built-in templates used instead.
        template_ids: Vec<&'a str>,
    },
    /// A template is about to be copied into the store.
    Installing(&'a str),
}

/// The templates found in a source: loaded, or rejected with a reason.
pub(crate) type Found = Vec<Result<Template, (String, String)>>;

/// Loads every template in `source`. The clone, if any, is deleted on
/// return: templates are held in memory.
pub(crate) fn fetch(
    source: &TemplateSource,
    on_event: &mut dyn FnMut(InstallEvent),
) -> Result<Found, Error> {
    match source {
        TemplateSource::Directory(dir) => {
            if !dir.is_dir() {
                return Err(Error::SourceNotFound(dir.clone()));
            }
            load_all(dir, &Origin::Directory(dir.clone()))
        }
        TemplateSource::Git { url, branch } => {
            on_event(InstallEvent::CopyingRemoteSource);
            let clone = tempfile::tempdir().map_err(|error| Error::Io {
                path: std::env::temp_dir(),
                error,
            })?;
            match clone_repo(url, branch.as_deref(), clone.path()) {
                Ok(()) => load_all(
                    clone.path(),
                    &Origin::Git {
                        url: url.clone(),
                        offline_copy: false,
                    },
                ),
                Err(Error::GitClone { url, message }) => {
                    let Some(stand_ins) = crate::builtin::stand_ins_for(&url) else {
                        return Err(Error::GitClone { url, message });
                    };
                    on_event(InstallEvent::UsingBuiltInCopy {
                        url: &url,
                        reason: &message,
                        template_ids: stand_ins.iter().map(Template::id).collect(),
                    });
                    let origin = Origin::Git {
                        url: url.clone(),
                        offline_copy: true,
                    };
                    Ok(stand_ins
                        .into_iter()
                        .map(|t| {
                            Ok(Template {
                                origin: origin.clone(),
                                ..t
                            })
                        })
                        .collect())
                }
                Err(e) => Err(e),
            }
        }
    }
}

fn clone_repo(url: &str, branch: Option<&str>, dest: &Path) -> Result<(), Error> {
    let mut git = Command::new("git");
    // Never stop to ask for credentials: an unknown GitHub repository
    // would otherwise hang waiting for a username.
    git.env("GIT_TERMINAL_PROMPT", "0")
        .args(["clone", "--quiet", "--depth", "1"]);
    if let Some(branch) = branch {
        git.args(["--branch", branch]);
    }
    git.arg("--").arg(url).arg(dest);
    let output = git.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::GitNotFound,
        _ => Error::GitClone {
            url: url.to_owned(),
            message: e.to_string(),
        },
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::GitClone {
            url: url.to_owned(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// Finds the template directories of a source root: the subfolders of its
/// `templates/` folder, or the root itself if it is one template.
fn load_all(root: &Path, origin: &Origin) -> Result<Found, Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| Error::Io { path, error }
    };
    let templates_dir = root.join(TEMPLATES_DIR);
    let dirs = if templates_dir.is_dir() {
        let mut dirs = Vec::new();
        for entry in std::fs::read_dir(&templates_dir).map_err(io(&templates_dir))? {
            let path = entry.map_err(io(&templates_dir))?.path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
        dirs.sort();
        dirs
    } else if root.join("metadata").is_dir() {
        vec![root.to_owned()]
    } else {
        return Err(Error::NoTemplates(display_root(root, origin)));
    };

    dirs.into_iter()
        .map(|dir| {
            let name = dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let files = read_files(&dir).map_err(io(&dir))?;
            Ok(
                Template::from_files(&name, files, origin.clone()).map_err(|e| match e {
                    Error::InvalidTemplate { template, reason } => (template, reason),
                    other => (name.clone(), other.to_string()),
                }),
            )
        })
        .collect()
}

/// Names a source in errors by what the user typed, not by the temporary
/// clone it was read from.
fn display_root(root: &Path, origin: &Origin) -> String {
    match origin {
        Origin::Git { url, .. } => url.clone(),
        _ => root.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthand_means_github_but_paths_stay_paths() {
        assert_eq!(
            TemplateSource::git("fermyon/spin-python-sdk", None),
            TemplateSource::Git {
                url: "https://github.com/fermyon/spin-python-sdk".into(),
                branch: None
            }
        );
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().display().to_string();
        assert_eq!(
            TemplateSource::git(&url, Some("main".into())),
            TemplateSource::Git {
                url,
                branch: Some("main".into())
            }
        );
        for kept in [
            "https://example.com/a/b",
            "git@github.com:a/b.git",
            "/no/such/repo",
        ] {
            assert_eq!(
                TemplateSource::git(kept, None),
                TemplateSource::Git {
                    url: kept.into(),
                    branch: None
                }
            );
        }
    }
}
