//! v2 manifests: `[application]`, `[[trigger.<type>]]` tables and
//! `[component.<id>]` tables.

use std::collections::HashSet;

use serde::de::IgnoredAny;
use toml::Spanned;

use super::checks::Checks;
use super::component::ComponentParts;
use super::{Ctx, Draft, app_variables};
use crate::error::{Error, ErrorKind};
use crate::ids;
use crate::model::{Component, HttpRoute, HttpTrigger, RedisTrigger};
use crate::schema::StrOr;
use crate::schema::common::BuildDef;
use crate::schema::common::in_file_order;
use crate::schema::v2::{
    ComponentSpec, ComponentV2, HttpTriggerV2, ManifestV2, ProfileBuildV2, RedisTriggerV2,
    TriggersV2,
};
use crate::source::{SourceFile, Span};

pub(crate) fn convert(
    file: SourceFile<'_>,
    manifest: ManifestV2,
    profile: Option<&str>,
) -> Result<Draft, Error> {
    let application = manifest.application.into_inner();
    let variables = app_variables(file, manifest.variables)?;
    let ctx = Ctx {
        file,
        variables: &variables,
        profile,
    };
    let base = ctx.base(application.trigger.http.and_then(|h| h.base))?;
    let redis_address = application.trigger.redis.and_then(|r| r.address);
    if let Some(address) = &redis_address {
        ctx.check_templates(address, "address")?;
    }

    let mut checks = Checks::default();
    let declared = in_file_order(manifest.component);
    for (id, _) in &declared {
        check_component_id(file, id)?;
        checks.component(id.get_ref(), id.span());
    }
    let mut builder = Builder {
        ctx,
        checks,
        component_ids: declared
            .iter()
            .map(|(id, _)| id.get_ref().clone())
            .collect(),
        inline: Vec::new(),
    };

    let TriggersV2 { http, redis } = manifest.trigger.into_inner();
    let mut trigger_ids = TriggerIds::new(&http, &redis);
    let http_triggers = http
        .into_iter()
        .map(|t| builder.http_trigger(&base, &mut trigger_ids, t))
        .collect::<Result<Vec<_>, _>>()?;
    let redis_triggers = redis
        .into_iter()
        .map(|t| builder.redis_trigger(redis_address.is_some(), &mut trigger_ids, t))
        .collect::<Result<Vec<_>, _>>()?;

    let mut components = builder.inline;
    for (id, component) in declared {
        let span = component.span();
        let parts = parts(&ctx, id.into_inner(), span.clone(), component.into_inner())?;
        components.push((span.start, ctx.component(parts)?));
    }
    components.sort_by_key(|(start, _)| *start);
    builder.checks.run(file)?;

    Ok(Draft {
        name: application.name.into_inner(),
        version: application.version,
        description: application.description,
        authors: application.authors,
        http_triggers,
        redis_triggers,
        redis_address: redis_address.map(Spanned::into_inner),
        components: components.into_iter().map(|(_, c)| c).collect(),
        variables,
    })
}

fn check_component_id(file: SourceFile<'_>, id: &Spanned<String>) -> Result<(), Error> {
    ids::check_kebab(id.get_ref()).map_err(|reason| {
        file.error(
            id.span(),
            "component",
            ErrorKind::InvalidComponentId {
                id: id.get_ref().clone(),
                reason,
                suggestion: ids::repair(id.get_ref(), '-'),
            },
        )
    })
}

/// Converts triggers, collecting inline components as it goes.
struct Builder<'a> {
    ctx: Ctx<'a>,
    checks: Checks,
    /// Every component id so far, declared or generated.
    component_ids: HashSet<String>,
    /// Inline components, with their position in the file.
    inline: Vec<(usize, Component)>,
}

