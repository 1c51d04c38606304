//! Plugins built into the spin binary. The 2023 workflow starts with
//! `spin plugin install py2wasm`; here `spin py2wasm` is part of the CLI, so
//! installing it only records that it is installed, with no download.

use crate::manifest::PluginManifest;

const PY2WASM: &str = "py2wasm";

/// Whether `name` is a built-in plugin.
pub fn is_built_in(name: &str) -> bool {
    name.eq_ignore_ascii_case(PY2WASM)
}

/// The index entries of the built-in plugins. They have no packages: there
/// is nothing to download.
pub fn manifests() -> Vec<PluginManifest> {
    vec![PluginManifest {
        name: PY2WASM.to_owned(),
        description: Some(
            "Compiles a Python Spin app to a WebAssembly component (built into spin)".to_owned(),
        ),
        homepage: None,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        spin_compatibility: ">=1.0".to_owned(),
        license: "Apache-2.0".to_owned(),
        packages: vec![],
    }]
}

/// The built-in plugin named `name`.
pub(crate) fn manifest(name: &str) -> Option<PluginManifest> {
    manifests()
        .into_iter()
        .find(|m| m.name.eq_ignore_ascii_case(name))
}
