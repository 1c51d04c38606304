//! Spin 1's SDKs (2022–2023: Rust, Go, JavaScript and TypeScript, and the
//! `py2wasm` plugin of the Python page) built core Wasm modules, not
//! components. Spin still runs them, and so does this host: when such a
//! module loads, it is turned into a component of the unversioned
//! `fermyon:spin` world (`wit-spin1/`), which the host then serves like any
//! other.
//!
//! Two generations of modules exist:
//! - **wit-bindgen 0.5 to 0.8** (Spin 1.4–1.5's Rust SDK, `py2wasm` 0.3.1
//!   and 0.3.2) embed their world in a `component-type` custom section and
//!   use today's canonical ABI: only WASI preview 1 needs adapting.
//! - **wit-bindgen 0.2** (the earlier SDKs) carry no world, and name their
//!   imports and exports in Spin 1's own way (`spin-config` /
//!   `get-config`, an export `handle-http-request`, a realloc named
//!   `canonical_abi_realloc`). Their ABI is the canonical ABI for every
//!   type these interfaces use, so renaming each import and export to its
//!   component name and embedding the world is all they need besides WASI.
//!
//! WASI preview 1 is adapted with the Bytecode Alliance's reactor adapter.
//! Nothing here runs Wasm: it reads and writes bytes only.
#![deny(missing_docs)]

use std::borrow::Cow;
use std::collections::BTreeSet;

use wasm_encoder::reencode::{Reencode as _, RoundtripReencoder};
use wasmparser::{Parser, Payload};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

/// Bumped whenever the components made here change, so that compiled
/// artifacts of an older version are not reused.
pub const COMPONENTIZE_VERSION: u32 = 5;

/// The WIT of Spin 1's interfaces (`fermyon:spin`, unversioned).
pub const SPIN1_WIT: &str = include_str!("../../../wit-spin1/spin1.wit");

/// The name WASI preview 1 modules import it under.
const WASI_PREVIEW1: &str = "wasi_snapshot_preview1";

/// How a wit-bindgen 0.2 module's imports are named in the component: its
/// module, then the interface of `fermyon:spin` (functions keep their
/// names but one, see [`import_name`]).
const SPIN1_IMPORTS: &[(&str, &str)] = &[
    ("spin-config", "fermyon:spin/config"),
    ("wasi-outbound-http", "fermyon:spin/http"),
    ("outbound-redis", "fermyon:spin/redis"),
    ("key-value", "fermyon:spin/key-value"),
    ("sqlite", "fermyon:spin/sqlite"),
    ("outbound-pg", "fermyon:spin/postgres"),
    ("outbound-mysql", "fermyon:spin/mysql"),
    ("llm", "fermyon:spin/llm"),
];

/// A wit-bindgen 0.2 export and its component name.
const HTTP_EXPORT: (&str, &str) = (
    "handle-http-request",
    "fermyon:spin/inbound-http#handle-request",
);
/// The same for the Redis trigger.
const REDIS_EXPORT: (&str, &str) = (
    "handle-redis-message",
    "fermyon:spin/inbound-redis#handle-message",
);

/// Why a module cannot be turned into a component.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// It is not valid Wasm.
    #[error("it is not a valid WebAssembly module: {0}")]
    Invalid(String),
    /// Neither generation of Spin 1 module: no world and no Spin 1 export.
    #[error(
        "it is a core WebAssembly module that exports neither `handle-http-request` nor `handle-redis-message` and embeds no component type, so it is not a Spin module"
    )]
    NotSpin,
    /// It imports something that is neither WASI nor Spin 1.
    #[error(
        "it imports `{module}::{field}`, which is neither WASI preview 1 nor one of Spin 1's interfaces"
    )]
    UnknownImport {
        /// The import's module.
        module: String,
        /// Its field.
        field: String,
    },
    /// wit-component refused it (a function of the wrong type, say).
    #[error("{0}")]
    Encoding(String),
}

/// Which generation of Spin 1 module some bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    /// Built with wit-bindgen 0.5 or later: its world is embedded.
    WithWorld,
    /// Built with wit-bindgen 0.2: Spin 1's own names.
    Spin1Names,
    /// Not a Spin module (a WASI command, for example).
    Other,
}

/// Whether `bytes` is a core module (not a component).
pub fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

