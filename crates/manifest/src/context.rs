//! Describes where in the manifest an error is ("in component `hello`"),
//! by finding the key path of a span in the parsed TOML document.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::model::ManifestFormat;
use crate::source::Span;

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// What an error span is expected to cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// A key (unknown and duplicate fields).
    Key,
    /// A value (bad values, and tables with missing fields).
    Value,
}

/// The key path of the key or value whose span is exactly `span`; empty for
/// the document itself or when nothing matches.
pub(crate) fn path_to<'a>(root: &'a DeTable<'a>, span: &Span, target: Target) -> Vec<Seg<'a>> {
    let mut path = Vec::new();
    if search_table(root, span, target, &mut path) {
        path
    } else {
        Vec::new()
    }
}

fn search_table<'a>(
    table: &'a DeTable<'a>,
    span: &Span,
    target: Target,
    path: &mut Vec<Seg<'a>>,
) -> bool {
    for (key, value) in table.iter() {
        path.push(Seg::Key(key.get_ref()));
        let here = match target {
            Target::Key => key.span() == *span,
            Target::Value => value.span() == *span,
        };
        // Deeper matches win: an array of tables shares its span with the
        // header of its first table.
        if search_value(value, span, target, path) || here {
            return true;
        }
        path.pop();
    }
    false
}

fn search_value<'a>(
    value: &'a Spanned<DeValue<'a>>,
    span: &Span,
    target: Target,
    path: &mut Vec<Seg<'a>>,
) -> bool {
    match value.get_ref() {
        DeValue::Table(table) => search_table(table, span, target, path),
        DeValue::Array(items) => items.iter().enumerate().any(|(i, item)| {
            path.push(Seg::Index(i));
            let found = search_value(item, span, target, path)
                || (target == Target::Value && item.span() == *span);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    }
}

/// The last key in `path` (the field an error is about) and the path of the
/// table holding it.
pub(crate) fn split_field<'p, 'a>(path: &'p [Seg<'a>]) -> (Option<&'a str>, &'p [Seg<'a>]) {
    match path.iter().rposition(|s| matches!(s, Seg::Key(_))) {
        Some(i) => match path[i] {
            Seg::Key(key) => (Some(key), &path[..i]),
            Seg::Index(_) => unreachable!("rposition found a key"),
        },
        None => (None, path),
    }
}

/// "in component `hello`", "in `[application]`", ... for the table at `path`.
pub(crate) fn describe(root: &DeTable<'_>, path: &[Seg<'_>]) -> String {
    match name(root, path) {
        Some(name) => format!("in {name}"),
        None => "at the top level of the manifest".into(),
    }
}

fn name(root: &DeTable<'_>, path: &[Seg<'_>]) -> Option<String> {
    use Seg::{Index, Key};
    Some(match path {
        [] => return None,
        [Key("application")] => "`[application]`".into(),
        [Key("application"), Key("trigger"), Key(kind)] => {
            format!("`[application.trigger.{kind}]`")
        }
        [Key("variables"), Key(name)] => format!("variable `{name}`"),
        [Key("component"), Index(i)] => match v1_component_id(root, *i) {
            Some(id) => format!("component `{id}`"),
            None => format!("component #{}", i + 1),
        },
        [Key("component"), Key(id)] => format!("component `{id}`"),
        [Key("trigger"), Key(kind), Index(_)] => format!("a `[[trigger.{kind}]]` table"),
        [Key("trigger"), Key(_), Index(_), Key("component")] => {
            format!("the inline component of {}", name(root, &path[..3])?)
        }
        [.., Index(_)] => return name(root, &path[..path.len() - 1]),
        [parent @ .., Key(field)] => match name(root, parent) {
            Some(parent) => format!("`{field}` of {parent}"),
            None => format!("`{field}`"),
        },
    })
}

fn v1_component_id<'a>(root: &'a DeTable<'a>, index: usize) -> Option<&'a str> {
    let (_, components) = root.iter().find(|(k, _)| k.get_ref() == "component")?;
    let component = components
        .get_ref()
        .as_array()?
        .get(index)?
        .get_ref()
        .as_table()?;
    let (_, id) = component.iter().find(|(k, _)| k.get_ref() == "id")?;
    id.get_ref().as_str()
}

