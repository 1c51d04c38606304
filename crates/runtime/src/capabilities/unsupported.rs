//! Interfaces this host does not implement. Components built by the official
//! SDKs import the whole Spin world even when they use a fraction of it, so
//! such imports must not stop a component from starting: each function is
//! defined to fail, when called, with an error naming the interface.
//!
//! Telemetry (`wasi:otel`) is the exception: a guest that reports spans,
//! metrics or logs must not fail because nobody collects them, so its
//! functions do nothing and answer the empty value of their result type
//! (no outer span, an export that succeeded).

use anyhow::Result;
use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem, Type};
use wasmtime::component::{Component, Linker, ResourceType, Val};

/// WASI packages provided by wasmtime-wasi and wasmtime-wasi-http, at every
/// 0.2.x version (wasmtime matches semver-compatible versions itself) and at
/// 0.3.0 (the release candidate is renamed to it when a component loads).
pub(crate) const WASI_PACKAGES: &[&str] = &[
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
    "wasi:http/",
];

/// Packages whose functions are defined to do nothing (see the module's
/// documentation).
const NO_OP_PACKAGES: &[&str] = &["wasi:otel/"];

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
                ComponentItem::ComponentFunc(func)
                    if NO_OP_PACKAGES.iter().any(|p| name.starts_with(p))
                        && has_empty_results(&func) =>
                {
                    if func.async_() {
                        scope.func_new_concurrent(export, |_, func, _, results| {
                            Box::pin(async move { fill_empty(&func, results) })
                        })?;
                    } else {
                        scope.func_new(export, |_, func, _, results| fill_empty(&func, results))?;
                    }
                }
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

/// Whether every result of `func` has an empty value to answer with.
fn has_empty_results(func: &ComponentFunc) -> bool {
    func.results().all(|ty| empty_value(&ty).is_some())
}

/// Answers `func`'s empty results (a no-op call).
fn fill_empty(func: &ComponentFunc, results: &mut [Val]) -> wasmtime::Result<()> {
    for (slot, ty) in results.iter_mut().zip(func.results()) {
        *slot = empty_value(&ty)
            .ok_or_else(|| wasmtime::format_err!("no empty value of a result type"))?;
    }
    Ok(())
}

/// The "nothing" of a type: zero, false, the empty string or list, `none`,
/// `ok` (of the payload's empty value), the first case of a variant or
/// enum, no flags. Handles (resources, futures, streams) have none.
fn empty_value(ty: &Type) -> Option<Val> {
    Some(match ty {
        Type::Bool => Val::Bool(false),
        Type::S8 => Val::S8(0),
        Type::U8 => Val::U8(0),
        Type::S16 => Val::S16(0),
        Type::U16 => Val::U16(0),
        Type::S32 => Val::S32(0),
        Type::U32 => Val::U32(0),
        Type::S64 => Val::S64(0),
        Type::U64 => Val::U64(0),
        Type::Float32 => Val::Float32(0.0),
        Type::Float64 => Val::Float64(0.0),
        Type::Char => Val::Char('\0'),
        Type::String => Val::String(String::new()),
        Type::List(_) => Val::List(Vec::new()),
        Type::Map(_) => Val::Map(Vec::new()),
        Type::Record(record) => Val::Record(
            record
                .fields()
                .map(|field| Some((field.name.to_string(), empty_value(&field.ty)?)))
                .collect::<Option<_>>()?,
        ),
        Type::Tuple(tuple) => Val::Tuple(
            tuple
                .types()
                .map(|t| empty_value(&t))
                .collect::<Option<_>>()?,
        ),
        Type::Variant(variant) => {
            let case = variant.cases().next()?;
            let payload = match &case.ty {
                Some(ty) => Some(Box::new(empty_value(ty)?)),
                None => None,
            };
            Val::Variant(case.name.to_string(), payload)
        }
        Type::Enum(cases) => Val::Enum(cases.names().next()?.to_string()),
        Type::Option(_) => Val::Option(None),
        Type::Result(result) => Val::Result(Ok(match result.ok() {
            Some(ty) => Some(Box::new(empty_value(&ty)?)),
            None => None,
        })),
        Type::Flags(_) => Val::Flags(Vec::new()),
        Type::FixedLengthList(list) => {
            let element = empty_value(&list.ty())?;
            Val::FixedLengthList(vec![element; list.len() as usize])
        }
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return None;
        }
    })
}