/// Which kind of module `bytes` is.
pub fn module_kind(bytes: &[u8]) -> Result<ModuleKind, Error> {
    let mut spin1_export = false;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| Error::Invalid(e.to_string()))? {
            Payload::CustomSection(section) if section.name().starts_with("component-type") => {
                return Ok(ModuleKind::WithWorld);
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| Error::Invalid(e.to_string()))?;
                    spin1_export |= export.name == HTTP_EXPORT.0 || export.name == REDIS_EXPORT.0;
                }
            }
            _ => {}
        }
    }
    Ok(if spin1_export {
        ModuleKind::Spin1Names
    } else {
        ModuleKind::Other
    })
}

/// The component that `module` (a Spin 1 module of either generation)
/// becomes.
pub fn componentize(module: &[u8]) -> Result<Vec<u8>, Error> {
    // Everything below may then trust the module's indices.
    wasmparser::Validator::new()
        .validate_all(module)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    match module_kind(module)? {
        ModuleKind::WithWorld => encode(module),
        ModuleKind::Spin1Names => encode(&renamed(module)?),
        ModuleKind::Other => Err(Error::NotSpin),
    }
}

/// Encodes a module that embeds its world, adapting WASI preview 1.
fn encode(module: &[u8]) -> Result<Vec<u8>, Error> {
    let encoding = |e: anyhow::Error| Error::Encoding(format!("{e:#}"));
    let mut encoder = ComponentEncoder::default()
        .validate(true)
        .module(module)
        .map_err(encoding)?;
    if imports_wasi(module)? {
        encoder = encoder
            .adapter(
                WASI_PREVIEW1,
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )
            .map_err(encoding)?;
    }
    encoder.encode().map_err(encoding)
}

