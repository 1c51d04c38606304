//! Locked app → v2 manifest, for running an app pulled from a registry
//! through the same loader (and the same validation) as a local one.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use toml::Table;

use crate::model::{LockedApp, LockedComponent, LockedTrigger};

/// Where one component's pulled content sits, relative to the directory the
/// manifest is written to.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The Wasm file.
    pub wasm: String,
    /// The directory holding the component's files, mounted at `/`; `None`
    /// when it has none.
    pub files: Option<String>,
}

/// Why a locked app cannot run here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnlockError {
    /// A trigger type this host has no trigger for.
    #[error(
        "trigger `{id}` has type `{trigger_type}`, which this spin cannot run (it runs `http` and `redis` triggers)"
    )]
    UnsupportedTrigger {
        /// The trigger id.
        id: String,
        /// Its type.
        trigger_type: String,
    },
    /// A setting of a trigger that this host does not know, so cannot honour.
    #[error("trigger `{id}` has the setting `{key}`, which this spin does not support")]
    UnsupportedTriggerSetting {
        /// The trigger id.
        id: String,
        /// The setting.
        key: String,
    },
    /// A value of the wrong shape.
    #[error("{what} is malformed: {problem}")]
    Malformed {
        /// Which value.
        what: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A host feature the app requires.
    #[error("the application requires the host feature `{0}`, which this spin does not support")]
    UnsupportedRequirement(String),
    /// A component composed from dependencies.
    #[error("component `{0}` has component dependencies, which this spin cannot compose yet")]
    Dependencies(String),
    /// A component with no placement.
    #[error("component `{0}` has no content")]
    MissingContent(String),
}

impl UnlockError {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            UnlockError::UnsupportedTrigger { .. }
            | UnlockError::UnsupportedTriggerSetting { .. }
            | UnlockError::UnsupportedRequirement(_)
            | UnlockError::Dependencies(_) => {
                "run this application with Spin, or push a version of it that uses only HTTP and Redis triggers"
            }
            UnlockError::Malformed { .. } | UnlockError::MissingContent(_) => {
                "the artifact was not made by `spin registry push`, or is damaged; push it again"
            }
        }
    }
}

/// Features Spin lists in `must_understand` that name the two
/// requirement tables, which this module reads.
const UNDERSTOOD: &[&str] = &["host_requirements", "component_host_requirements"];

/// Writes `locked` as a v2 `spin.toml`; `placements` gives each component's
/// content, by id.
pub fn to_manifest(
    locked: &LockedApp,
    placements: &BTreeMap<String, Placement>,
) -> Result<String, UnlockError> {
    for feature in &locked.must_understand {
        if !UNDERSTOOD.contains(&feature.as_str()) {
            return Err(UnlockError::UnsupportedRequirement(feature.clone()));
        }
    }
    check_requirements(&locked.host_requirements)?;

    let mut doc = Table::new();
    doc.insert("spin_manifest_version".into(), 2.into());
    doc.insert("application".into(), application(locked)?.into());

    if !locked.variables.is_empty() {
        let mut variables = Table::new();
        for (name, v) in &locked.variables {
            let mut t = Table::new();
            match &v.default {
                Some(default) => t.insert("default".into(), default.clone().into()),
                None => t.insert("required".into(), true.into()),
            };
            if v.secret {
                t.insert("secret".into(), true.into());
            }
            if let Some(d) = &v.description {
                t.insert("description".into(), d.clone().into());
            }
            variables.insert(name.clone(), t.into());
        }
        doc.insert("variables".into(), variables.into());
    }

    let mut triggers: BTreeMap<String, Vec<toml::Value>> = BTreeMap::new();
    for trigger in &locked.triggers {
        let table = trigger_table(trigger)?;
        triggers
            .entry(trigger.trigger_type.clone())
            .or_default()
            .push(table.into());
    }
    if !triggers.is_empty() {
        let t: Table = triggers
            .into_iter()
            .map(|(k, v)| (k, toml::Value::Array(v)))
            .collect();
        doc.insert("trigger".into(), t.into());
    }

    let mut components = Table::new();
    for component in &locked.components {
        let placement = placements
            .get(&component.id)
            .ok_or_else(|| UnlockError::MissingContent(component.id.clone()))?;
        components.insert(
            component.id.clone(),
            component_table(component, placement)?.into(),
        );
    }
    doc.insert("component".into(), components.into());

    Ok(toml::to_string(&doc).expect("a TOML table always serialises"))
}

fn check_requirements(requirements: &Map<String, Value>) -> Result<(), UnlockError> {
    for (feature, need) in requirements {
        if need.as_str() != Some("optional") {
            return Err(UnlockError::UnsupportedRequirement(feature.clone()));
        }
    }
    Ok(())
}

