//! Loads Spin application manifests (`spin.toml`) in both the 2023 v1
//! format and the current v2 format into one validated [`App`] model.
//!
//! Every problem is reported as an [`Error`] that renders like a compiler
//! diagnostic: file, line and column, the offending line with a caret, and a
//! hint saying how to fix it. Validation covers the TOML shape (unknown and
//! missing fields, with suggestions) and what Spin checks on load: component
//! ids, variable names, routes, trigger references and templates.
//!
//! ```
//! use std::path::Path;
//!
//! let manifest = r#"
//! spin_manifest_version = 2
//!
//! [application]
//! name = "hello"
//!
//! [[trigger.http]]
//! route = "/..."
//! component = "hello"
//!
//! [component.hello]
//! source = "app.wasm"
//! "#;
//! let app = spin_manifest::parse(manifest, Path::new("spin.toml")).unwrap();
//! assert_eq!(app.components[0].id, "hello");
//! ```

#![deny(missing_docs)]

mod allowed_http_hosts;
mod context;
mod convert;
mod document;
mod error;
mod examples;
mod ids;
mod model;
mod route;
mod schema;
mod source;
mod suggest;
mod template;

use std::path::Path;

pub use error::{Error, ErrorKind};
pub use model::{
    App, BuildConfig, Component, ComponentSource, FileMount, HttpExecutor, HttpRoute, HttpTrigger,
    Located, Location, ManifestFormat, RedisTrigger, StaticResponse, Variable,
};

/// Reads, parses and validates the manifest at `path`.
pub fn load_file(path: &Path) -> Result<App, Error> {
    load_file_for_profile(path, None)
}

/// Reads, parses and validates the manifest at `path`, with the components'
/// build profile `profile` applied (`spin build/up/watch --profile`; `None`:
/// the default profile). A component without that profile keeps its own
/// settings; a profile no component defines is an error, as in Spin.
pub fn load_file_for_profile(path: &Path, profile: Option<&str>) -> Result<App, Error> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        source::SourceFile::new(path, "").error_unlocated(ErrorKind::Read { error })
    })?;
    convert::load(path, &text, profile)
}

/// The application `spin up -f app.wasm` runs, as Spin makes it: named
/// after the file, with one component (its id from the file's name) that
/// serves every path (`/...`) and is granted nothing. `dir` is the
/// application's directory: the current one, as in Spin.
pub fn for_wasm_file(wasm: &Path, dir: &Path) -> Result<App, Error> {
    let stem = wasm
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("wasm-file");
    let id = ids::repair(stem, '-')
        .or_else(|| ids::check_kebab(stem).ok().map(|()| stem.to_owned()))
        .filter(|id| ids::check_kebab(id).is_ok())
        .unwrap_or_else(|| "wasm-file".to_owned());
    let name = wasm.file_name().unwrap_or(wasm.as_os_str());
    let path = dir.join(name);
    let Some(source) = wasm.to_str() else {
        return Err(
            source::SourceFile::new(&path, "").error_unlocated(ErrorKind::Read {
                error: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the Wasm file's path is not valid UTF-8",
                ),
            }),
        );
    };
    let quoted = |text: &str| toml::Value::String(text.to_owned()).to_string();
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = {}\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = {}\n",
        quoted(stem),
        quoted(source),
    );
    parse(&text, &path)
}

/// Parses and validates manifest text; `path` names the file in errors and
/// gives [`App::dir`].
pub fn parse(text: &str, path: &Path) -> Result<App, Error> {
    convert::load(path, text, None)
}

/// [`parse`], with the components' build profile `profile` applied (see
/// [`load_file_for_profile`]).
pub fn parse_for_profile(text: &str, path: &Path, profile: Option<&str>) -> Result<App, Error> {
    convert::load(path, text, profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wasm_file_becomes_a_one_component_app() {
        let dir = Path::new("/work/app");
        let app = for_wasm_file(Path::new("/builds/My_Service.wasm"), dir).unwrap();
        assert_eq!(app.name, "My_Service");
        assert_eq!(app.dir, dir);
        let [component] = &app.components[..] else {
            panic!("{:?}", app.components)
        };
        assert_eq!(component.id, "my-service");
        assert!(component.allowed_outbound_hosts.is_empty());
        let [trigger] = &app.http_triggers[..] else {
            panic!("one trigger")
        };
        assert_eq!(trigger.component.as_deref(), Some("my-service"));
        // Quotes and backslashes in the path stay in the path.
        let odd_path = Path::new("/tmp/a \"b\\\\c\n.wasm");
        let odd = for_wasm_file(odd_path, dir).unwrap();
        assert_eq!(odd.components[0].id, "a-b-c");
        match &odd.components[0].source.value {
            ComponentSource::Local(path) => assert_eq!(path, odd_path),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            for_wasm_file(Path::new("/tmp/9.wasm"), dir)
                .unwrap()
                .components[0]
                .id,
            "wasm-file"
        );
    }
}