impl Builder<'_> {
    fn http_trigger(
        &mut self,
        base: &str,
        ids: &mut TriggerIds,
        trigger: Spanned<HttpTriggerV2>,
    ) -> Result<HttpTrigger, Error> {
        let span = trigger.span();
        let trigger = trigger.into_inner();
        reject_trigger_extras(self.ctx.file, trigger.components, trigger.dependencies)?;
        let trigger_id = ids.next("http", trigger.id.as_ref(), trigger.component.as_ref());
        let (component, static_response) = match (trigger.component, trigger.static_response) {
            (Some(_), Some(response)) => {
                return Err(self.ctx.file.error(
                    response.span(),
                    "static_response",
                    ErrorKind::ComponentAndStaticResponse,
                ));
            }
            (Some(spec), None) => (Some(self.component_spec(&trigger_id, spec)?), None),
            (None, Some(response)) => (None, Some(self.ctx.static_response(response)?)),
            (None, None) => {
                let kind = ErrorKind::MissingField {
                    field: "component".into(),
                    context: "in a `[[trigger.http]]` table".into(),
                };
                return Err(self
                    .ctx
                    .file
                    .error(span.clone(), "component", kind)
                    .with_hint("add `component = \"<component id>\"`, or `static_response = { status_code = 404 }` to answer without a component"));
            }
        };
        let route_span = trigger.route.span();
        let route = self.ctx.route(base, trigger.route)?;
        if let HttpRoute::Path(path) = &route.value {
            self.checks.route(path, route_span);
        }
        let location = self.ctx.file.location(span.start);
        let executor_location = trigger
            .executor
            .as_ref()
            .map_or(location, |e| self.ctx.file.location(e.span().start));
        Ok(HttpTrigger {
            id: trigger.id.map(Spanned::into_inner),
            route,
            component,
            static_response,
            executor: self.ctx.executor(trigger.executor)?,
            location,
            executor_location,
        })
    }

    fn redis_trigger(
        &mut self,
        has_app_address: bool,
        ids: &mut TriggerIds,
        trigger: Spanned<RedisTriggerV2>,
    ) -> Result<RedisTrigger, Error> {
        let span = trigger.span();
        let trigger = trigger.into_inner();
        reject_trigger_extras(self.ctx.file, trigger.components, trigger.dependencies)?;
        let trigger_id = ids.next("redis", trigger.id.as_ref(), Some(&trigger.component));
        match &trigger.address {
            Some(address) => self.ctx.check_templates(address, "address")?,
            None if has_app_address => {}
            None => {
                return Err(self.ctx.file.error(
                    span,
                    "address",
                    ErrorKind::MissingRedisAddress {
                        channel: trigger.channel.into_inner(),
                    },
                ));
            }
        }
        Ok(RedisTrigger {
            component: self.component_spec(&trigger_id, trigger.component)?,
            channel: trigger.channel.into_inner(),
            address: trigger.address.map(Spanned::into_inner),
            location: self.ctx.file.location(span.start),
        })
    }

    /// The id of the referenced or inline component.
    fn component_spec(
        &mut self,
        trigger_id: &str,
        spec: Spanned<ComponentSpec>,
    ) -> Result<String, Error> {
        let span = spec.span();
        match spec.into_inner() {
            StrOr::Str(id) => {
                self.checks.reference(&id, span);
                Ok(id)
            }
            StrOr::Table(inline) => {
                let id = self.inline_id(trigger_id);
                let parts = parts(&self.ctx, id.clone(), span.clone(), *inline)?;
                self.inline.push((span.start, self.ctx.component(parts)?));
                Ok(id)
            }
        }
    }

    /// Spin's name for an inline component: `<trigger id>-component`, or
    /// `inline-component<N>` when that is taken or not a valid id.
    fn inline_id(&mut self, trigger_id: &str) -> String {
        let natural = format!("{trigger_id}-component");
        let id = if ids::check_kebab(&natural).is_ok() && !self.component_ids.contains(&natural) {
            natural
        } else {
            (1..)
                .map(|n| format!("inline-component{n}"))
                .find(|id| !self.component_ids.contains(id))
                .expect("an unbounded range always has a free id")
        };
        self.component_ids.insert(id.clone());
        id
    }
}

/// Spin's trigger ids, which name inline components: the trigger's own
/// `id`, else `<component>-<type>-trigger`, else `<type>-trigger<N>`.
/// Triggers are numbered HTTP first, then Redis.
struct TriggerIds {
    taken: HashSet<String>,
}

