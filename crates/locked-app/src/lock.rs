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
    // Routes are stored with the base already applied, so HTTP has no
    // settings of its own; as in Spin, a type without settings is left out.
    if !app.http_triggers.is_empty() {
        types.push("http");
    }
    if !app.redis_triggers.is_empty() {
        if let Some(address) = &app.redis_address {
            trigger_settings.insert("redis".into(), json!({ "address": address }));
        }
        types.push("redis");
    }
    // Spin repeats the settings of a single trigger type under `trigger`
    // with its `type`, for readers older than multi-trigger apps.
    if let [only] = types.as_slice() {
        let mut single = trigger_settings
            .get(*only)
            .and_then(Value::as_object)
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
            .unwrap_or_else(|| trigger_id(trigger.component.as_deref(), "http", n, &triggers));
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
            id: trigger_id(Some(&trigger.component), "redis", n, &triggers),
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
            let hosts: Vec<String> = c
                .allowed_outbound_hosts
                .iter()
                .map(|h| h.value.clone())
                .collect();
            // Spin leaves empty lists out.
            for (key, list) in [
                ("allowed_outbound_hosts", &hosts),
                ("key_value_stores", &c.key_value_stores),
                ("databases", &c.sqlite_databases),
                ("ai_models", &c.ai_models),
            ] {
                if !list.is_empty() {
                    metadata.insert(key.into(), json!(list));
                }
            }
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

/// Spin names an unnamed trigger `<component>-<type>-trigger`; a second
/// one of the same name gets its position appended.
fn trigger_id(component: Option<&str>, kind: &str, n: usize, taken: &[LockedTrigger]) -> String {
    let id = match component {
        Some(component) => format!("{component}-{kind}-trigger"),
        None => format!("static-{kind}-trigger"),
    };
    if taken.iter().any(|t| t.id == id) {
        format!("{id}-{n}")
    } else {
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContentPath, ContentRef};
    use std::path::Path;

    /// What Spin 4.0.2's `spin registry push` wrote for this manifest (its
    /// application layer, read back from a registry on 2026-11-27).
    const SPIN_LOCKED: &str = r#"{"spin_lock_version":0,"metadata":{"name":"interop-py","trigger":{"type":"http"},"triggers":{},"version":"1.0.0"},"variables":{"greeting":{"default":"hi there"}},"triggers":[{"id":"web-http-trigger","trigger_type":"http","trigger_config":{"component":"web","route":"/..."}}],"components":[{"id":"web","source":{"content_type":"application/wasm","digest":"sha256:49fb319a975d2230f3461bc5ee4917dabc8f8561b9b0cda7c0c923815a102119"},"files":[{"digest":"sha256:cbb9b916d17f9ce0dd6324208a4856c0a4bbb7b5d63eb2adf224fd49ba9b374c","path":"static/message.txt"},{"inline":"dGlueQo","digest":"sha256:36d25d3d80f8431614deece844a6def69fb24b92310156ce7847ba1d9595db57","path":"static/tiny.txt"}],"config":{"greeting":"{{ greeting }}"}}]}"#;

    const MANIFEST: &str = r#"spin_manifest_version = 2
[application]
name = "interop-py"
version = "1.0.0"
[variables]
greeting = { default = "hi there" }
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "app.wasm"
files = [{ source = "static", destination = "/static" }]
[component.web.variables]
greeting = "{{ greeting }}"
"#;

    #[test]
    fn the_locked_app_is_the_one_spin_writes() {
        let app = spin_manifest::parse(MANIFEST, Path::new("/app/spin.toml")).unwrap();
        let digest = |hex: &str| Some(format!("sha256:{hex}"));
        let content = ComponentContent {
            wasm: ContentRef {
                digest: digest("49fb319a975d2230f3461bc5ee4917dabc8f8561b9b0cda7c0c923815a102119"),
                ..Default::default()
            },
            files: vec![
                ContentPath {
                    content: ContentRef {
                        digest: digest(
                            "cbb9b916d17f9ce0dd6324208a4856c0a4bbb7b5d63eb2adf224fd49ba9b374c",
                        ),
                        ..Default::default()
                    },
                    path: "static/message.txt".into(),
                },
                ContentPath {
                    content: ContentRef {
                        inline: Some(b"tiny\n".to_vec()),
                        digest: digest(
                            "36d25d3d80f8431614deece844a6def69fb24b92310156ce7847ba1d9595db57",
                        ),
                        ..Default::default()
                    },
                    path: "static/tiny.txt".into(),
                },
            ],
        };
        let ours = lock(&app, &BTreeMap::from([("web".to_string(), content)])).to_json();
        let ours: Value = serde_json::from_slice(&ours).unwrap();
        let spins: Value = serde_json::from_str(SPIN_LOCKED).unwrap();
        assert_eq!(ours, spins);
    }
}
