//! Components built by spin-sdk 4.x (componentize-py 0.23) target WASI
//! `0.3.0-rc-2026-03-15`; spin-sdk 5.x targets `0.3.0` and imports the
//! release candidate as well. The two versions of each interface are the
//! same, function for function and type for type: only the package version
//! in the names differs. So instead of a second host implementation of every
//! WASI 0.3 interface, such a component is wrapped in an outer component
//! that imports each interface once, under its `0.3.0` name, and passes that
//! one instance to the inner component for both names; a release-candidate
//! export (`wasi:http/handler`) is re-exported under its `0.3.0` name. The
//! wrapped component links against the `0.3.0` implementation alone.
//!
//! Wasmtime compiles the nesting away: the wrapper costs nothing per call.
#![deny(missing_docs)]

use anyhow::{Context as _, Result};
use std::collections::HashMap;
use wac_graph::types::{ItemKind, Package};
use wac_graph::{CompositionGraph, EncodeOptions};

/// The release candidate that spin-sdk 4.x and 5.x build against.
pub const RELEASE_CANDIDATE: &str = "0.3.0-rc-2026-03-15";
/// The version that serves it.
pub const RELEASE: &str = "0.3.0";

/// Bumped whenever the wrapping changes, so that compiled artifacts of an
/// older wrapping are not reused.
pub const BRIDGE_VERSION: u32 = 1;

/// The `0.3.0` name of `name` when it names a WASI interface at the release
/// candidate, e.g. `wasi:cli/stdout@0.3.0-rc-2026-03-15`.
pub fn released_name(name: &str) -> Option<String> {
    let (interface, version) = name.rsplit_once('@')?;
    (name.starts_with("wasi:") && version == RELEASE_CANDIDATE)
        .then(|| format!("{interface}@{RELEASE}"))
}

/// Whether `bytes` may hold release-candidate names: a quick scan, so that
/// the components that need no wrapping (all but spin-sdk 4.x and 5.x ones)
/// are never parsed.
pub fn may_need_bridge(bytes: &[u8]) -> bool {
    let needle = format!("@{RELEASE_CANDIDATE}");
    memchr::memmem::find(bytes, needle.as_bytes()).is_some()
}