impl TriggerIds {
    fn new(http: &[Spanned<HttpTriggerV2>], redis: &[Spanned<RedisTriggerV2>]) -> Self {
        let explicit = http
            .iter()
            .filter_map(|t| t.get_ref().id.as_ref())
            .chain(redis.iter().filter_map(|t| t.get_ref().id.as_ref()));
        Self {
            taken: explicit.map(|id| id.get_ref().clone()).collect(),
        }
    }

    fn next(
        &mut self,
        kind: &str,
        id: Option<&Spanned<String>>,
        component: Option<&Spanned<ComponentSpec>>,
    ) -> String {
        if let Some(id) = id {
            return id.get_ref().clone();
        }
        if let Some(StrOr::Str(component)) = component.map(Spanned::get_ref) {
            let natural = format!("{component}-{kind}-trigger");
            if self.taken.insert(natural.clone()) {
                return natural;
            }
        }
        let id = (1..)
            .map(|n| format!("{kind}-trigger{n}"))
            .find(|id| !self.taken.contains(id))
            .expect("an unbounded range always has a free id");
        self.taken.insert(id.clone());
        id
    }
}

/// An error for a Spin feature this implementation does not run.
fn reject(
    file: SourceFile<'_>,
    field: Option<Spanned<IgnoredAny>>,
    feature: &str,
) -> Result<(), Error> {
    match field {
        None => Ok(()),
        Some(field) => Err(file.error(
            field.span(),
            feature,
            ErrorKind::Unsupported {
                feature: feature.to_owned(),
            },
        )),
    }
}

/// Rejects the trigger-level `components` and `dependencies` fields, which
/// Spin accepts and this implementation does not run.
fn reject_trigger_extras(
    file: SourceFile<'_>,
    components: Option<Spanned<IgnoredAny>>,
    dependencies: Option<Spanned<IgnoredAny>>,
) -> Result<(), Error> {
    reject(file, components, "the trigger `components` field")?;
    reject(file, dependencies, "trigger `dependencies`")
}

/// Separates the shared component fields from v2-only ones, rejecting
/// features this implementation does not run.
fn parts(ctx: &Ctx<'_>, id: String, span: Span, c: ComponentV2) -> Result<ComponentParts, Error> {
    reject(ctx.file, c.dependencies, "component `dependencies`")?;
    let mut profiles = Vec::new();
    let mut chosen = None;
    for (name, profile) in in_file_order(c.profile) {
        let mut profile = profile.into_inner();
        reject(
            ctx.file,
            profile.dependencies.take(),
            "profile `dependencies`",
        )?;
        if ctx.profile == Some(name.get_ref().as_str()) {
            chosen = Some(profile);
        } else if let Some(source) = profile.source {
            // Checked even when not chosen, so that a mistake shows at once.
            ctx.source(source)?;
        }
        profiles.push(name.into_inner());
    }
    let (source, environment, build) = match chosen {
        None => (c.source, c.environment, c.build),
        Some(profile) => {
            let mut environment = c.environment;
            environment.extend(profile.environment);
            let build = match (c.build, profile.build) {
                (build, None) => build,
                (Some(build), Some(ProfileBuildV2 { command })) => {
                    Some(BuildDef { command, ..build })
                }
                (None, Some(ProfileBuildV2 { command })) => Some(BuildDef {
                    command,
                    workdir: None,
                    watch: Vec::new(),
                }),
            };
            let source = match profile.source {
                Some(source) => {
                    // The component's own is checked all the same.
                    ctx.source(c.source)?;
                    source
                }
                None => c.source,
            };
            (source, environment, build)
        }
    };
    Ok(ComponentParts {
        id,
        span,
        source,
        description: c.description,
        variables: c.variables,
        environment,
        files: c.files,
        exclude_files: c.exclude_files,
        allowed_http_hosts: c.allowed_http_hosts,
        allowed_outbound_hosts: Some(c.allowed_outbound_hosts),
        key_value_stores: c.key_value_stores,
        sqlite_databases: c.sqlite_databases,
        ai_models: c.ai_models,
        build,
        max_instance_reuse_count: c.tool.spin_py.and_then(|t| t.max_instance_reuse_count),
        profiles,
    })
}
