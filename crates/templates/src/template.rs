//! A template: its manifest plus the files it renders, held in memory so a
//! built-in template and an installed one behave the same.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::manifest::TemplateManifest;
use crate::render::Parsed;

/// Template files keyed by their path below the template's root, with `/`
/// separators: `content/app.py`, `metadata/spin-template.toml`.
pub(crate) type Files = BTreeMap<String, Vec<u8>>;

const MANIFEST_FILE: &str = "metadata/spin-template.toml";
const CONTENT_DIR: &str = "content/";
const SNIPPETS_DIR: &str = "metadata/snippets/";

/// A value the template asks for when it is run.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub(crate) id: String,
    pub(crate) prompt: String,
    pub(crate) default: Option<String>,
    pub(crate) pattern: Option<regex::Regex>,
    pub(crate) allowed_values: Option<Vec<String>>,
}

impl Parameter {
    /// The name used in `{{ … }}` and in `--value name=…`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The question to show when prompting.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// The value used with `--accept-defaults` or when nobody can be asked.
    pub fn default_value(&self) -> Option<&str> {
        self.default.as_deref()
    }

    /// The only values accepted, when the template restricts them.
    pub fn allowed_values(&self) -> Option<&[String]> {
        self.allowed_values.as_deref()
    }

    /// Checks `value` against the parameter's pattern or allowed values,
    /// returning a sentence saying what is wrong.
    pub fn check(&self, value: &str) -> Result<(), String> {
        if let Some(allowed) = &self.allowed_values
            && !allowed.iter().any(|a| a == value)
        {
            return Err(format!("must be one of: {}", allowed.join(", ")));
        }
        if let Some(pattern) = &self.pattern
            && !pattern.is_match(value)
        {
            return Err(format!("must match the pattern `{}`", pattern.as_str()));
        }
        Ok(())
    }
}

/// How a template is used for one operation (`spin new` or `spin add`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Variant {
    /// Content files, relative to `content/`, not written.
    pub skip_files: Vec<String>,
    /// Parameters not asked for.
    pub skip_parameters: Vec<String>,
    /// Snippet kind (`component`) to file name below `metadata/snippets/`.
    pub snippets: BTreeMap<String, String>,
}

/// Where a template comes from, for `spin templates list --verbose`.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Embedded in the spin binary.
    BuiltIn,
    /// Copied into the template store from a Git repository. `offline_copy`
    /// marks a built-in copy installed because the repository was
    /// unreachable; upgrading tries the repository again.
    Git {
        /// The repository URL as given to `--git`.
        url: String,
        /// Whether the built-in copy stood in for the repository.
        offline_copy: bool,
    },
    /// Copied into the template store from a local directory.
    Directory(PathBuf),
    /// Installed, but the install record is missing or unreadable.
    Unknown,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BuiltIn => f.write_str("built-in"),
            Self::Git {
                url,
                offline_copy: false,
            } => f.write_str(url),
            Self::Git {
                url,
                offline_copy: true,
            } => write!(f, "{url} (built-in copy)"),
            Self::Directory(dir) => write!(f, "{}", dir.display()),
            Self::Unknown => Ok(()),
        }
    }
}

/// An application template.
#[derive(Debug, Clone)]
pub struct Template {
    pub(crate) manifest: TemplateManifest,
    pub(crate) files: Files,
    pub(crate) origin: Origin,
}

impl Template {
    /// Validates a template's files: the manifest, and that every content
    /// file and snippet parses. `dir_name` names the template in errors
    /// when its manifest cannot be read.
    pub(crate) fn from_files(dir_name: &str, files: Files, origin: Origin) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidTemplate {
            template: dir_name.to_owned(),
            reason,
        };
        let manifest_bytes = files
            .get(MANIFEST_FILE)
            .ok_or_else(|| invalid(format!("it has no {MANIFEST_FILE}")))?;
        let manifest_text = std::str::from_utf8(manifest_bytes)
            .map_err(|_| invalid(format!("{MANIFEST_FILE} is not UTF-8")))?;
        let manifest =
            TemplateManifest::parse(manifest_text).map_err(|e| invalid(e.to_string()))?;

