//! The parsed TOML document: syntax errors, version detection, the trigger
//! type check, and turning serde's errors into located manifest errors.

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer};

use crate::context::{Seg, Target, describe, known_mistake, path_to, split_field};
use crate::error::{Error, ErrorKind};
use crate::examples::example;
use crate::model::ManifestFormat;
use crate::source::{SourceFile, Span};
use crate::suggest::closest;

/// The trigger types this implementation runs.
const TRIGGER_TYPES: &[&str] = &["http", "redis"];

/// A manifest parsed as TOML but not yet checked against a schema.
pub(crate) struct Document<'a> {
    file: SourceFile<'a>,
    root: Spanned<DeTable<'a>>,
}

impl<'a> Document<'a> {
    pub(crate) fn parse(file: SourceFile<'a>) -> Result<Self, Error> {
        let root = DeTable::parse(file.text()).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = match e.message() {
                // toml does not say which key; the span does.
                "duplicate key" => format!("duplicate key `{}`", &file.text()[span.clone()]),
                other => other.to_owned(),
            };
            let duplicate = message.starts_with("duplicate key");
            let error = file.error(span, "", ErrorKind::Syntax { message });
            if duplicate {
                error.with_hint("a key may appear only once in a table (and a table header only once); remove or rename one of them")
            } else {
                error
            }
        })?;
        Ok(Self { file, root })
    }

    fn top(
        &self,
        key: &str,
    ) -> Option<(&Spanned<std::borrow::Cow<'a, str>>, &Spanned<DeValue<'a>>)> {
        self.root.get_ref().iter().find(|(k, _)| k.get_ref() == key)
    }

    /// Which format the manifest declares.
    pub(crate) fn format(&self) -> Result<ManifestFormat, Error> {
        let Some((key, value)) = self
            .top("spin_manifest_version")
            .or_else(|| self.top("spin_version"))
        else {
            let looks_like_v2 = self.top("application").is_some();
            return Err(self.file.error(
                0..0,
                "spin_manifest_version",
                ErrorKind::MissingVersion { looks_like_v2 },
            ));
        };
        let field = key.get_ref().as_ref();
        let number = match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        match (value.get_ref().as_str(), number) {
            (Some("1"), _) => return Ok(ManifestFormat::V1),
            (_, Some(2)) => return Ok(ManifestFormat::V2),
            _ => {}
        }
        let found = self.file.text()[value.span()].to_owned();
        let error = self
            .file
            .error(value.span(), field, ErrorKind::UnsupportedVersion { found });
        Err(match (value.get_ref().as_str(), number) {
            (Some("2"), _) => error.with_hint("version 2 is written as a number: `spin_manifest_version = 2`"),
            (_, Some(1)) => error.with_hint(
                "version 1 is written as a string: `spin_manifest_version = \"1\"`; new manifests should use `spin_manifest_version = 2`",
            ),
            _ => error,
        })
    }

    /// Rejects trigger types other than `http` and `redis` up front, so that
    /// their fields are not reported as unknown.
    pub(crate) fn check_trigger_types(&self, format: ManifestFormat) -> Result<(), Error> {
        let Some((_, trigger)) = self.top("trigger") else {
            return Ok(());
        };
        let Some(trigger) = trigger.get_ref().as_table() else {
            return Ok(());
        };
        let unsupported = |span: Span, field: &str, trigger_type: &str| {
            Err(self.file.error(
                span,
                field,
                ErrorKind::UnsupportedTriggerType {
                    trigger_type: trigger_type.to_owned(),
                },
            ))
        };
        match format {
            ManifestFormat::V1 => {
                let kind = trigger.iter().find(|(k, _)| k.get_ref() == "type");
                if let Some((_, kind)) = kind
                    && let Some(name) = kind.get_ref().as_str()
                    && !TRIGGER_TYPES.contains(&name)
                {
                    return unsupported(kind.span(), "type", name);
                }
            }
            ManifestFormat::V2 => {
                let mut keys: Vec<_> = trigger.keys().collect();
                keys.sort_by_key(|k| k.span().start);
                if let Some(key) = keys
                    .iter()
                    .find(|k| !TRIGGER_TYPES.contains(&k.get_ref().as_ref()))
                {
                    return unsupported(key.span(), key.get_ref(), key.get_ref());
                }
            }
        }
        Ok(())
    }

    /// Deserializes the document into a schema type.
    pub(crate) fn deserialize<T: DeserializeOwned>(
        &self,
        format: ManifestFormat,
    ) -> Result<T, Error> {
        T::deserialize(Deserializer::from(self.root.clone()))
            .map_err(|e| self.schema_error(&e, format))
    }

    /// Classifies serde's error message and locates it in the document.
    fn schema_error(&self, error: &toml::de::Error, format: ManifestFormat) -> Error {
        let message = error.message();
        let span = error.span().unwrap_or(0..0);
        let root = self.root.get_ref();
        let hint_for = |table: &[Seg<'_>], field: &str, verb: &str| {
            example(format, table, field).map(|e| format!("{verb} {e}"))
        };

        if let Some(field) = quoted_after(message, "unknown field ") {
            let path = path_to(root, &span, Target::Key);
            let (_, table) = split_field(&path);
            let valid = quoted_names(message.split_once("expected").map_or("", |(_, rest)| rest));
            let candidates: Vec<&str> = valid.iter().map(String::as_str).collect();
            let kind = ErrorKind::UnknownField {
                field: field.to_owned(),
                context: describe(root, table),
                suggestion: closest(field, &candidates).map(str::to_owned),
                valid,
            };
            let error = self.file.error(span, field, kind);
            return match known_mistake(format, table, field) {
                Some(hint) => error.with_hint(hint),
                None => error,
            };
        }
        if let Some(field) = quoted_after(message, "missing field ") {
            let path = path_to(root, &span, Target::Value);
            let kind = ErrorKind::MissingField {
                field: field.to_owned(),
                context: describe(root, &path),
            };
            let error = self.file.error(span, field, kind);
            return match hint_for(&path, field, "add") {
                Some(hint) => error.with_hint(hint),
                None => error,
            };
        }
        if let Some(field) = quoted_after(message, "duplicate field ") {
            let path = path_to(root, &span, Target::Key);
            let (_, table) = split_field(&path);
            let kind = ErrorKind::DuplicateField {
                field: field.to_owned(),
                context: describe(root, table),
            };
            return self.file.error(span, field, kind);
        }
        let path = path_to(root, &span, Target::Value);
        let (field, table) = split_field(&path);
        let field = field.unwrap_or("manifest");
        let kind = ErrorKind::InvalidValue {
            field: field.to_owned(),
            context: describe(root, table),
            message: message.to_owned(),
        };
        let error = self.file.error(span, field, kind);
        match hint_for(table, field, "write it like") {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    }
}

