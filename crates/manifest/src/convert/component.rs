//! Builds a [`Component`] from the fields both formats share.

use std::collections::BTreeMap;
use std::path::PathBuf;

use toml::Spanned;

use super::{Ctx, check_variable_name};
use crate::allowed_http_hosts;
use crate::error::{Error, ErrorKind};
use crate::ids;
use crate::model::{BuildConfig, Component, ComponentSource, FileMount, Located};
use crate::schema::StrOr;
use crate::schema::common::{BuildDef, FileDef, SourceDef, SpannedMap, in_file_order};
use crate::source::Span;

/// Outbound access every v1 component had before `allowed_outbound_hosts`
/// existed; Spin keeps granting it to v1 components that do not set
/// `allowed_outbound_hosts`.
const LEGACY_DATABASE_ACCESS: &[&str] = &["redis://*:*", "mysql://*:*", "postgres://*:*"];

/// A component's fields, gathered from either format.
pub(crate) struct ComponentParts {
    pub(crate) id: String,
    /// The component's table (v2 `[component.<id>]` header, v1
    /// `[[component]]` header, or the inline table).
    pub(crate) span: Span,
    pub(crate) source: Spanned<SourceDef>,
    pub(crate) description: Option<String>,
    pub(crate) variables: SpannedMap<String>,
    pub(crate) environment: BTreeMap<String, String>,
    pub(crate) files: Vec<Spanned<FileDef>>,
    pub(crate) exclude_files: Vec<String>,
    pub(crate) allowed_http_hosts: Vec<Spanned<String>>,
    /// `None` only for a v1 component without the field, which then gets
    /// the legacy database access.
    pub(crate) allowed_outbound_hosts: Option<Vec<Spanned<String>>>,
    pub(crate) key_value_stores: Vec<Spanned<String>>,
    pub(crate) sqlite_databases: Vec<Spanned<String>>,
    pub(crate) ai_models: Vec<String>,
    pub(crate) build: Option<BuildDef>,
    /// `tool.spin-py.max_instance_reuse_count` (v2 only).
    pub(crate) max_instance_reuse_count: Option<Spanned<i64>>,
    /// The build profiles the component defines (v2 only).
    pub(crate) profiles: Vec<String>,
}