/// Whether `module` imports anything of WASI preview 1.
fn imports_wasi(module: &[u8]) -> Result<bool, Error> {
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ImportSection(reader) =
            payload.map_err(|e| Error::Invalid(e.to_string()))?
        {
            for import in reader.into_imports() {
                let import = import.map_err(|e| Error::Invalid(e.to_string()))?;
                if import.module == WASI_PREVIEW1 {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}

/// What `renamed` needs to know of a module before it rewrites it.
struct Layout<'a> {
    /// The type of each function, imported ones first.
    func_types: Vec<wasmparser::FuncType>,
    /// How many functions are imported.
    imported_funcs: u32,
    /// The type index of each defined function.
    defined_types: Vec<u32>,
    /// Each defined function's body.
    bodies: Vec<wasmparser::FunctionBody<'a>>,
    /// The functions exported, by name.
    exports: Vec<(String, u32)>,
}

/// A call in a function's body to a function taking and returning nothing:
/// where it starts and ends in the body's bytes, and what it calls.
type PlainCall = (usize, usize, u32);

/// The function type `index` of `types`.
fn type_at(types: &[wasmparser::FuncType], index: u32) -> Result<wasmparser::FuncType, Error> {
    types
        .get(index as usize)
        .cloned()
        .ok_or_else(|| Error::Invalid(format!("no function type {index}")))
}

impl<'a> Layout<'a> {
    fn read(module: &'a [u8]) -> Result<Self, Error> {
        let invalid = |e: wasmparser::BinaryReaderError| Error::Invalid(e.to_string());
        let mut types = Vec::new();
        let mut layout = Layout {
            func_types: Vec::new(),
            imported_funcs: 0,
            defined_types: Vec::new(),
            bodies: Vec::new(),
            exports: Vec::new(),
        };
        for payload in Parser::new(0).parse_all(module) {
            match payload.map_err(invalid)? {
                Payload::TypeSection(reader) => {
                    for ty in reader.into_iter_err_on_gc_types() {
                        types.push(ty.map_err(invalid)?);
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        if let wasmparser::TypeRef::Func(ty) = import.map_err(invalid)?.ty {
                            layout.imported_funcs += 1;
                            layout.func_types.push(type_at(&types, ty)?);
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    for ty in reader {
                        let ty = ty.map_err(invalid)?;
                        layout.defined_types.push(ty);
                        layout.func_types.push(type_at(&types, ty)?);
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.map_err(invalid)?;
                        if export.kind == wasmparser::ExternalKind::Func {
                            layout.exports.push((export.name.to_owned(), export.index));
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => layout.bodies.push(body),
                _ => {}
            }
        }
        Ok(layout)
    }

    /// The body of function `func`, unless it is imported.
    fn body(&self, func: u32) -> Option<&wasmparser::FunctionBody<'a>> {
        self.bodies
            .get(func.checked_sub(self.imported_funcs)? as usize)
    }

    /// The calls a function makes to functions taking and returning
    /// nothing: where each is in its body (from, to) and what it calls;
    /// and whether the first instruction is one.
    fn plain_calls(&self, func: u32) -> Option<(Vec<PlainCall>, bool)> {
        let body = self.body(func)?;
        let start = body.range().start;
        let plain = |f: u32| {
            self.func_types
                .get(f as usize)
                .is_some_and(|t| t.params().is_empty() && t.results().is_empty())
        };
        let mut calls = Vec::new();
        let mut first_is_call = false;
        let mut reader = body.get_operators_reader().ok()?;
        let mut first = true;
        while !reader.eof() {
            let (op, offset) = reader.read_with_offset().ok()?;
            if let wasmparser::Operator::Call { function_index } = op
                && plain(function_index)
            {
                first_is_call |= first;
                calls.push((
                    offset - start,
                    reader.original_position() - start,
                    function_index,
                ));
            }
            first = false;
        }
        Some((calls, first_is_call))
    }

    /// Whether the body of `func`, from `from` (an offset in its bytes) on,
    /// holds nothing but `local.get`s and the body's final `end` (not one
    /// of a block the call sits in): what follows the
    /// destructors' call in a wrapper, which returns the wrapped call's
    /// result (none in Rust's, one `local.get` in JavaScript's).
    fn only_returns_after(&self, func: u32, from: usize) -> bool {
        let Some(body) = self.body(func) else {
            return false;
        };
        let start = body.range().start;
        let Ok(mut reader) = body.get_operators_reader() else {
            return false;
        };
        while !reader.eof() {
            let Ok((op, offset)) = reader.read_with_offset() else {
                return false;
            };
            if offset - start < from {
                continue;
            }
            match op {
                wasmparser::Operator::LocalGet { .. } => {}
                wasmparser::Operator::End if reader.eof() => {}
                _ => return false,
            }
        }
        true
    }

    /// The realloc of a module whose exports each run its constructors
    /// first and destructors last (wasm-ld's wrapping of a WASI command's
    /// exports, as Spin 1's Rust and JavaScript SDKs built them), without
    /// those two calls: its type and body.
    ///
    /// The canonical ABI calls the realloc while it passes arguments in,
    /// and a guest may not call the host then; the constructors do
    /// (wasi-libc reads the environment). The handler's own export still
    /// runs them, where calling the host is allowed. A realloc counts as
    /// wrapped only when it and the handler begin by calling the same
    /// function, and the destructors only when both make the same last call
    /// and the realloc only returns after it.
    fn unwrapped_realloc(&self, realloc: u32, handler: u32) -> Option<(u32, Vec<u8>)> {
        let (calls, wrapped) = self.plain_calls(realloc)?;
        let (handler_calls, handler_wrapped) = self.plain_calls(handler)?;
        if !(wrapped && handler_wrapped && calls[0].2 == handler_calls[0].2) {
            return None;
        }
        let mut removed = vec![calls[0]];
        if let (Some(last), Some(handler_last)) = (calls.last(), handler_calls.last())
            && calls.len() > 1
            && last.2 == handler_last.2
            && last.2 != calls[0].2
            && self.only_returns_after(realloc, last.1)
        {
            removed.push(*last);
        }
        let defined = (realloc - self.imported_funcs) as usize;
        let mut bytes = self.bodies[defined].as_bytes().to_vec();
        for (from, to, _) in removed {
            bytes[from..to].fill(0x01); // `nop`, as many as the call took
        }
        Some((self.defined_types[defined], bytes))
    }
}

/// A wit-bindgen 0.2 module with its imports and exports under their
/// component names, and the world they belong to embedded.
fn renamed(module: &[u8]) -> Result<Vec<u8>, Error> {
    let invalid = |e: wasmparser::BinaryReaderError| Error::Invalid(e.to_string());
    let reencode = |e: wasm_encoder::reencode::Error| Error::Invalid(e.to_string());
    let layout = Layout::read(module)?;
    let realloc = layout
        .exports
        .iter()
        .find(|(name, _)| name == "canonical_abi_realloc")
        .map(|(_, index)| *index);
    let handler = layout
        .exports
        .iter()
        .find(|(name, _)| name == HTTP_EXPORT.0 || name == REDIS_EXPORT.0)
        .map(|(_, index)| *index);
    let unwrapped = realloc
        .zip(handler)
        .and_then(|(realloc, handler)| layout.unwrapped_realloc(realloc, handler));
    // Appended after every other function, so no index moves.
    let unwrapped_index = layout.imported_funcs + layout.bodies.len() as u32;
    let mut out = wasm_encoder::Module::new();
    let mut exported = BTreeSet::new();
    for payload in Parser::new(0).parse_all(module) {
        match payload.map_err(invalid)? {
            Payload::ImportSection(reader) => {
                let mut imports = wasm_encoder::ImportSection::new();
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    let (module, field) = import_name(import.module, import.name)?;
                    let ty = RoundtripReencoder
                        .entity_type(import.ty)
                        .map_err(reencode)?;
                    imports.import(&module, &field, ty);
                }
                out.section(&imports);
            }
            Payload::FunctionSection(_) => {
                let mut functions = wasm_encoder::FunctionSection::new();
                for ty in &layout.defined_types {
                    functions.function(*ty);
                }
                if let Some((ty, _)) = &unwrapped {
                    functions.function(*ty);
                }
                out.section(&functions);
            }
            Payload::ExportSection(reader) => {
                let mut exports = wasm_encoder::ExportSection::new();
                for export in reader {
                    let export = export.map_err(invalid)?;
                    let kind = RoundtripReencoder
                        .export_kind(export.kind)
                        .map_err(reencode)?;
                    let name = match export.name {
                        n if n == HTTP_EXPORT.0 => HTTP_EXPORT.1,
                        n if n == REDIS_EXPORT.0 => REDIS_EXPORT.1,
                        // The realloc the component passes lists and
                        // strings in with (same signature).
                        // Replaced by its copy without the constructors:
                        // wit-component would take either name for the
                        // component's realloc.
                        "canonical_abi_realloc" if unwrapped.is_some() => {
                            exports.export("cabi_realloc", kind, unwrapped_index);
                            continue;
                        }
                        "canonical_abi_realloc" => "cabi_realloc",
                        other => other,
                    };
                    if name != export.name {
                        exported.insert(export.name.to_owned());
                    }
                    exports.export(name, kind, export.index);
                }
                out.section(&exports);
            }
            Payload::CodeSectionStart { .. } => {
                let mut code = wasm_encoder::CodeSection::new();
                for body in &layout.bodies {
                    code.raw(body.as_bytes());
                }
                if let Some((_, body)) = &unwrapped {
                    code.raw(body);
                }
                out.section(&code);
            }
            Payload::CodeSectionEntry(_) => {}
            // Dropped: the component's world replaces them.
            Payload::CustomSection(section) if section.name().starts_with("component-type") => {}
            payload => {
                if let Some((id, range)) = payload.as_section() {
                    out.section(&wasm_encoder::RawSection {
                        id,
                        data: &module[range],
                    });
                }
            }
        }
    }
    let world = world_section(
        exported.contains(HTTP_EXPORT.0),
        exported.contains(REDIS_EXPORT.0),
    )?;
    out.section(&wasm_encoder::CustomSection {
        name: Cow::Borrowed("component-type:spin1"),
        data: Cow::Owned(world),
    });
    Ok(out.finish())
}

/// The component name of a wit-bindgen 0.2 import.
fn import_name(module: &str, field: &str) -> Result<(String, String), Error> {
    if module == WASI_PREVIEW1 {
        return Ok((module.to_owned(), field.to_owned()));
    }
    let Some((_, interface)) = SPIN1_IMPORTS.iter().find(|(m, _)| *m == module) else {
        return Err(Error::UnknownImport {
            module: module.to_owned(),
            field: field.to_owned(),
        });
    };
    // Spin 1's outbound HTTP function was `request`; the interface's is
    // `send-request`.
    let field = if module == "wasi-outbound-http" && field == "request" {
        "send-request"
    } else {
        field
    };
    Ok(((*interface).to_owned(), field.to_owned()))
}

/// The `component-type` section of the world a module with these exports
/// belongs to.
fn world_section(http: bool, redis: bool) -> Result<Vec<u8>, Error> {
    let mut resolve = Resolve::default();
    let package = resolve
        .push_str("spin1.wit", SPIN1_WIT)
        .map_err(|e| Error::Encoding(format!("{e:#}")))?;
    let name = match (http, redis) {
        (true, true) => "http-and-redis-module",
        (false, true) => "redis-module",
        _ => "http-module",
    };
    let world = resolve
        .select_world(&[package], Some(name))
        .map_err(|e| Error::Encoding(format!("{e:#}")))?;
    wit_component::metadata::encode(&resolve, world, StringEncoding::UTF8, None)
        .map_err(|e| Error::Encoding(format!("{e:#}")))
}

#[cfg(test)]
mod tests;
