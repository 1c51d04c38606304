//! The v1 manifest (`spin_manifest_version = "1"`), as written in 2023.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;

use super::common::{BuildDef, ExecutorDef, FileDef, RouteDef, SourceDef, SpannedMap, VariableDef};

/// The whole v1 manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManifestV1 {
    /// Already checked by version detection.
    #[serde(rename = "spin_manifest_version", alias = "spin_version", default)]
    pub(crate) _version: IgnoredAny,
    pub(crate) name: Spanned<String>,
    #[serde(default)]
    pub(crate) version: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) authors: Vec<String>,
    pub(crate) trigger: Spanned<AppTriggerV1>,
    #[serde(default)]
    pub(crate) variables: SpannedMap<VariableDef>,
    #[serde(default, rename = "component")]
    pub(crate) components: Vec<Spanned<ComponentV1>>,
}

/// `trigger = { type = "http", base = "/" }` or `{ type = "redis", address = "..." }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppTriggerV1 {
    #[serde(rename = "type")]
    pub(crate) kind: Spanned<String>,
    #[serde(default)]
    pub(crate) base: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) address: Option<Spanned<String>>,
}

/// A `[[component]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComponentV1 {
    pub(crate) id: Spanned<String>,
    pub(crate) source: Spanned<SourceDef>,
    pub(crate) trigger: Spanned<ComponentTriggerV1>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) config: SpannedMap<String>,
    #[serde(default)]
    pub(crate) environment: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) files: Vec<Spanned<FileDef>>,
    #[serde(default)]
    pub(crate) exclude_files: Vec<String>,
    #[serde(default)]
    pub(crate) allowed_http_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) allowed_outbound_hosts: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(crate) key_value_stores: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) sqlite_databases: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) ai_models: Vec<String>,
    #[serde(default)]
    pub(crate) build: Option<BuildDef>,
}

/// `[component.trigger]`: `route` (and `executor`) for HTTP apps, `channel`
/// for Redis apps. Which fields apply is checked against the app's trigger type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComponentTriggerV1 {
    #[serde(default)]
    pub(crate) route: Option<Spanned<RouteDef>>,
    #[serde(default)]
    pub(crate) executor: Option<Spanned<ExecutorDef>>,
    #[serde(default)]
    pub(crate) channel: Option<Spanned<String>>,
}