/// The backquoted name that follows `prefix` at the start of `message`.
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(name, _)| name)
}

/// Every backquoted name in `text` (serde lists valid fields this way).
fn quoted_names(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_serdes_field_lists() {
        let message = "unknown field `sorce`, expected one of `id`, `source`, `trigger`";
        assert_eq!(quoted_after(message, "unknown field "), Some("sorce"));
        let (_, expected) = message.split_once("expected").unwrap();
        assert_eq!(quoted_names(expected), ["id", "source", "trigger"]);
        assert_eq!(quoted_names(" `a` or `b`"), ["a", "b"]);
        assert_eq!(
            quoted_after("missing field `name`", "missing field "),
            Some("name")
        );
        assert_eq!(
            quoted_after("invalid type: integer", "missing field "),
            None
        );
    }

    /// Guards the message parsing above against changes in serde's wording.
    #[test]
    fn serde_messages_still_have_the_expected_shape() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only deserialized to provoke errors")]
        struct Probe {
            name: String,
            id: String,
        }
        let unknown = toml::from_str::<Probe>("nam = 1").unwrap_err();
        assert_eq!(
            unknown.message(),
            "unknown field `nam`, expected `name` or `id`"
        );
        let missing = toml::from_str::<Probe>("name = 'x'").unwrap_err();
        assert_eq!(missing.message(), "missing field `id`");
    }
}
