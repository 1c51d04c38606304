//! Turns a deserialized manifest of either format into the validated model.
//!
//! v1 is converted the way Spin converts it to v2 (component id fix-ups,
//! `config` as component variables, one trigger per component, legacy
//! outbound defaults), so both formats behave the same downstream.

mod checks;
mod component;
mod trigger;
mod v1;
mod v2;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::document::Document;
use crate::error::{Error, ErrorKind};
use crate::ids;
use crate::model::{App, Located, ManifestFormat, Variable};
use crate::schema::common::{SpannedMap, VariableDef, in_file_order};
use crate::source::SourceFile;
use crate::template;

/// Parses and validates manifest text, for the build profile `profile`
/// (`None`: the default one).
pub(crate) fn load(path: &Path, text: &str, profile: Option<&str>) -> Result<App, Error> {
    let file = SourceFile::new(path, text);
    let document = Document::parse(file)?;
    let format = document.format()?;
    document.check_trigger_types(format)?;
    let draft = match format {
        ManifestFormat::V1 => v1::convert(file, document.deserialize(format)?)?,
        ManifestFormat::V2 => v2::convert(file, document.deserialize(format)?, profile)?,
    };
    // As in Spin: a component without the profile builds and runs as
    // usual, but a profile no component has is a typo.
    if let Some(profile) = profile {
        let mut defined: Vec<String> = draft
            .components
            .iter()
            .flat_map(|c| c.profiles.iter().cloned())
            .collect();
        defined.sort();
        defined.dedup();
        if !defined.iter().any(|p| p == profile) {
            return Err(file.error_unlocated(ErrorKind::UnknownProfile {
                profile: profile.to_owned(),
                defined,
            }));
        }
    }
    Ok(App {
        profile: profile.map(str::to_owned),
        path: path.to_owned(),
        dir: manifest_dir(path),
        format,
        name: draft.name,
        version: non_empty(draft.version),
        description: non_empty(draft.description),
        authors: draft.authors,
        variables: draft.variables,
        http_triggers: draft.http_triggers,
        redis_triggers: draft.redis_triggers,
        redis_address: draft.redis_address,
        components: draft.components,
        text: text.to_owned(),
    })
}

/// What a format converter produces: the [`App`] minus what [`load`] knows.
pub(crate) struct Draft {
    name: String,
    version: Option<String>,
    description: Option<String>,
    authors: Vec<String>,
    variables: BTreeMap<String, Variable>,
    http_triggers: Vec<crate::model::HttpTrigger>,
    redis_triggers: Vec<crate::model::RedisTrigger>,
    redis_address: Option<String>,
    components: Vec<crate::model::Component>,
}

fn manifest_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Spin writes absent strings as `""`; the model says `None`.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// What the converters share: the file (for errors), the declared
/// application variables (for checking templates) and the build profile
/// chosen.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    file: SourceFile<'a>,
    variables: &'a BTreeMap<String, Variable>,
    profile: Option<&'a str>,
}

impl<'a> Ctx<'a> {
    fn located<T>(&self, value: T, span: &crate::source::Span) -> Located<T> {
        Located {
            value,
            location: self.file.location(span.start),
        }
    }

    /// Checks that every `{{ name }}` in `value` names a declared variable.
    fn check_templates(&self, value: &Spanned<String>, field: &str) -> Result<(), Error> {
        let template = value.get_ref();
        let names = template::references(template).map_err(|()| {
            self.file.error(
                value.span(),
                field,
                ErrorKind::UnclosedTemplate {
                    template: template.clone(),
                },
            )
        })?;
        match names.into_iter().find(|n| !self.variables.contains_key(*n)) {
            None => Ok(()),
            Some(name) => Err(self.file.error(
                value.span(),
                field,
                ErrorKind::UndeclaredVariable {
                    template: template.clone(),
                    name: name.to_owned(),
                    declared: self.variables.keys().cloned().collect(),
                },
            )),
        }
    }
}

/// Validates the `[variables]` table: lower snake_case names, and each
/// variable either `required` or with a `default` (as Spin requires).
fn app_variables(
    file: SourceFile<'_>,
    defs: SpannedMap<VariableDef>,
) -> Result<BTreeMap<String, Variable>, Error> {
    let mut variables = BTreeMap::new();
    for (name, def) in in_file_order(defs) {
        check_variable_name(file, &name)?;
        let span = def.span();
        let def = def.into_inner();
        let name = name.into_inner();
        let field = name.clone();
        match (def.required, def.default.is_some()) {
            (true, true) => {
                return Err(file.error(span, &field, ErrorKind::RequiredWithDefault { name }));
            }
            (false, false) => {
                return Err(file.error(span, &field, ErrorKind::VariableWithoutValue { name }));
            }
            _ => {}
        }
        let variable = Variable {
            default: def.default,
            required: def.required,
            secret: def.secret,
            description: def.description,
        };
        variables.insert(name, variable);
    }
    Ok(variables)
}

/// Checks an application or component variable name.
fn check_variable_name(file: SourceFile<'_>, name: &Spanned<String>) -> Result<(), Error> {
    ids::check_lower_snake(name.get_ref()).map_err(|reason| {
        file.error(
            name.span(),
            name.get_ref(),
            ErrorKind::InvalidVariableName {
                name: name.get_ref().clone(),
                reason,
                suggestion: ids::repair(name.get_ref(), '_'),
            },
        )
    })
}
