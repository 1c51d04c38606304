//! Examples for hints: what a missing or mistyped field should look like,
//! already in backquotes so that table-shaped examples can add prose.

use crate::context::Seg;
use crate::model::ManifestFormat;

/// An example of `field` as written in the table at `table`, in backquotes.
pub(crate) fn example(
    format: ManifestFormat,
    table: &[Seg<'_>],
    field: &str,
) -> Option<&'static str> {
    use ManifestFormat::{V1, V2};
    use Seg::{Index, Key};
    let in_files = matches!(table, [.., Key("files"), Index(_)]);
    Some(match (format, field) {
        (_, "name") => "`name = \"hello-world\"`",
        (_, "id") => "`id = \"hello-world\"`",
        (_, "source") if in_files => "`source = \"assets\"`",
        (_, "source") => "`source = \"app.wasm\"`",
        (_, "destination") => "`destination = \"/\"`",
        (_, "url") => "`url = \"https://example.com/app.wasm\"`",
        (_, "digest") => "`digest = \"sha256:<hex>\"`",
        (V1, "trigger") if table.is_empty() => "`trigger = { type = \"http\", base = \"/\" }`",
        (V1, "trigger") => "a `[component.trigger]` table with `route = \"/...\"`",
        (V2, "trigger") => {
            "a `[[trigger.http]]` table with `route = \"/...\"` and `component = \"<id>\"`"
        }
        (V2, "application") => "an `[application]` table with `name = \"hello-world\"`",
        (_, "type") if matches!(table.last(), Some(Key("executor"))) => {
            "`executor = { type = \"spin\" }`"
        }
        (_, "type") => "`type = \"http\"`",
        (_, "base") => "`base = \"/\"`",
        (_, "route") => "`route = \"/...\"`",
        (_, "channel") => "`channel = \"messages\"`",
        (_, "address") => "`address = \"redis://localhost:6379\"`",
        (_, "component") => "`component = \"hello-world\"`",
        (_, "command") => "`command = \"<build command>\"`",
        (_, "workdir") => "`workdir = \"path/to/component\"`",
        (_, "watch") => "`watch = [\"app.py\"]`",
        (_, "private") => "`private = true`",
        (_, "status_code") => "`status_code = 404`",
        (_, "headers") => "`headers = { content-type = \"text/plain\" }`",
        (_, "body") => "`body = \"not found\"`",
        (_, "executor") => "`executor = { type = \"spin\" }`",
        (_, "static_response") => "`static_response = { status_code = 404, body = \"not found\" }`",
        (_, "authors") => "`authors = [\"Your Name <you@example.com>\"]`",
        (_, "version") => "`version = \"0.1.0\"`",
        (_, "description") => "`description = \"What it does\"`",
        (_, "default") => "`default = \"value\"`",
        (_, "required" | "secret") => "`required = true`",
        (V1, "config") => "`config = { name = \"value\" }`",
        (V2, "variables") if !table.is_empty() => "`variables = { name = \"value\" }`",
        (_, "environment") => "`environment = { NAME = \"value\" }`",
        (_, "files") => "`files = [\"static/**/*\"]`",
        (_, "exclude_files") => "`exclude_files = [\"static/secret/*\"]`",
        (_, "allowed_outbound_hosts") => "`allowed_outbound_hosts = [\"https://example.com\"]`",
        (_, "allowed_http_hosts") => "`allowed_http_hosts = [\"example.com\"]`",
        (_, "key_value_stores") => "`key_value_stores = [\"default\"]`",
        (_, "sqlite_databases") => "`sqlite_databases = [\"default\"]`",
        (_, "ai_models") => "`ai_models = [\"llama2-chat\"]`",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_depend_on_format_and_table() {
        let component = [Seg::Key("component"), Seg::Index(0)];
        assert_eq!(
            example(ManifestFormat::V1, &[], "trigger"),
            Some("`trigger = { type = \"http\", base = \"/\" }`")
        );
        assert_eq!(
            example(ManifestFormat::V1, &component, "trigger"),
            Some("a `[component.trigger]` table with `route = \"/...\"`")
        );
        let file = [
            Seg::Key("component"),
            Seg::Index(0),
            Seg::Key("files"),
            Seg::Index(1),
        ];
        assert_eq!(
            example(ManifestFormat::V1, &file, "source"),
            Some("`source = \"assets\"`")
        );
        assert_eq!(example(ManifestFormat::V2, &[], "nonsense"), None);
    }
}
