//! Reads `metadata/spin-template.toml`, the file that says what a template
//! is called, which parameters it asks for and how `spin add` uses it.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::template::{Parameter, Variant};

/// What a template manifest declares, validated.
#[derive(Debug, Clone)]
pub(crate) struct TemplateManifest {
    pub id: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub parameters: Vec<Parameter>,
    pub new_application: Option<Variant>,
    pub add_component: Option<Variant>,
}

/// Field names follow Spin's template manifest, version "1".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    manifest_version: String,
    id: String,
    description: Option<String>,
    // Spin ignores it too; old templates still carry it.
    #[serde(default, rename = "trigger_type")]
    _trigger_type: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    tags: Vec<String>,
    new_application: Option<RawVariant>,
    add_component: Option<RawVariant>,
    // Spanned so the parameters can be put back in file order: they are
    // prompted for in the order the author wrote them.
    #[serde(default)]
    parameters: BTreeMap<String, Spanned<RawParameter>>,
    custom_filters: Option<serde::de::IgnoredAny>,
    outputs: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    supported: Option<bool>,
    #[serde(default)]
    skip_files: Vec<String>,
    #[serde(default)]
    skip_parameters: Vec<String>,
    #[serde(default)]
    snippets: BTreeMap<String, String>,
    conditions: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    #[serde(rename = "type")]
    data_type: String,
    prompt: String,
    default: Option<String>,
    pattern: Option<String>,
    allowed_values: Option<Vec<String>>,
}

/// Why a template manifest was rejected. The message is shown next to the
/// template's name, so it does not repeat the file name.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ManifestError {
    /// Not TOML, or fields of the wrong type or unknown.
    #[error("invalid spin-template.toml: {0}")]
    Toml(#[from] toml::de::Error),
    /// A `manifest_version` other than "1".
    #[error("unsupported manifest_version \"{0}\" (this version of spin reads version \"1\")")]
    Version(String),
    /// An ID that cannot be a directory name.
    #[error("invalid template id `{0}`: use letters, digits, `-`, `_` and `.`")]
    Id(String),
    /// A parameter type other than "string".
    #[error("parameter `{name}` has unsupported type `{data_type}` (only \"string\" is supported)")]
    ParameterType {
        /// The parameter.
        name: String,
        /// Its declared type.
        data_type: String,
    },
    /// A `pattern` that is not a regular expression.
    #[error("parameter `{name}` has an invalid pattern: {source}")]
    Pattern {
        /// The parameter.
        name: String,
        /// The regex error.
        source: regex::Error,
    },
    /// A manifest feature Spin has but this crate does not implement.
    #[error("`{0}` is not supported by this version of spin")]
    Unsupported(&'static str),
}

impl TemplateManifest {
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let raw: RawManifest = toml::from_str(text)?;
        if raw.manifest_version != "1" {
            return Err(ManifestError::Version(raw.manifest_version));
        }
        if !is_valid_id(&raw.id) {
            return Err(ManifestError::Id(raw.id));
        }
        if raw.custom_filters.is_some() {
            return Err(ManifestError::Unsupported("custom_filters"));
        }
        if raw.outputs.is_some() {
            return Err(ManifestError::Unsupported("outputs"));
        }

        let mut parameters: Vec<_> = raw.parameters.into_iter().collect();
        parameters.sort_by_key(|(_, p)| p.span().start);
        let parameters = parameters
            .into_iter()
            .map(|(name, raw)| parameter(name, raw.into_inner()))
            .collect::<Result<_, _>>()?;

        Ok(Self {
            id: raw.id,
            description: raw.description,
            tags: raw.tags.into_iter().map(|t| t.to_lowercase()).collect(),
            parameters,
            // A template supports `spin new` unless it says otherwise, and
            // `spin add` only if it says how.
            new_application: variant(raw.new_application.unwrap_or_default())?,
            add_component: match raw.add_component {
                Some(raw) => variant(raw)?,
                None => None,
            },
        })
    }
}

fn variant(raw: RawVariant) -> Result<Option<Variant>, ManifestError> {
    if raw.supported == Some(false) {
        return Ok(None);
    }
    if raw.conditions.is_some() {
        return Err(ManifestError::Unsupported("conditions"));
    }
    Ok(Some(Variant {
        skip_files: raw.skip_files,
        skip_parameters: raw.skip_parameters,
        snippets: raw.snippets,
    }))
}

fn parameter(name: String, raw: RawParameter) -> Result<Parameter, ManifestError> {
    if raw.data_type != "string" {
        return Err(ManifestError::ParameterType {
            name,
            data_type: raw.data_type,
        });
    }
    let pattern = match raw.pattern {
        Some(p) => Some(
            regex::Regex::new(&p).map_err(|source| ManifestError::Pattern {
                name: name.clone(),
                source,
            })?,
        ),
        None => None,
    };
    Ok(Parameter {
        id: name,
        prompt: raw.prompt,
        default: raw.default,
        pattern,
        allowed_values: raw.allowed_values,
    })
}

/// Template IDs become directory names in the template store.
pub(crate) fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP_PY: &str = r#"
manifest_version = "1"
id = "http-py"
description = "HTTP request handler using Python"
tags = ["http", "Python"]

[add_component]
skip_files = ["spin.toml"]
skip_parameters = ["http-base"]
[add_component.snippets]
component = "component.txt"

[parameters]
project-description = { type = "string",  prompt = "Description", default = "" }
http-base = { type = "string", prompt = "HTTP base", default = "/", pattern = "^/\\S*$" }
http-path = { type = "string", prompt = "HTTP path", default = "/...", pattern = "^/\\S*$" }
"#;

    #[test]
    fn reads_a_2023_python_template_manifest() {
        let m = TemplateManifest::parse(HTTP_PY).unwrap();
        assert_eq!(m.id, "http-py");
        assert_eq!(m.tags, ["http", "python"]);
        let ids: Vec<_> = m.parameters.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            ["project-description", "http-base", "http-path"],
            "file order"
        );
        assert!(m.new_application.is_some());
        let add = m.add_component.unwrap();
        assert_eq!(add.skip_files, ["spin.toml"]);
        assert_eq!(add.snippets["component"], "component.txt");
    }

    #[test]
    fn add_component_is_unsupported_unless_declared() {
        let m = TemplateManifest::parse("manifest_version = \"1\"\nid = \"x\"").unwrap();
        assert!(m.add_component.is_none());
        assert!(m.new_application.is_some());
    }

    #[test]
    fn rejects_what_it_cannot_honour() {
        let cases = [
            ("manifest_version = \"2\"\nid = \"x\"", "manifest_version"),
            (
                "manifest_version = \"1\"\nid = \"../x\"",
                "invalid template id",
            ),
            (
                "manifest_version = \"1\"\nid = \"x\"\nbogus = 1",
                "unknown field",
            ),
            (
                "manifest_version = \"1\"\nid = \"x\"\n[custom_filters]\na = 1",
                "custom_filters",
            ),
            (
                "manifest_version = \"1\"\nid = \"x\"\n[parameters]\np = { type = \"number\", prompt = \"P\" }",
                "unsupported type",
            ),
            (
                "manifest_version = \"1\"\nid = \"x\"\n[parameters]\np = { type = \"string\", prompt = \"P\", pattern = \"(\" }",
                "invalid pattern",
            ),
        ];
        for (text, expected) in cases {
            let err = TemplateManifest::parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}
