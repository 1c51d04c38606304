use super::*;
use wasm_encoder::Section as _;

/// A wit-bindgen 0.2 module's shape: Spin 1's import and export names, its
/// realloc, WASI preview 1.
const SPIN1_NAMES: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "spin-config" "get-config" (func (param i32 i32 i32)))
  (import "wasi-outbound-http" "request"
    (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "canonical_abi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
  (func (export "canonical_abi_free") (param i32 i32 i32))
  (func (export "handle-http-request")
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    i32.const 0)
)
"#;

fn names(component: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(component) {
        match payload.unwrap() {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    imports.push(import.unwrap().name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    exports.push(export.unwrap().name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

/// Checks that `module`, which embeds its world, becomes a component
/// importing `config` and exporting `inbound-http`.
fn becomes_an_http_component_importing_config(module: &[u8]) {
    assert_eq!(module_kind(module).unwrap(), ModuleKind::WithWorld);
    let component = componentize(module).unwrap();
    let (imports, exports) = names(&component);
    assert!(
        imports.contains(&"fermyon:spin/config".to_owned()),
        "{imports:?}"
    );
    assert_eq!(exports, ["fermyon:spin/inbound-http"]);
}

#[test]
fn a_module_with_spin_1_names_becomes_a_component_of_the_spin_1_world() {
    let module = wat::parse_str(SPIN1_NAMES).unwrap();
    assert_eq!(module_kind(&module).unwrap(), ModuleKind::Spin1Names);
    let component = componentize(&module).unwrap();
    wasmparser::Validator::new()
        .validate_all(&component)
        .unwrap();
    let (imports, exports) = names(&component);
    assert!(
        imports.contains(&"fermyon:spin/config".to_owned()),
        "{imports:?}"
    );
    assert!(
        imports.contains(&"fermyon:spin/http".to_owned()),
        "{imports:?}"
    );
    assert!(
        imports.iter().any(|i| i.starts_with("wasi:cli/stdout@0.2")),
        "{imports:?}"
    );
    assert_eq!(exports, ["fermyon:spin/inbound-http"]);
}

#[test]
fn a_module_that_embeds_its_world_is_adapted_for_wasi_only() {
    // What wit-bindgen 0.5+ builds: today's names and the world embedded,
    // made here from the other kind.
    let module = renamed(&wat::parse_str(SPIN1_NAMES).unwrap()).unwrap();
    becomes_an_http_component_importing_config(&module);
}

#[test]
fn modules_this_host_cannot_serve_are_refused_by_what_they_import() {
    let other = SPIN1_NAMES.replace(
        r#"(import "spin-config" "get-config""#,
        r#"(import "env" "get-config""#,
    );
    let err = componentize(&wat::parse_str(other).unwrap()).unwrap_err();
    assert!(err.to_string().contains("`env::get-config`"), "{err}");

    let command =
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "_start")))"#)
            .unwrap();
    assert_eq!(module_kind(&command).unwrap(), ModuleKind::Other);
    assert!(matches!(componentize(&command), Err(Error::NotSpin)));
}

#[test]
fn a_function_of_the_wrong_type_is_an_encoding_error() {
    let wrong = SPIN1_NAMES.replace(
        r#"(import "spin-config" "get-config" (func (param i32 i32 i32)))"#,
        r#"(import "spin-config" "get-config" (func (param i32)))"#,
    );
    let err = componentize(&wat::parse_str(wrong).unwrap()).unwrap_err();
    assert!(matches!(err, Error::Encoding(_)), "{err}");
}

/// Spin 1.5's world in the WIT syntax of mid-2023 (no semicolons), as
/// wit-bindgen 0.8 read it.
const WIT_2023: &str = r#"package fermyon:spin

interface config {
  get-config: func(key: string) -> result<string, error>

  variant error {
    provider(string),
    invalid-key(string),
    invalid-schema(string),
    other(string),
  }
}

interface http-types {
  type http-status = u16
  type body = list<u8>
  type headers = list<tuple<string, string>>
  type params = list<tuple<string, string>>
  type uri = string

  enum method {
    get,
    post,
    put,
    delete,
    patch,
    head,
    options,
  }

  record request {
    method: method,
    uri: uri,
    headers: headers,
    params: params,
    body: option<body>,
  }

  record response {
    status: http-status,
    headers: option<headers>,
    body: option<body>,
  }
}

interface inbound-http {
  use http-types.{request, response}

  handle-request: func(req: request) -> response
}

world http-trigger {
  import config
  export inbound-http
}
"#;

#[test]
fn a_module_of_wit_bindgen_0_8_loads_with_the_world_it_embedded() {
    // The section exactly as wit-bindgen 0.8 wrote it (wit-component 0.11).
    let mut resolve = wit_parser_2023::Resolve::default();
    let package = wit_parser_2023::UnresolvedPackage::parse("spin.wit".as_ref(), WIT_2023).unwrap();
    let package = resolve.push(package).unwrap();
    let world = resolve.select_world(package, Some("http-trigger")).unwrap();
    let section = wit_component_2023::metadata::encode(
        &resolve,
        world,
        wit_component_2023::StringEncoding::UTF8,
        None,
    )
    .unwrap();
    let module = wat::parse_str(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
          (import "fermyon:spin/config" "get-config" (func (param i32 i32 i32)))
          (memory (export "memory") 1)
          (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
          (func (export "fermyon:spin/inbound-http#handle-request")
            (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
            i32.const 0))"#,
    )
    .unwrap();
    let mut module = module;
    wasm_encoder::CustomSection {
        name: Cow::Borrowed("component-type:http-trigger"),
        data: Cow::Owned(section),
    }
    .append_to(&mut module);
    becomes_an_http_component_importing_config(&module);
}

/// The realloc copy made for a module of `wat` (its realloc is function 3,
/// its handler function 4), with the byte ranges of its body that were
/// made `nop`s.
fn unwrapped(wat: &str) -> Vec<(usize, usize)> {
    let module = wat::parse_str(wat).unwrap();
    let layout = Layout::read(&module).unwrap();
    let (_, body) = layout
        .unwrapped_realloc(3, 4)
        .expect("the realloc is wrapped");
    let original = layout.bodies[3].as_bytes();
    let mut nopped = Vec::new();
    let mut i = 0;
    while i < body.len() {
        if body[i] != original[i] {
            let from = i;
            while i < body.len() && body[i] != original[i] {
                i += 1;
            }
            nopped.push((from, i));
        } else {
            i += 1;
        }
    }
    nopped
}

/// Functions 0–2 (constructors, destructors, `abort`) and the handler;
/// `$realloc` is spliced in as function 3.
fn wrapped_module(realloc: &str) -> String {
    format!(
        r#"(module
             (func $ctors)
             (func $dtors)
             (func $abort)
             {realloc}
             (func (export "handle-http-request")
               (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
               call $ctors
               call $abort
               call $dtors
               i32.const 0))"#
    )
}

#[test]
fn the_realloc_copy_leaves_out_the_constructor_and_destructor_calls_only() {
    // wasm-ld's wrapper as Rust modules have it: the destructors' call
    // last; and as JavaScript ones have it: the result read back after.
    let rust = wrapped_module(
        r#"(func (export "canonical_abi_realloc") (param i32 i32 i32 i32) (result i32)
             call $ctors
             i32.const 8
             call $dtors)"#,
    );
    assert_eq!(unwrapped(&rust).len(), 2);
    let javascript = wrapped_module(
        r#"(func (export "canonical_abi_realloc") (param i32 i32 i32 i32) (result i32)
             (local i32)
             call $ctors
             i32.const 8
             local.set 4
             call $dtors
             local.get 4)"#,
    );
    assert_eq!(unwrapped(&javascript).len(), 2);
    // A last call the realloc does not end with is its own code: kept,
    // though the handler's last call is the same function.
    let aborting = wrapped_module(
        r#"(func (export "canonical_abi_realloc") (param i32 i32 i32 i32) (result i32)
             call $ctors
             local.get 0
             if
               call $dtors
               unreachable
             end
             i32.const 8)"#,
    );
    assert_eq!(unwrapped(&aborting).len(), 1);
    // Nor one that ends a block the realloc returns after.
    let conditional = wrapped_module(
        r#"(func (export "canonical_abi_realloc") (param i32 i32 i32 i32) (result i32)
             call $ctors
             i32.const 8
             local.get 0
             if
               call $dtors
             end)"#,
    );
    assert_eq!(unwrapped(&conditional).len(), 1);
}
