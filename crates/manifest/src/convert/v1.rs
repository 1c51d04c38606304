//! v1 manifests: one app-wide trigger type, with each component's trigger
//! settings inside the component.

use toml::Spanned;

use super::checks::Checks;
use super::component::ComponentParts;
use super::{Ctx, Draft, app_variables};
use crate::error::{Error, ErrorKind};
use crate::ids;
use crate::model::{HttpTrigger, RedisTrigger};
use crate::schema::v1::{AppTriggerV1, ComponentTriggerV1, ComponentV1, ManifestV1};
use crate::source::{SourceFile, Span};

/// The app-wide trigger, checked.
enum AppTrigger {
    Http { base: String },
    Redis,
}

pub(crate) fn convert(file: SourceFile<'_>, manifest: ManifestV1) -> Result<Draft, Error> {
    let variables = app_variables(file, manifest.variables)?;
    // v1 has no build profiles.
    let ctx = Ctx {
        file,
        variables: &variables,
        profile: None,
    };
    let trigger_span = manifest.trigger.span();
    let AppTriggerV1 {
        kind,
        base,
        address,
    } = manifest.trigger.into_inner();
    let app_trigger = if kind.get_ref() == "http" {
        if let Some(address) = &address {
            return Err(wrong_field(file, address.span(), "address", "http"));
        }
        AppTrigger::Http {
            base: ctx.base(base)?,
        }
    } else {
        if let Some(base) = &base {
            return Err(wrong_field(file, base.span(), "base", "redis"));
        }
        match &address {
            Some(address) => ctx.check_templates(address, "address")?,
            None => {
                let kind = ErrorKind::MissingField {
                    field: "address".into(),
                    context: "in `trigger`".into(),
                };
                return Err(file
                    .error(trigger_span, "address", kind)
                    .with_hint("add the Redis server's address: `trigger = { type = \"redis\", address = \"redis://localhost:6379\" }`"));
            }
        }
        AppTrigger::Redis
    };

    let mut checks = Checks::default();
    let mut components = Vec::new();
    let mut http_triggers = Vec::new();
    let mut redis_triggers = Vec::new();
    for component in manifest.components {
        let span = component.span();
        let component = component.into_inner();
        let id = component_id(file, &component.id)?;
        checks.component(&id, component.id.span());
        let (parts, trigger) = split(id.clone(), span, component);
        let trigger_span = trigger.span();
        let ComponentTriggerV1 {
            route,
            executor,
            channel,
        } = trigger.into_inner();
        let location = file.location(trigger_span.start);
        match &app_trigger {
            AppTrigger::Http { base } => {
                if let Some(channel) = channel {
                    return Err(wrong_field(file, channel.span(), "channel", "http"));
                }
                let route = route
                    .ok_or_else(|| missing_trigger_field(file, &trigger_span, "route", &id))?;
                let route_span = route.span();
                let route = ctx.route(base, route)?;
                if let crate::model::HttpRoute::Path(path) = &route.value {
                    checks.route(path, route_span);
                }
                let executor_location = executor
                    .as_ref()
                    .map_or(location, |e| file.location(e.span().start));
                http_triggers.push(HttpTrigger {
                    id: None,
                    route,
                    component: Some(id.clone()),
                    static_response: None,
                    executor: ctx.executor(executor)?,
                    location,
                    executor_location,
                });
            }
            AppTrigger::Redis => {
                if let Some(route) = route {
                    return Err(wrong_field(file, route.span(), "route", "redis"));
                }
                if let Some(executor) = executor {
                    return Err(wrong_field(file, executor.span(), "executor", "redis"));
                }
                let channel = channel
                    .ok_or_else(|| missing_trigger_field(file, &trigger_span, "channel", &id))?;
                redis_triggers.push(RedisTrigger {
                    channel: channel.into_inner(),
                    address: None,
                    component: id.clone(),
                    location,
                });
            }
        }
        components.push(ctx.component(parts)?);
    }
    checks.run(file)?;

    Ok(Draft {
        name: manifest.name.into_inner(),
        version: manifest.version,
        description: manifest.description,
        authors: manifest.authors,
        http_triggers,
        redis_triggers,
        redis_address: address.map(Spanned::into_inner),
        components,
        variables,
    })
}

/// The component's id after Spin's v1 fix-ups (`Hello_World` is `hello-world`).
fn component_id(file: SourceFile<'_>, id: &Spanned<String>) -> Result<String, Error> {
    ids::v1_component_id(id.get_ref()).map_err(|reason| {
        file.error(
            id.span(),
            "id",
            ErrorKind::InvalidComponentId {
                id: id.get_ref().clone(),
                reason,
                suggestion: ids::repair(id.get_ref(), '-'),
            },
        )
    })
}

/// Separates the shared component fields from the v1 trigger settings.
fn split(id: String, span: Span, c: ComponentV1) -> (ComponentParts, Spanned<ComponentTriggerV1>) {
    let parts = ComponentParts {
        id,
        span,
        source: c.source,
        description: c.description,
        variables: c.config,
        environment: c.environment,
        files: c.files,
        exclude_files: c.exclude_files,
        allowed_http_hosts: c.allowed_http_hosts,
        allowed_outbound_hosts: c.allowed_outbound_hosts,
        key_value_stores: c.key_value_stores,
        sqlite_databases: c.sqlite_databases,
        ai_models: c.ai_models,
        build: c.build,
        max_instance_reuse_count: None,
        profiles: Vec::new(),
    };
    (parts, c.trigger)
}

fn wrong_field(file: SourceFile<'_>, span: Span, field: &str, trigger_type: &str) -> Error {
    file.error(
        span,
        field,
        ErrorKind::WrongTriggerField {
            field: field.to_owned(),
            trigger_type: trigger_type.to_owned(),
        },
    )
}

fn missing_trigger_field(file: SourceFile<'_>, span: &Span, field: &str, id: &str) -> Error {
    let example = if field == "route" {
        "route = \"/...\""
    } else {
        "channel = \"messages\""
    };
    file.error(
        span.clone(),
        field,
        ErrorKind::MissingField {
            field: field.to_owned(),
            context: format!("in `trigger` of component `{id}`"),
        },
    )
    .with_hint(format!("add `{example}` under `[component.trigger]`"))
}
