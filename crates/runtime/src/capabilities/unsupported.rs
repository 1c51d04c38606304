//! Interfaces this host does not implement. Components built by the official
//! SDKs import the whole Spin world even when they use a fraction of it, so
//! such imports must not stop a component from starting: each function is
//! defined to fail, when called, with an error naming the interface.

use anyhow::Result;
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType};

/// WASI packages provided by wasmtime-wasi and wasmtime-wasi-http, at every
/// 0.2.x version (wasmtime matches semver-compatible versions itself) and at
/// 0.3.0 (the release candidate is renamed to it when a component loads).
const WASI_PACKAGES: &[&str] = &[
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
    "wasi:http/",
];

/// Stand-in for resources of interfaces the host does not implement; no
/// instance of it is ever created.
struct Unsupported;

/// Defines every import of `component` that is neither WASI 0.2 nor one of
/// `provided` as functions that fail with an error naming the interface.
pub fn define_unsupported_imports<T: 'static>(
    linker: &mut Linker<T>,
    engine: &Engine,
    component: &Component,
    provided: &[&str],
) -> Result<Vec<String>> {
    let mut stubbed = Vec::new();
    for (name, item) in component.component_type().imports(engine) {
        let is_provided = provided.contains(&name)
            || (name.starts_with("wasi:")
                && WASI_PACKAGES.iter().any(|p| name.starts_with(p))
                && (name.contains("@0.2.") || name.ends_with("@0.3.0")));
        if is_provided {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            anyhow::bail!("the component imports `{name}`, which this host does not provide");
        };
        let mut scope = linker.instance(name)?;
        for (export, item) in instance.exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(func) => {
                    let message =
                        format!("`{name}` is not supported by this host (called `{export}`)");
                    // An `async func` (WASI 0.3 style) needs a concurrent
                    // host function; the others a plain one.
                    if func.async_() {
                        scope.func_new_concurrent(export, move |_, _, _, _| {
                            let message = message.clone();
                            Box::pin(async move { Err(wasmtime::format_err!(message)) })
                        })?;
                    } else {
                        scope.func_new_async(export, move |_, _, _, _| {
                            let message = message.clone();
                            Box::new(async move { Err(wasmtime::format_err!(message)) })
                        })?;
                    }
                }
                ComponentItem::Resource(_) => {
                    scope.resource(export, ResourceType::host::<Unsupported>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
        stubbed.push(name.to_string());
    }
    Ok(stubbed)
}