        let template = Self {
            manifest,
            files,
            origin,
        };
        for variant in [
            &template.manifest.new_application,
            &template.manifest.add_component,
        ]
        .into_iter()
        .flatten()
        {
            for snippet in variant.snippets.values() {
                if template.snippet(snippet).is_none() {
                    return Err(invalid(format!(
                        "snippet file {SNIPPETS_DIR}{snippet} is missing"
                    )));
                }
            }
        }
        for (path, bytes) in template.renderable_files() {
            if let Ok(text) = std::str::from_utf8(bytes) {
                Parsed::new(text).map_err(|e| invalid(format!("{path}: {e}")))?;
            }
        }
        Ok(template)
    }

    /// The template's ID, as used with `spin new -t`.
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    /// The one-line description shown by `spin templates list`.
    pub fn description(&self) -> Option<&str> {
        self.manifest.description.as_deref()
    }

    /// Lower-cased tags, for `--tag` filtering.
    pub fn tags(&self) -> &[String] {
        &self.manifest.tags
    }

    /// Where the template comes from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Whether the template has every tag in `tags` (case-insensitively).
    pub fn matches_all_tags(&self, tags: &[String]) -> bool {
        tags.iter()
            .all(|tag| self.manifest.tags.contains(&tag.to_lowercase()))
    }

    /// Whether `spin add` can use this template.
    pub fn supports_add_component(&self) -> bool {
        self.manifest.add_component.is_some()
    }

    /// Whether `spin new` can use this template.
    pub fn supports_new_application(&self) -> bool {
        self.manifest.new_application.is_some()
    }

    /// Every parameter the template declares, in file order.
    pub fn parameters(&self) -> &[Parameter] {
        &self.manifest.parameters
    }

    /// The parameter named `id`, if the template declares it.
    pub fn parameter(&self, id: &str) -> Option<&Parameter> {
        self.manifest.parameters.iter().find(|p| p.id == id)
    }

    /// Content files as (path below `content/`, bytes).
    pub(crate) fn content_files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().filter_map(|(path, bytes)| {
            path.strip_prefix(CONTENT_DIR)
                .map(|rel| (rel, bytes.as_slice()))
        })
    }

    pub(crate) fn snippet(&self, file_name: &str) -> Option<&[u8]> {
        self.files
            .get(&format!("{SNIPPETS_DIR}{file_name}"))
            .map(Vec::as_slice)
    }

    fn renderable_files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files
            .iter()
            .filter(|(path, _)| path.starts_with(CONTENT_DIR) || path.starts_with(SNIPPETS_DIR))
            .map(|(path, bytes)| (path.as_str(), bytes.as_slice()))
    }

    /// The manifest version of the template's own `spin.toml`, if it has one.
    pub(crate) fn manifest_format(&self) -> Option<u32> {
        let bytes = self.files.get(&format!("{CONTENT_DIR}spin.toml"))?;
        crate::run::detect_manifest_format(std::str::from_utf8(bytes).ok()?)
    }

    /// Writes the template's files below `dir`, the layout the template
    /// store and `--dir` installs use.
    pub(crate) fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        for (path, bytes) in &self.files {
            let dest = dir.join(path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(dest, bytes)?;
        }
        Ok(())
    }
}

/// Reads every file below `dir` into memory, skipping Spin's install
/// record, which describes the copy rather than the template.
pub(crate) fn read_files(dir: &Path) -> std::io::Result<Files> {
    let mut files = Files::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry.map_err(std::io::Error::other)?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry
            .path()
            .strip_prefix(dir)
            .expect("walkdir yields paths below its root")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if relative == crate::store::INSTALL_RECORD_FILE {
            continue;
        }
        files.insert(relative, std::fs::read(entry.path())?);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> Files {
        entries
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    const MANIFEST: &str = "manifest_version = \"1\"\nid = \"t\"\n[parameters]\nroute = { type = \"string\", prompt = \"Route\", default = \"/\", pattern = \"^/\" }\nkind = { type = \"string\", prompt = \"Kind\", allowed_values = [\"a\", \"b\"] }\n";

    #[test]
    fn parameters_check_patterns_and_allowed_values() {
        let t = Template::from_files("t", files(&[(MANIFEST_FILE, MANIFEST)]), Origin::BuiltIn)
            .unwrap();
        let route = t.parameter("route").unwrap();
        assert!(route.check("/x").is_ok());
        assert!(route.check("x").unwrap_err().contains("^/"));
        let kind = t.parameter("kind").unwrap();
        assert!(kind.check("a").is_ok());
        assert_eq!(kind.check("c").unwrap_err(), "must be one of: a, b");
    }

    #[test]
    fn rejects_templates_whose_files_do_not_parse() {
        let err = Template::from_files(
            "t",
            files(&[
                (MANIFEST_FILE, MANIFEST),
                ("content/a.txt", "{{ x | nope }}"),
            ]),
            Origin::BuiltIn,
        )
        .unwrap_err();
        assert!(err.to_string().contains("content/a.txt"), "{err}");
    }

    #[test]
    fn rejects_missing_manifest_and_missing_snippets() {
        let err = Template::from_files("dir", files(&[]), Origin::BuiltIn).unwrap_err();
        assert!(err.to_string().contains("spin-template.toml"), "{err}");

        let manifest = format!("{MANIFEST}[add_component.snippets]\ncomponent = \"c.txt\"\n");
        let err = Template::from_files("t", files(&[(MANIFEST_FILE, &manifest)]), Origin::BuiltIn)
            .unwrap_err();
        assert!(err.to_string().contains("c.txt"), "{err}");
    }

    #[test]
    fn binary_content_is_not_parsed() {
        let mut f = files(&[(MANIFEST_FILE, MANIFEST)]);
        f.insert("content/logo.bin".into(), vec![0xff, b'{', b'{', 0xfe]);
        assert!(Template::from_files("t", f, Origin::BuiltIn).is_ok());
    }
}
