//! Tables shared by both manifest formats.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{Commands, Expecting, StrOr};

/// `[variables]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VariableDef {
    #[serde(default)]
    pub(crate) default: Option<String>,
    #[serde(default)]
    pub(crate) required: bool,
    #[serde(default)]
    pub(crate) secret: bool,
    #[serde(default)]
    pub(crate) description: Option<String>,
}

/// `source = "app.wasm"` or `source = { url, digest }`.
pub(crate) type SourceDef = StrOr<RemoteSource>;

/// `source = { url = "...", digest = "sha256:..." }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemoteSource {
    pub(crate) url: String,
    pub(crate) digest: Spanned<String>,
}

impl Expecting for RemoteSource {
    const EXPECTING: &'static str =
        "a path such as \"app.wasm\" or a table { url = \"...\", digest = \"sha256:...\" }";
}

/// A `files` entry: a glob, or `{ source, destination }`.
pub(crate) type FileDef = StrOr<FilePlacement>;

/// `{ source = "assets", destination = "/" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilePlacement {
    pub(crate) source: Spanned<String>,
    pub(crate) destination: Spanned<String>,
}

impl Expecting for FilePlacement {
    const EXPECTING: &'static str =
        "a glob pattern or a table { source = \"dir\", destination = \"/\" }";
}

/// `route = "/hello"` or `route = { private = true }`.
pub(crate) type RouteDef = StrOr<PrivateRoute>;

/// `route = { private = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrivateRoute {
    pub(crate) private: Spanned<bool>,
}

impl Expecting for PrivateRoute {
    const EXPECTING: &'static str = "a route such as \"/hello/...\" or { private = true }";
}

/// `[component.build]` / `build = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildDef {
    pub(crate) command: Commands,
    #[serde(default)]
    pub(crate) workdir: Option<String>,
    #[serde(default)]
    pub(crate) watch: Vec<String>,
}

/// `executor = { type = "spin" }` on an HTTP trigger.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExecutorDef {
    #[serde(rename = "type")]
    pub(crate) kind: Spanned<String>,
    #[serde(default)]
    pub(crate) entrypoint: Option<String>,
    #[serde(default)]
    pub(crate) argv: Option<String>,
}

/// `static_response = { status_code, headers, body }` on an HTTP trigger.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StaticResponseDef {
    #[serde(default)]
    pub(crate) status_code: Option<Spanned<u16>>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) body: Option<String>,
}

/// A table keyed by ids or names, in which each key keeps its position.
pub(crate) type SpannedMap<V> = BTreeMap<Spanned<String>, Spanned<V>>;

/// Entries of a [`SpannedMap`] in the order they appear in the file (the
/// TOML map itself is sorted by key).
pub(crate) fn in_file_order<V>(map: SpannedMap<V>) -> Vec<(Spanned<String>, Spanned<V>)> {
    let mut entries: Vec<_> = map.into_iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}