/// A targeted hint for fields people commonly carry over from the other
/// manifest format, or from Spin features this implementation lacks.
pub(crate) fn known_mistake(
    format: ManifestFormat,
    table: &[Seg<'_>],
    field: &str,
) -> Option<&'static str> {
    use ManifestFormat::{V1, V2};
    use Seg::{Index, Key};
    let in_component = matches!(
        table,
        [Key("component"), _] | [Key("trigger"), Key(_), Index(_), Key("component")]
    );
    Some(match (format, field) {
        (_, "registry" | "package" | "version") if matches!(table.last(), Some(Key("source"))) => {
            "registry sources are not supported; use a local path (`source = \"app.wasm\"`) or `source = { url = \"...\", digest = \"sha256:...\" }`"
        }
        (V1, "variables") if in_component => {
            "version 1 manifests call component variables `config`: write `config = { name = \"value\" }`"
        }
        (V2, "config") if in_component => {
            "version 2 manifests call component variables `variables`: write `variables = { name = \"value\" }`"
        }
        (V2, "id") if in_component => {
            "in version 2 manifests the component id is the table name, as in `[component.hello-world]`; remove `id`"
        }
        (V2, "trigger") if in_component => {
            "in version 2 manifests triggers are separate tables: add `[[trigger.http]]` with `route = \"/...\"` and `component = \"<id>\"`"
        }
        (V2, "name" | "version" | "description" | "authors") if table.is_empty() => {
            "in version 2 manifests this belongs in the `[application]` table"
        }
        (V2, "spin_version") if table.is_empty() => {
            "version 2 manifests start with `spin_manifest_version = 2`; remove `spin_version`"
        }
        (V1, "application") if table.is_empty() => {
            "`[application]` is version 2 syntax; start the file with `spin_manifest_version = 2` to use it"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_and_description(text: &str, needle: &str, target: Target) -> (Vec<String>, String) {
        let root = DeTable::parse(text).unwrap();
        let start = text.find(needle).unwrap();
        let span = start..start + needle.len();
        let path = path_to(root.get_ref(), &span, target);
        let printed = path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => k.to_string(),
                Seg::Index(i) => i.to_string(),
            })
            .collect();
        let (_, table) = split_field(&path);
        let description = match target {
            Target::Key => describe(root.get_ref(), table),
            Target::Value => describe(root.get_ref(), &path),
        };
        (printed, description)
    }

    #[test]
    fn finds_keys_inside_header_tables() {
        let text = "name = 'x'\n[[component]]\nid = 'hello'\nsorce = 'a'\n";
        let (path, description) = path_and_description(text, "sorce", Target::Key);
        assert_eq!(path, ["component", "0", "sorce"]);
        assert_eq!(description, "in component `hello`");
    }

    #[test]
    fn finds_header_tables_by_their_header() {
        let text = "[component.hello]\nsource = 'a'\n[component.hello.build]\nwatch = []\n";
        let (path, description) =
            path_and_description(text, "[component.hello.build]", Target::Value);
        assert_eq!(path, ["component", "hello", "build"]);
        assert_eq!(description, "in `build` of component `hello`");
    }

    #[test]
    fn describes_inline_components_and_array_entries() {
        let text = "[[trigger.http]]\nroute = '/'\ncomponent = { source = 'a', files = [{ sorce = 'x' }] }\n";
        let (path, description) = path_and_description(text, "sorce", Target::Key);
        assert_eq!(
            path,
            ["trigger", "http", "0", "component", "files", "0", "sorce"]
        );
        assert_eq!(
            description,
            "in `files` of the inline component of a `[[trigger.http]]` table"
        );
    }

    #[test]
    fn unmatched_spans_mean_the_top_level() {
        let root = DeTable::parse("a = 1\n").unwrap();
        assert!(path_to(root.get_ref(), &(0..0), Target::Value).is_empty());
        assert_eq!(
            describe(root.get_ref(), &[]),
            "at the top level of the manifest"
        );
    }
}