fn application(locked: &LockedApp) -> Result<Table, UnlockError> {
    let mut app = Table::new();
    let name = locked.metadata_str("name").unwrap_or("app");
    app.insert("name".into(), name.into());
    for key in ["version", "description"] {
        if let Some(v) = locked.metadata_str(key) {
            app.insert(key.into(), v.into());
        }
    }
    if let Some(authors) = locked.metadata.get("authors") {
        app.insert(
            "authors".into(),
            strings(authors, "the application's `authors`")?.into(),
        );
    }
    let mut trigger_settings = Table::new();
    if let Some(Value::Object(settings)) = locked.metadata.get("triggers") {
        for (trigger_type, value) in settings {
            let Value::Object(fields) = value else {
                continue;
            };
            let mut t = Table::new();
            for (key, v) in fields {
                match (trigger_type.as_str(), key.as_str(), v) {
                    ("http", "base", Value::String(base)) => {
                        t.insert("base".into(), base.clone().into());
                    }
                    ("redis", "address", Value::String(address)) => {
                        t.insert("address".into(), address.clone().into());
                    }
                    _ => {
                        return Err(UnlockError::UnsupportedTriggerSetting {
                            id: format!("application.trigger.{trigger_type}"),
                            key: key.clone(),
                        });
                    }
                }
            }
            if !t.is_empty() {
                trigger_settings.insert(trigger_type.clone(), t.into());
            }
        }
    }
    if !trigger_settings.is_empty() {
        app.insert("trigger".into(), trigger_settings.into());
    }
    Ok(app)
}

fn trigger_table(trigger: &LockedTrigger) -> Result<Table, UnlockError> {
    let known: &[&str] = match trigger.trigger_type.as_str() {
        "http" => &["component", "route", "executor", "static_response"],
        "redis" => &["component", "channel", "address"],
        other => {
            return Err(UnlockError::UnsupportedTrigger {
                id: trigger.id.clone(),
                trigger_type: other.to_owned(),
            });
        }
    };
    if !trigger.trigger_dependencies.is_empty() {
        return Err(UnlockError::UnsupportedTriggerSetting {
            id: trigger.id.clone(),
            key: "trigger_dependencies".into(),
        });
    }
    let Value::Object(config) = &trigger.trigger_config else {
        return Err(UnlockError::Malformed {
            what: format!("trigger `{}`", trigger.id),
            problem: "its settings are not a table".into(),
        });
    };
    let mut t = Table::new();
    t.insert("id".into(), trigger.id.clone().into());
    for (key, value) in config {
        if !known.contains(&key.as_str()) {
            return Err(UnlockError::UnsupportedTriggerSetting {
                id: trigger.id.clone(),
                key: key.clone(),
            });
        }
        let value = to_toml(value).ok_or_else(|| UnlockError::Malformed {
            what: format!("trigger `{}` setting `{key}`", trigger.id),
            problem: "it holds a null".into(),
        })?;
        t.insert(key.clone(), value);
    }
    Ok(t)
}

fn component_table(
    component: &LockedComponent,
    placement: &Placement,
) -> Result<Table, UnlockError> {
    if !component.dependencies.is_empty() || !component.trigger_dependencies.is_empty() {
        return Err(UnlockError::Dependencies(component.id.clone()));
    }
    check_requirements(&component.host_requirements)?;
    let mut t = Table::new();
    t.insert("source".into(), placement.wasm.clone().into());
    let what = |field: &str| format!("component `{}` `{field}`", component.id);
    if let Some(Value::String(d)) = component.metadata.get("description") {
        t.insert("description".into(), d.clone().into());
    }
    for (from, to) in [
        ("allowed_outbound_hosts", "allowed_outbound_hosts"),
        ("key_value_stores", "key_value_stores"),
        ("databases", "sqlite_databases"),
        ("ai_models", "ai_models"),
    ] {
        if let Some(v) = component.metadata.get(from) {
            let list = strings(v, &what(from))?;
            if !list.is_empty() {
                t.insert(to.into(), list.into());
            }
        }
    }
    if !component.env.is_empty() {
        let env: Table = component
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        t.insert("environment".into(), env.into());
    }
    if let Some(dir) = &placement.files {
        let mut mount = Table::new();
        mount.insert("source".into(), dir.clone().into());
        mount.insert("destination".into(), "/".into());
        t.insert("files".into(), vec![toml::Value::from(mount)].into());
    }
    if !component.config.is_empty() {
        let vars: Table = component
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        t.insert("variables".into(), vars.into());
    }
    Ok(t)
}

fn strings(value: &Value, what: &str) -> Result<Vec<String>, UnlockError> {
    let malformed = || UnlockError::Malformed {
        what: what.to_owned(),
        problem: "expected a list of strings".into(),
    };
    let Value::Array(items) = value else {
        return Err(malformed());
    };
    items
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(malformed))
        .collect()
}

/// JSON → TOML; `None` for a null anywhere (TOML has none).
fn to_toml(value: &Value) -> Option<toml::Value> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64()?.into(),
        },
        Value::String(s) => s.clone().into(),
        Value::Array(items) => items
            .iter()
            .map(to_toml)
            .collect::<Option<Vec<_>>>()?
            .into(),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| Some((k.clone(), to_toml(v)?)))
            .collect::<Option<Table>>()?
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ComponentContent, ContentPath, ContentRef, lock};
    use std::path::Path;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "hello"
