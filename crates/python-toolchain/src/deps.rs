//! The app's third-party Python packages: from `requirements.txt` or a
//! Pipfile's `[packages]`, installed once per distinct list into the cache,
//! and from the active virtual environment.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, io_error};
use crate::toolchain::{self, COMPONENTIZE_PY_VERSION, GUEST_PYTHON_VERSION, Toolchain};

/// Where the app's dependencies are declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Declared {
    /// The file they come from.
    pub(crate) file: PathBuf,
    /// What pip is told to install.
    pub(crate) request: PipRequest,
    /// Identifies the installed set: equal keys, equal installs.
    pub(crate) key: String,
}

/// pip's input: a requirements file, or requirement strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PipRequest {
    /// `-r requirements.txt`.
    File(PathBuf),
    /// Requirement specifiers, e.g. `humanize==4.9.0`.
    Specifiers(Vec<String>),
}

/// Finds the declared dependencies in `project`: `requirements.txt` if there
/// is one, else the Pipfile's `[packages]`. `None` when neither lists any,
/// like the empty Pipfile of the `http-py` template.
pub(crate) fn declared(project: &Path) -> Result<Option<Declared>, Error> {
    let requirements = project.join("requirements.txt");
    if requirements.is_file() {
        let text = fs::read(&requirements).map_err(io_error("read", &requirements))?;
        if !String::from_utf8_lossy(&text)
            .lines()
            .any(is_requirement_line)
        {
            return Ok(None);
        }
        return Ok(Some(Declared {
            key: key(&text),
            request: PipRequest::File(requirements.clone()),
            file: requirements,
        }));
    }
    let pipfile = project.join("Pipfile");
    if pipfile.is_file() {
        let text = fs::read_to_string(&pipfile).map_err(io_error("read", &pipfile))?;
        let specifiers = pipfile_packages(&pipfile, &text)?;
        if specifiers.is_empty() {
            return Ok(None);
        }
        return Ok(Some(Declared {
            key: key(specifiers.join("\n").as_bytes()),
            request: PipRequest::Specifiers(specifiers),
            file: pipfile,
        }));
    }
    Ok(None)
}

fn is_requirement_line(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty() && !line.starts_with('#')
}

/// The install key covers the declaration and the target interpreter.
fn key(declaration: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(COMPONENTIZE_PY_VERSION.as_bytes());
    hasher.update(GUEST_PYTHON_VERSION.as_bytes());
    hasher.update(declaration);
    hex::encode(hasher.finalize())
}

/// Turns a Pipfile's `[packages]` into pip requirement specifiers.
fn pipfile_packages(path: &Path, text: &str) -> Result<Vec<String>, Error> {
    let invalid = |message: String| Error::InvalidPipfile {
        path: path.to_owned(),
        message,
    };
    let document: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(e.message().to_owned()))?;
    let Some(packages) = document.get("packages") else {
        return Ok(Vec::new());
    };
    let packages = packages
        .as_table()
        .ok_or_else(|| invalid("`packages` is not a table".into()))?;
    packages
        .iter()
        .map(|(name, spec)| match spec {
            toml::Value::String(version) => Ok(requirement(name, &[], version)),
            toml::Value::Table(table) => {
                if ["git", "path", "file", "editable"]
                    .iter()
                    .any(|k| table.contains_key(*k))
                {
                    return Err(Error::UnsupportedPipfileEntry {
                        path: path.to_owned(),
                        name: name.clone(),
                    });
                }
                let version = table
                    .get("version")
                    .and_then(toml::Value::as_str)
                    .unwrap_or("*");
                let extras: Vec<&str> = table
                    .get("extras")
                    .and_then(toml::Value::as_array)
                    .map(|extras| extras.iter().filter_map(toml::Value::as_str).collect())
                    .unwrap_or_default();
                let mut requirement = requirement(name, &extras, version);
                if let Some(markers) = table.get("markers").and_then(toml::Value::as_str) {
                    requirement = format!("{requirement}; {markers}");
                }
                Ok(requirement)
            }
            other => Err(invalid(format!(
                "package `{name}` has a {} where a version was expected",
                other.type_str()
            ))),
        })
        .collect()
}

fn requirement(name: &str, extras: &[&str], version: &str) -> String {
    let extras = if extras.is_empty() {
        String::new()
    } else {
        format!("[{}]", extras.join(","))
    };
    let version = version.trim();
    let version = if version == "*" { "" } else { version };
    format!("{name}{extras}{version}")
}

impl Declared {
    /// Where this set is installed under `cache`.
    pub(crate) fn dir_in(&self, cache: &Path) -> PathBuf {
        cache.join("deps").join(&self.key[..16])
    }

