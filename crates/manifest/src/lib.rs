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
    let text = std::fs::read_to_string(path).map_err(|error| {
        source::SourceFile::new(path, "").error_unlocated(ErrorKind::Read { error })
    })?;
    parse(&text, path)
}

/// Parses and validates manifest text; `path` names the file in errors and
/// gives [`App::dir`].
pub fn parse(text: &str, path: &Path) -> Result<App, Error> {
    convert::load(path, text)
}
