//! The v2 manifest (`spin_manifest_version = 2`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;

use super::common::{
    BuildDef, ExecutorDef, FileDef, RouteDef, SourceDef, SpannedMap, StaticResponseDef, VariableDef,
};
use super::{Commands, Expecting, StrOr};

/// The whole v2 manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManifestV2 {
    /// Already checked by version detection.
    #[serde(rename = "spin_manifest_version")]
    pub(crate) _version: IgnoredAny,
    pub(crate) application: Spanned<ApplicationV2>,
    #[serde(default)]
    pub(crate) variables: SpannedMap<VariableDef>,
    pub(crate) trigger: Spanned<TriggersV2>,
    #[serde(default)]
    pub(crate) component: SpannedMap<ComponentV2>,
}

/// `[application]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplicationV2 {
    pub(crate) name: Spanned<String>,
    #[serde(default)]
    pub(crate) version: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) authors: Vec<String>,
    /// Deployment targets: only meaningful to deploy tooling.
    #[serde(default, rename = "targets")]
    pub(crate) _targets: IgnoredAny,
    #[serde(default)]
    pub(crate) trigger: AppTriggersV2,
    /// Settings for other tools; Spin ignores them too.
    #[serde(default, rename = "tool")]
    pub(crate) _tool: IgnoredAny,
}

/// `[application.trigger.<type>]`: settings shared by all triggers of a type.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppTriggersV2 {
    #[serde(default)]
    pub(crate) http: Option<HttpSettingsV2>,
    #[serde(default)]
    pub(crate) redis: Option<RedisSettingsV2>,
}

/// `[application.trigger.http]`; `base` is what Spin's v1 conversion writes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpSettingsV2 {
    #[serde(default)]
    pub(crate) base: Option<Spanned<String>>,
}

/// `[application.trigger.redis]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedisSettingsV2 {
    #[serde(default)]
    pub(crate) address: Option<Spanned<String>>,
}

/// `[trigger]`: one array of tables per trigger type. Other types are
/// rejected before deserialization, with a clearer message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TriggersV2 {
    #[serde(default)]
    pub(crate) http: Vec<Spanned<HttpTriggerV2>>,
    #[serde(default)]
    pub(crate) redis: Vec<Spanned<RedisTriggerV2>>,
}

/// `component = "id"` or an inline component table.
pub(crate) type ComponentSpec = StrOr<ComponentV2>;

impl Expecting for ComponentV2 {
    const EXPECTING: &'static str = "a component id or an inline component table";
}

/// `[[trigger.http]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpTriggerV2 {
    #[serde(default)]
    pub(crate) id: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) component: Option<Spanned<ComponentSpec>>,
    pub(crate) route: Spanned<RouteDef>,
    #[serde(default)]
    pub(crate) executor: Option<Spanned<ExecutorDef>>,
    #[serde(default)]
    pub(crate) static_response: Option<Spanned<StaticResponseDef>>,
    #[serde(default)]
    pub(crate) components: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    pub(crate) dependencies: Option<Spanned<IgnoredAny>>,
}

/// `[[trigger.redis]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedisTriggerV2 {
    #[serde(default)]
    pub(crate) id: Option<Spanned<String>>,
    pub(crate) component: Spanned<ComponentSpec>,
    pub(crate) channel: Spanned<String>,
    #[serde(default)]
    pub(crate) address: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) components: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    pub(crate) dependencies: Option<Spanned<IgnoredAny>>,
}

/// `[component.<id>.tool]`: a table per tool.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ToolsV2 {
    #[serde(default, rename = "spin-py")]
    pub(crate) spin_py: Option<SpinPyToolV2>,
    /// Other tools' settings.
    #[serde(flatten)]
    pub(crate) _others: BTreeMap<String, IgnoredAny>,
}

/// `[component.<id>.tool.spin-py]`: settings only this host reads, kept
/// where Spin looks past them so that the manifest still runs on Spin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpinPyToolV2 {
    /// How many requests one instance may serve in turn (1: a fresh
    /// instance per request).
    #[serde(default)]
    pub(crate) max_instance_reuse_count: Option<Spanned<i64>>,
}

/// `[component.<id>]`, or an inline component in a trigger.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComponentV2 {
    pub(crate) source: Spanned<SourceDef>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) variables: SpannedMap<String>,
    #[serde(default)]
    pub(crate) environment: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) files: Vec<Spanned<FileDef>>,
    #[serde(default)]
    pub(crate) exclude_files: Vec<String>,
    #[serde(default)]
    pub(crate) allowed_http_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) allowed_outbound_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) key_value_stores: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) sqlite_databases: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) ai_models: Vec<String>,
    /// Deployment targets: only meaningful to deploy tooling.
    #[serde(default, rename = "targets")]
    pub(crate) _targets: IgnoredAny,
    #[serde(default)]
    pub(crate) build: Option<BuildDef>,
    /// Settings for tools other than Spin, which Spin ignores; this host's
    /// own live in `tool.spin-py`.
    #[serde(default)]
    pub(crate) tool: ToolsV2,
    /// Only meaningful with `dependencies`, which are rejected.
    #[serde(default, rename = "dependencies_inherit_configuration")]
    pub(crate) _dependencies_inherit_configuration: IgnoredAny,
    #[serde(default)]
    pub(crate) dependencies: Option<Spanned<IgnoredAny>>,
    /// Named build profiles (`spin build/up/watch --profile <name>`).
    #[serde(default)]
    pub(crate) profile: SpannedMap<ProfileV2>,
}

/// `[component.<id>.profile.<name>]`: what the build profile `<name>`
/// changes in the component, as in Spin 4. Unset fields keep the
/// component's own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileV2 {
    #[serde(default)]
    pub(crate) source: Option<Spanned<SourceDef>>,
    /// Added to the component's `environment`, overriding it name by name.
    #[serde(default)]
    pub(crate) environment: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) build: Option<ProfileBuildV2>,
    #[serde(default)]
    pub(crate) dependencies: Option<Spanned<IgnoredAny>>,
}

/// `[component.<id>.profile.<name>.build]`: only the command changes (the
/// component's `workdir` and `watch` stay).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileBuildV2 {
    pub(crate) command: Commands,
}
