//! Core modules into `spin_componentize::componentize`, which `spin up`
//! runs on every module a manifest names that is not a component (a Spin 1
//! module, or a file anyone could have put there).
//!
//! The first byte picks the input's kind:
//! - even: the rest is the module's bytes, as read from the file;
//! - odd: the rest drives wasm-smith to generate a module in the shape
//!   Spin 1's SDKs built (wit-bindgen 0.2): it imports only functions of
//!   Spin 1's interfaces, WASI preview 1 and one unknown module, and
//!   exports `handle-http-request` or `handle-redis-message`,
//!   `canonical_abi_realloc` and a memory, with arbitrary bodies (so the
//!   realloc copy without the constructor calls is made from any code).
//!
//! Invariants: no panic; a module made a component gives a valid
//! component, whose outermost imports are WASI's or Spin's.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

/// What a generated module may import: functions of Spin 1's interfaces
/// (with the core signatures wit-bindgen 0.2 gave them, and one with a
/// wrong one), WASI preview 1's, and a module that is neither.
const IMPORTS: &str = r#"(module
  (import "spin-config" "get-config" (func (param i32 i32 i32)))
  (import "wasi-outbound-http" "request"
    (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "outbound-redis" "get" (func (param i32 i32 i32 i32 i32)))
  (import "outbound-redis" "set" (func (param i32 i32 i32 i32 i32 i32 i32)))
  (import "key-value" "open" (func (param i32 i32 i32)))
  (import "key-value" "get" (func (param i32 i32 i32 i32)))
  (import "key-value" "close" (func (param i32)))
  (import "sqlite" "open" (func (param i32 i32 i32)))
  (import "sqlite" "execute" (func (param i32 i32 i32 i32 i32 i32)))
  (import "outbound-pg" "query" (func (param i32 i32 i32 i32 i32 i32 i32)))
  (import "outbound-mysql" "execute" (func (param i32)))
  (import "llm" "infer" (func (param i32 i32 i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (import "env" "abort" (func))
)"#;

/// What a generated HTTP module exports (wasm-smith writes the bodies).
const HTTP_EXPORTS: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "canonical_abi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
  (func (export "canonical_abi_free") (param i32 i32 i32) unreachable)
  (func (export "handle-http-request")
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32) unreachable)
)"#;

/// The same for a Redis-triggered module.
const REDIS_EXPORTS: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "canonical_abi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
  (func (export "handle-redis-message") (param i32 i32) (result i32) unreachable)
)"#;

fn binary(wat: &'static str, cell: &'static OnceLock<Vec<u8>>) -> Vec<u8> {
    cell.get_or_init(|| wat::parse_str(wat).expect("the fuzzer's own WAT parses"))
        .clone()
}

/// A module in Spin 1's shape, generated from `u`.
fn generated(u: &mut Unstructured) -> arbitrary::Result<Vec<u8>> {
    static IMPORTS_BIN: OnceLock<Vec<u8>> = OnceLock::new();
    static HTTP_BIN: OnceLock<Vec<u8>> = OnceLock::new();
    static REDIS_BIN: OnceLock<Vec<u8>> = OnceLock::new();
    let mut config: wasm_smith::Config = u.arbitrary()?;
    config.available_imports = Some(binary(IMPORTS, &IMPORTS_BIN));
    config.exports = Some(if u.arbitrary()? {
        binary(HTTP_EXPORTS, &HTTP_BIN)
    } else {
        binary(REDIS_EXPORTS, &REDIS_BIN)
    });
    config.max_memories = config.max_memories.max(1);
    config.max_funcs = config.max_funcs.max(3);
    Ok(wasm_smith::Module::new(config, u)?.to_bytes())
}

fuzz_target!(|data: &[u8]| {
    let Some((kind, rest)) = data.split_first() else {
        return;
    };
    let module = if kind % 2 == 0 {
        rest.to_vec()
    } else {
        match generated(&mut Unstructured::new(rest)) {
            Ok(module) => module,
            Err(_) => return,
        }
    };
    let Ok(component) = spin_componentize::componentize(&module) else {
        return;
    };
    spin_fuzz::assert_valid(&component);
    let (imports, _) = spin_fuzz::outer_names(&component);
    for name in imports {
        assert!(
            name.starts_with("wasi:") || name.starts_with("fermyon:spin/"),
            "the component imports `{name}`"
        );
    }
});