/// `component` wrapped so that it imports and exports WASI `0.3.0` names
/// only, or `None` when it uses no release-candidate name.
pub fn bridge(component: &[u8]) -> Result<Option<Vec<u8>>> {
    if !may_need_bridge(component) {
        return Ok(None);
    }
    let mut graph = CompositionGraph::new();
    let package = Package::from_bytes("spin:app", None, component.to_vec(), graph.types_mut())
        .context("reading the component's imports and exports")?;
    let world = &graph.types()[package.ty()];
    let imports: Vec<(String, ItemKind)> = world
        .imports
        .iter()
        .map(|(name, kind)| (name.clone(), *kind))
        .collect();
    let exports: Vec<String> = world.exports.keys().cloned().collect();
    let renamed = |name: &String| released_name(name).is_some();
    if !imports.iter().any(|(name, _)| renamed(name)) && !exports.iter().any(renamed) {
        return Ok(None);
    }

    let package = graph.register_package(package)?;
    let instance = graph.instantiate(package);
    // Released names first, so that a release-candidate import reuses the
    // node of the same interface's `0.3.0` import when there is one.
    let mut ordered: Vec<&(String, ItemKind)> = imports.iter().collect();
    ordered.sort_by_key(|(name, _)| renamed(name));
    let mut outer_imports = HashMap::new();
    for (name, kind) in ordered {
        let outer_name = released_name(name).unwrap_or_else(|| name.clone());
        let node = match outer_imports.get(&outer_name) {
            Some(node) => *node,
            None => {
                let node = graph.import(outer_name.clone(), *kind)?;
                outer_imports.insert(outer_name.clone(), node);
                node
            }
        };
        graph
            .set_instantiation_argument(instance, name, node)
            .with_context(|| format!("passing `{outer_name}` as `{name}`"))?;
    }
    let mut exported = Vec::new();
    let mut ordered: Vec<&String> = exports.iter().collect();
    ordered.sort_by_key(|name| renamed(name));
    for name in ordered {
        let outer_name = released_name(name).unwrap_or_else(|| name.clone());
        if exported.contains(&outer_name) {
            continue;
        }
        let alias = graph.alias_instance_export(instance, name)?;
        graph.export(alias, outer_name.clone())?;
        exported.push(outer_name);
    }
    let wrapped = graph
        .encode(EncodeOptions::default())
        .context("encoding the wrapped component")?;
    Ok(Some(wrapped))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outer component's import and export names.
    fn names(component: &[u8]) -> (Vec<String>, Vec<String>) {
        let (mut imports, mut exports) = (Vec::new(), Vec::new());
        let mut depth = 0;
        for payload in wasmparser::Parser::new(0).parse_all(component) {
            match payload.unwrap() {
                wasmparser::Payload::ModuleSection { .. }
                | wasmparser::Payload::ComponentSection { .. } => depth += 1,
                wasmparser::Payload::End(_) => depth -= 1,
                wasmparser::Payload::ComponentImportSection(section) if depth == 0 => {
                    for import in section {
                        imports.push(import.unwrap().name.name.to_string());
                    }
                }
                wasmparser::Payload::ComponentExportSection(section) if depth == 0 => {
                    for export in section {
                        exports.push(export.unwrap().name.name.to_string());
                    }
                }
                _ => {}
            }
        }
        (imports, exports)
    }

    fn validate(component: &[u8]) {
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(component)
            .expect("the wrapped component is valid");
    }

    /// Both versions of an interface holding a resource, a function using
    /// it, and a release-candidate export using the resource too.
    const BOTH_VERSIONS: &str = r#"
        (component
          (type $types (instance
            (export "fields" (type (sub resource)))))
          (import "wasi:http/types@0.3.0-rc-2026-03-15" (instance $rc (type $types)))
          (import "wasi:http/types@0.3.0" (instance $final (type $types)))
          (alias export $rc "fields" (type $fields))
          (import "wasi:clocks/monotonic-clock@0.3.0-rc-2026-03-15" (instance $clock
            (export "now" (func (result u64)))))
          (import "spin:key-value/key-value@3.0.0" (instance $kv
            (export "ping" (func))))
          (core module $m (func (export "handle") (param i32) (result i32) local.get 0))
          (core instance $i (instantiate $m))
          (func $handle (param "fields" (borrow $fields)) (result u32)
            (canon lift (core func $i "handle")))
          (instance $handler (export "handle" (func $handle)))
          (export "wasi:http/handler@0.3.0-rc-2026-03-15" (instance $handler))
        )"#;

    #[test]
    fn release_candidate_names_become_released_ones_once() {
        let component = wat::parse_str(BOTH_VERSIONS).unwrap();
        let wrapped = bridge(&component)
            .unwrap()
            .expect("the component is wrapped");
        validate(&wrapped);
        let (mut imports, exports) = names(&wrapped);
        imports.sort();
        assert_eq!(
            imports,
            [
                "spin:key-value/key-value@3.0.0",
                "wasi:clocks/monotonic-clock@0.3.0",
                "wasi:http/types@0.3.0",
            ]
        );
        assert_eq!(exports, ["wasi:http/handler@0.3.0"]);
        // Wrapping again changes nothing: no release-candidate name is left
        // outside (the inner component still holds them).
        let (imports, _) = names(&wrapped);
        assert!(imports.iter().all(|name| released_name(name).is_none()));
    }

    #[test]
    fn components_without_release_candidate_names_are_left_alone() {
        let component = wat::parse_str(
            r#"(component
                 (import "wasi:cli/stdout@0.3.0" (instance (export "x" (func))))
                 (import "wasi:cli/stdout@0.2.6" (instance (export "y" (func)))))"#,
        )
        .unwrap();
        assert!(bridge(&component).unwrap().is_none());
    }

    #[test]
    fn only_wasi_names_at_the_release_candidate_are_renamed() {
        assert_eq!(
            released_name("wasi:cli/stdout@0.3.0-rc-2026-03-15").as_deref(),
            Some("wasi:cli/stdout@0.3.0")
        );
        assert_eq!(released_name("wasi:cli/stdout@0.3.0"), None);
        assert_eq!(released_name("wasi:cli/stdout@0.3.0-rc-2025-09-16"), None);
        assert_eq!(released_name("spin:up/x@0.3.0-rc-2026-03-15"), None);
        assert_eq!(released_name("wasi:cli/stdout"), None);
    }

    #[test]
    fn a_component_that_is_not_one_is_an_error() {
        let mut bytes = b"not wasm".to_vec();
        bytes.extend(format!("@{RELEASE_CANDIDATE}").as_bytes());
        assert!(bridge(&bytes).is_err());
    }
}