    /// Installs the set under `cache` unless it already is, and returns the
    /// directory to add to the python path.
    ///
    /// Only pure-Python wheels qualify: componentize-py cannot load native
    /// extensions built for the host, so pip is asked for `py3-none-any`
    /// wheels for the guest's Python version, and fails clearly otherwise.
    pub(crate) fn install(&self, cache: &Path, toolchain: &Toolchain) -> Result<PathBuf, Error> {
        let dir = self.dir_in(cache);
        let parent = dir.parent().expect("has a parent");
        let _lock = toolchain::install_lock(parent)?;
        if dir.is_dir() {
            return Ok(dir);
        }
        let staging = tempfile::Builder::new()
            .prefix(".install-")
            .tempdir_in(parent)
            .map_err(io_error("create a directory in", parent))?;

        let mut pip = toolchain.pip();
        pip.arg("--target").arg(staging.path()).args([
            "--only-binary=:all:",
            "--platform",
            "any",
            "--implementation",
            "py",
            "--abi",
            "none",
            "--python-version",
            GUEST_PYTHON_VERSION,
        ]);
        match &self.request {
            PipRequest::File(file) => pip.arg("-r").arg(file),
            PipRequest::Specifiers(specifiers) => pip.args(specifiers),
        };
        let output = toolchain::run(&mut pip, &toolchain.python())?;
        if !output.status.success() {
            return Err(Error::DependencyInstallFailed {
                file: self.file.clone(),
                output: toolchain::tail(&output),
            });
        }
        let staged = staging.keep();
        fs::rename(&staged, &dir).map_err(io_error("move the installed packages to", &dir))?;
        Ok(dir)
    }
}

/// The `site-packages` directory of the virtual environment at `venv`.
pub(crate) fn site_packages(venv: &Path) -> Option<PathBuf> {
    let windows = venv.join("Lib").join("site-packages");
    if windows.is_dir() {
        return Some(windows);
    }
    let mut candidates: Vec<PathBuf> = fs::read_dir(venv.join("lib"))
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("site-packages")))
        .filter(|path| path.is_dir())
        .collect();
    candidates.sort();
    candidates.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn template_pipfile_declares_nothing() {
        let dir = project(&[(
            "Pipfile",
            "[[source]]\nurl = \"https://pypi.org/simple\"\nverify_ssl = true\nname = \"pypi\"\n\n\
             [packages]\n\n[dev-packages]\n\n[requires]\npython_version = \"3.10\"\n",
        )]);
        assert_eq!(declared(dir.path()).unwrap(), None);
    }

    #[test]
    fn pipfile_entries_become_specifiers() {
        let dir = project(&[(
            "Pipfile",
            "[packages]\nhumanize = \"*\"\nrequests = \"==2.31.0\"\n\
             httpx = { version = \">=0.27\", extras = [\"http2\"], markers = \"python_version >= '3.8'\" }\n",
        )]);
        let found = declared(dir.path()).unwrap().unwrap();
        assert_eq!(
            found.request,
            PipRequest::Specifiers(vec![
                "httpx[http2]>=0.27; python_version >= '3.8'".into(),
                "humanize".into(),
                "requests==2.31.0".into(),
            ])
        );
        assert!(found.file.ends_with("Pipfile"));
    }

    #[test]
    fn pipfile_git_entry_is_refused_with_a_hint() {
        let dir = project(&[(
            "Pipfile",
            "[packages]\nmine = { git = \"https://example.com/mine.git\" }\n",
        )]);
        let error = declared(dir.path()).unwrap_err();
        assert!(matches!(&error, Error::UnsupportedPipfileEntry { name, .. } if name == "mine"));
        assert!(error.hint().unwrap().contains("requirements.txt"));
    }

    #[test]
    fn requirements_txt_wins_and_its_content_is_the_key() {
        let dir = project(&[
            ("requirements.txt", "humanize==4.9.0\n"),
            ("Pipfile", "[packages]\nother = \"*\"\n"),
        ]);
        let first = declared(dir.path()).unwrap().unwrap();
        assert!(matches!(first.request, PipRequest::File(_)));
        fs::write(dir.path().join("requirements.txt"), "humanize==4.10.0\n").unwrap();
        let second = declared(dir.path()).unwrap().unwrap();
        assert_ne!(first.key, second.key);
    }

    #[test]
    fn comment_only_requirements_declare_nothing() {
        let dir = project(&[("requirements.txt", "# nothing yet\n\n")]);
        assert_eq!(declared(dir.path()).unwrap(), None);
    }

    #[test]
    fn invalid_pipfile_names_the_file() {
        let dir = project(&[("Pipfile", "[packages\n")]);
        let error = declared(dir.path()).unwrap_err();
        assert!(matches!(error, Error::InvalidPipfile { .. }), "{error}");
    }

    #[test]
    fn site_packages_is_found_under_lib() {
        let venv = tempfile::tempdir().unwrap();
        let site = venv.path().join("lib/python3.12/site-packages");
        fs::create_dir_all(&site).unwrap();
        assert_eq!(site_packages(venv.path()), Some(site));
        assert_eq!(site_packages(&venv.path().join("missing")), None);
    }
}