version = "1.2.0"
authors = ["A <a@example.com>"]
[application.trigger.redis]
address = "redis://127.0.0.1:6379"
[variables]
greeting = { default = "hi" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/hello/..."
component = "hello"
[[trigger.http]]
route = { private = true }
component = "hello"
[[trigger.redis]]
channel = "events"
component = "hello"
[component.hello]
source = "app.wasm"
allowed_outbound_hosts = ["https://example.com"]
key_value_stores = ["default"]
environment = { MODE = "prod" }
files = [{ source = "static", destination = "/www" }]
[component.hello.variables]
message = "{{ greeting }}"
"#;

    fn app() -> spin_manifest::App {
        spin_manifest::parse(MANIFEST, Path::new("/app/spin.toml")).unwrap()
    }

    fn content() -> BTreeMap<String, ComponentContent> {
        let wasm = ContentRef {
            digest: Some("sha256:aa".into()),
            ..Default::default()
        };
        let files = vec![ContentPath {
            content: ContentRef {
                inline: Some(b"<h1>".to_vec()),
                ..Default::default()
            },
            path: "www/index.html".into(),
        }];
        BTreeMap::from([("hello".to_string(), ComponentContent { wasm, files })])
    }

    fn placements() -> BTreeMap<String, Placement> {
        let p = Placement {
            wasm: "hello.wasm".into(),
            files: Some("files/hello".into()),
        };
        BTreeMap::from([("hello".to_string(), p)])
    }

    #[test]
    fn a_locked_app_turns_back_into_the_same_app() {
        let locked = lock(&app(), &content());
        let json = locked.to_json();
        let reread = LockedApp::from_json(&json).unwrap();
        assert_eq!(reread, locked);
        let text = to_manifest(&reread, &placements()).unwrap();
        let back = spin_manifest::parse(&text, Path::new("/pulled/spin.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let original = app();
        assert_eq!(back.name, original.name);
        assert_eq!(back.version, original.version);
        assert_eq!(back.authors, original.authors);
        assert_eq!(back.variables, original.variables);
        assert_eq!(back.redis_address, original.redis_address);
        assert_eq!(back.redis_triggers.len(), 1);
        let routes = |a: &spin_manifest::App| {
            a.http_triggers
                .iter()
                .map(|t| (t.route.value.clone(), t.component.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(routes(&back), routes(&original));
        let (b, o) = (&back.components[0], &original.components[0]);
        assert_eq!(b.variables, o.variables);
        assert_eq!(b.environment, o.environment);
        assert_eq!(b.key_value_stores, o.key_value_stores);
        let hosts = |c: &spin_manifest::Component| {
            c.allowed_outbound_hosts
                .iter()
                .map(|h| h.value.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(hosts(b), hosts(o));
    }

    #[test]
    fn inline_content_is_unpadded_base64_in_json_as_spin_writes_it() {
        let json = String::from_utf8(lock(&app(), &content()).to_json()).unwrap();
        assert!(json.contains(r#""inline":"PGgxPg""#), "{json}");
        assert!(json.contains(r#""spin_lock_version":0"#), "{json}");
        // Padded input (older writers) reads the same.
        let padded = json.replace(r#""PGgxPg""#, r#""PGgxPg==""#);
        assert_eq!(
            LockedApp::from_json(padded.as_bytes()).unwrap(),
            LockedApp::from_json(json.as_bytes()).unwrap()
        );
    }

    #[test]
    fn what_this_host_cannot_run_is_refused_by_name() {
        let mut locked = lock(&app(), &content());
        locked.triggers[0].trigger_type = "cron".into();
        let err = to_manifest(&locked, &placements()).unwrap_err();
        assert!(err.to_string().contains("`cron`"), "{err}");

        let mut locked = lock(&app(), &content());
        locked
            .host_requirements
            .insert("local_service_chaining".into(), "required".into());
        let err = to_manifest(&locked, &placements()).unwrap_err();
        assert!(err.to_string().contains("local_service_chaining"), "{err}");

        let mut locked = lock(&app(), &content());
        locked.triggers[0]
            .trigger_config
            .as_object_mut()
            .unwrap()
            .insert("middleware".into(), "x".into());
        let err = to_manifest(&locked, &placements()).unwrap_err();
        assert!(err.to_string().contains("`middleware`"), "{err}");
    }

    #[test]
    fn a_hostile_value_cannot_break_out_of_its_toml_string() {
        let mut locked = lock(&app(), &content());
        locked.components[0].env.insert(
            "X".into(),
            "\"\n[component.evil]\nsource = \"/bin/sh\"".into(),
        );
        let text = to_manifest(&locked, &placements()).unwrap();
        let back = spin_manifest::parse(&text, Path::new("/pulled/spin.toml")).unwrap();
        assert_eq!(back.components.len(), 1);
    }
}