impl Ctx<'_> {
    pub(crate) fn component(&self, parts: ComponentParts) -> Result<Component, Error> {
        let mut variables = BTreeMap::new();
        for (name, value) in in_file_order(parts.variables) {
            check_variable_name(self.file, &name)?;
            self.check_templates(&value, name.get_ref())?;
            variables.insert(name.into_inner(), value.into_inner());
        }
        for (field, labels) in [
            ("key_value_stores", &parts.key_value_stores),
            ("sqlite_databases", &parts.sqlite_databases),
        ] {
            for label in labels {
                self.check_label(field, label)?;
            }
        }
        let max_instance_reuse_count = parts
            .max_instance_reuse_count
            .map(|count| self.reuse_count(count))
            .transpose()?;
        Ok(Component {
            max_instance_reuse_count,
            description: super::non_empty(parts.description),
            source: self.source(parts.source)?,
            variables,
            environment: parts.environment,
            files: parts
                .files
                .into_iter()
                .map(|f| self.file_mount(f))
                .collect::<Result<_, _>>()?,
            exclude_files: parts.exclude_files,
            allowed_outbound_hosts: self.outbound_hosts(
                parts.allowed_outbound_hosts,
                &parts.allowed_http_hosts,
                &parts.span,
            )?,
            key_value_stores: parts
                .key_value_stores
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            sqlite_databases: parts
                .sqlite_databases
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            ai_models: parts.ai_models,
            build: parts.build.map(|b| BuildConfig {
                command: b.command.0.join(" && "),
                workdir: b.workdir.map(PathBuf::from),
                watch: b.watch,
            }),
            location: self.file.location(parts.span.start),
            profiles: parts.profiles,
            id: parts.id,
        })
    }

    fn reuse_count(&self, count: Spanned<i64>) -> Result<u32, Error> {
        let span = count.span();
        u32::try_from(*count.get_ref())
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                self.file
                    .error(
                        span,
                        "max_instance_reuse_count",
                        ErrorKind::InvalidValue {
                            field: "max_instance_reuse_count".into(),
                            context: "in `tool.spin-py`".into(),
                            message: format!("{} is not a request count", count.get_ref()),
                        },
                    )
                    .with_hint("write a whole number from 1 (a fresh instance for every request, the default) up, e.g. `max_instance_reuse_count = 1000`")
            })
    }

    pub(crate) fn source(
        &self,
        source: Spanned<SourceDef>,
    ) -> Result<Located<ComponentSource>, Error> {
        let span = source.span();
        let value = match source.into_inner() {
            StrOr::Str(path) => ComponentSource::Local(PathBuf::from(path)),
            StrOr::Table(remote) => {
                let digest = remote.digest;
                if !digest.get_ref().starts_with("sha256:") {
                    return Err(self.file.error(
                        digest.span(),
                        "digest",
                        ErrorKind::InvalidDigest {
                            digest: digest.into_inner(),
                        },
                    ));
                }
                ComponentSource::Remote {
                    url: remote.url,
                    digest: digest.into_inner(),
                }
            }
        };
        Ok(self.located(value, &span))
    }

    fn file_mount(&self, file: Spanned<FileDef>) -> Result<FileMount, Error> {
        let span = file.span();
        Ok(match file.into_inner() {
            StrOr::Str(pattern) => {
                self.check_file_source(&pattern, &span, "files")?;
                FileMount::Pattern(pattern)
            }
            StrOr::Table(placement) => {
                let source = placement.source;
                self.check_file_source(source.get_ref(), &source.span(), "source")?;
                let destination = placement.destination;
                if !destination.get_ref().starts_with('/') {
                    return Err(self.file.error(
                        destination.span(),
                        "destination",
                        ErrorKind::RelativeDestination {
                            destination: destination.into_inner(),
                        },
                    ));
                }
                let Some(normalized) = normalize_destination(destination.get_ref()) else {
                    return Err(self.file.error(
                        destination.span(),
                        "destination",
                        ErrorKind::DestinationEscapes {
                            destination: destination.into_inner(),
                        },
                    ));
                };
                FileMount::Placement {
                    source: PathBuf::from(source.into_inner()),
                    destination: normalized,
                }
            }
        })
    }

    /// A `files` pattern or source names host files, so it must stay inside
    /// the application directory: an absolute path or a `..` would mount
    /// any directory of the host into the guest.
    fn check_file_source(&self, source: &str, span: &Span, field: &str) -> Result<(), Error> {
        let path = std::path::Path::new(source);
        let escapes = path.has_root()
            || path.components().any(|c| {
                matches!(
                    c,
                    std::path::Component::ParentDir | std::path::Component::Prefix(_)
                )
            });
        if escapes {
            return Err(self.file.error(
                span.clone(),
                field,
                ErrorKind::FileSourceOutsideApp {
                    path: source.to_owned(),
                },
            ));
        }
        Ok(())
    }

    /// `allowed_outbound_hosts` as written, then (v1 only) the legacy
    /// database access, then the converted `allowed_http_hosts`: the order
    /// Spin produces.
    fn outbound_hosts(
        &self,
        outbound: Option<Vec<Spanned<String>>>,
        http: &[Spanned<String>],
        component_span: &Span,
    ) -> Result<Vec<Located<String>>, Error> {
        let legacy = outbound.is_none();
        let mut hosts = Vec::new();
        for host in outbound.unwrap_or_default() {
            self.check_templates(&host, "allowed_outbound_hosts")?;
            hosts.push(self.located(host.get_ref().clone(), &host.span()));
        }
        if legacy {
            hosts.extend(
                LEGACY_DATABASE_ACCESS
                    .iter()
                    .map(|h| self.located((*h).to_owned(), component_span)),
            );
        }
        let entries: Vec<&str> = http.iter().map(|h| h.get_ref().as_str()).collect();
        let converted = allowed_http_hosts::convert(&entries).map_err(|(i, reason)| {
            self.file.error(
                http[i].span(),
                "allowed_http_hosts",
                ErrorKind::InvalidAllowedHttpHost {
                    entry: http[i].get_ref().clone(),
                    reason,
                },
            )
        })?;
        hosts.extend(
            converted
                .into_iter()
                .map(|(i, host)| self.located(host, &http[i].span())),
        );
        Ok(hosts)
    }

    fn check_label(&self, field: &str, label: &Spanned<String>) -> Result<(), Error> {
        ids::check_label(label.get_ref()).map_err(|reason| {
            self.file.error(
                label.span(),
                field,
                ErrorKind::InvalidLabel {
                    field: field.to_owned(),
                    label: label.get_ref().clone(),
                    reason,
                },
            )
        })
    }
}

/// A guest path with `.`, `..` and repeated `/` resolved lexically, or
/// `None` if a `..` climbs above `/`: joined to the staging directory, such a
/// destination would place files outside it.
pub(crate) fn normalize_destination(destination: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in destination.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::normalize_destination;

    #[test]
    fn destinations_are_normalised_lexically() {
        assert_eq!(normalize_destination("/").as_deref(), Some("/"));
        assert_eq!(normalize_destination("//a/./b/").as_deref(), Some("/a/b"));
        assert_eq!(normalize_destination("/a/b/../c").as_deref(), Some("/a/c"));
        assert_eq!(normalize_destination("/a/..").as_deref(), Some("/"));
        assert_eq!(normalize_destination("/.."), None);
        assert_eq!(normalize_destination("/a/../../etc"), None);
    }
}
