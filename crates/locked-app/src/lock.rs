//! Manifest → locked app, as Spin's loader builds it for `spin registry push`.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use crate::model::{
    ContentPath, ContentRef, LockedApp, LockedComponent, LockedComponentSource, LockedTrigger,
    Variable,
};
use spin_manifest::{App, HttpExecutor, HttpRoute};

/// Where a component's content went: its Wasm and its files, already
/// content-addressed by the caller.
#[derive(Debug, Clone, Default)]
pub struct ComponentContent {
    /// The Wasm binary.
    pub wasm: ContentRef,
    /// Every file the guest sees, by guest path.
    pub files: Vec<ContentPath>,
}

/// Locks `app`; `contents` holds every component's content by id (a
/// component missing from it is locked with no source, which no reader
/// accepts, so callers give them all).
pub fn lock(app: &App, contents: &BTreeMap<String, ComponentContent>) -> LockedApp {
    let mut metadata = Map::new();
    metadata.insert("name".into(), app.name.clone().into());
    if let Some(version) = &app.version {
        metadata.insert("version".into(), version.clone().into());
    }
    if let Some(description) = &app.description {
        metadata.insert("description".into(), description.clone().into());
    }
    if !app.authors.is_empty() {
        metadata.insert("authors".into(), json!(app.authors));
    }
    let mut trigger_settings = Map::new();
    let mut types = Vec::new();
    if !app.http_triggers.is_empty() {
        // Routes are stored with the base already applied.
        trigger_settings.insert("http".into(), json!({}));
        types.push("http");
    }
    if !app.redis_triggers.is_empty() {
        let mut redis = Map::new();
        if let Some(address) = &app.redis_address {
            redis.insert("address".into(), address.clone().into());
        }
        trigger_settings.insert("redis".into(), Value::Object(redis));
        types.push("redis");
    }
    // Spin repeats the settings of a single trigger type under `trigger`
    // with its `type`, for readers older than multi-trigger apps.
    if let [only] = types.as_slice() {
        let mut single = trigger_settings[*only]
            .as_object()
            .cloned()
            .unwrap_or_default();
        single.insert("type".into(), (*only).into());
        metadata.insert("trigger".into(), Value::Object(single));
    }
    metadata.insert("triggers".into(), Value::Object(trigger_settings));

    let variables = app
        .variables
        .iter()
        .map(|(name, v)| {
            let variable = Variable {
                description: v.description.clone(),
                default: v.default.clone(),
                secret: v.secret,
            };
            (name.clone(), variable)
        })
        .collect();

    let mut triggers = Vec::new();
    for (n, trigger) in app.http_triggers.iter().enumerate() {
        let mut config = Map::new();
        if let Some(component) = &trigger.component {
            config.insert("component".into(), component.clone().into());
        }
        let route = match &trigger.route.value {
            HttpRoute::Path(path) => Value::from(path.clone()),
            HttpRoute::Private => json!({ "private": true }),
        };
        config.insert("route".into(), route);
        if let HttpExecutor::Wagi { entrypoint, argv } = &trigger.executor {
            config.insert(
                "executor".into(),
                json!({ "type": "wagi", "entrypoint": entrypoint, "argv": argv }),
            );
        }
        if let Some(response) = &trigger.static_response {
            let mut r = Map::new();
            r.insert("status_code".into(), response.status_code.into());
            if !response.headers.is_empty() {
                r.insert("headers".into(), json!(response.headers));
            }
            if let Some(body) = &response.body {
                r.insert("body".into(), body.clone().into());
            }
            config.insert("static_response".into(), Value::Object(r));
        }
        let id = trigger
            .id
            .clone()
            .unwrap_or_else(|| trigger_id(trigger.component.as_deref(), n));
        triggers.push(LockedTrigger {
            id,
            trigger_type: "http".into(),
            trigger_config: Value::Object(config),
            trigger_dependencies: Map::new(),
        });
    }
    for (n, trigger) in app.redis_triggers.iter().enumerate() {
        let mut config = Map::new();
        config.insert("component".into(), trigger.component.clone().into());
        config.insert("channel".into(), trigger.channel.clone().into());
        if let Some(address) = &trigger.address {
            config.insert("address".into(), address.clone().into());
        }
        triggers.push(LockedTrigger {
            id: format!("redis-{}", trigger_id(Some(&trigger.component), n)),
            trigger_type: "redis".into(),
            trigger_config: Value::Object(config),
            trigger_dependencies: Map::new(),
        });
    }

    let components = app
        .components
        .iter()
        .map(|c| {
            let content = contents.get(&c.id).cloned().unwrap_or_default();
            let mut metadata = Map::new();
            if let Some(description) = &c.description {
                metadata.insert("description".into(), description.clone().into());
            }
            let hosts: Vec<&str> = c
                .allowed_outbound_hosts
                .iter()
                .map(|h| h.value.as_str())
                .collect();
            metadata.insert("allowed_outbound_hosts".into(), json!(hosts));
            metadata.insert("key_value_stores".into(), json!(c.key_value_stores));
            metadata.insert("databases".into(), json!(c.sqlite_databases));
            metadata.insert("ai_models".into(), json!(c.ai_models));
            LockedComponent {
                id: c.id.clone(),
                metadata,
                source: LockedComponentSource {
                    content_type: "application/wasm".into(),
                    content: content.wasm,
                },
                env: c.environment.clone(),
                files: content.files,
                config: c.variables.clone(),
                dependencies: Map::new(),
                trigger_dependencies: Map::new(),
                host_requirements: Map::new(),
            }
        })
        .collect();

    LockedApp {
        spin_lock_version: 0,
        must_understand: Vec::new(),
        metadata,
        host_requirements: Map::new(),
        variables,
        triggers,
        components,
    }
}

/// Spin names an unnamed trigger after its component.
fn trigger_id(component: Option<&str>, n: usize) -> String {
    match component {
        Some(id) => format!("{id}-{n}"),
        None => format!("static-{n}"),
    }
}
