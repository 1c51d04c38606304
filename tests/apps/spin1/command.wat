;; A Spin 1 HTTP module shaped as wasm-ld shapes a WASI command's exports
;; (Spin 1's Rust and JavaScript SDKs built them so): each export runs the
;; constructors first and the destructors last, and the constructors read
;; the environment through WASI. It answers with how many environment
;; variables its constructors found and how often they ran.
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (global $ctors_ran (mut i32) (i32.const 0))
  (global $env_count (mut i32) (i32.const 0))
  (func $ctors
    (drop (call $environ_sizes_get (i32.const 1536) (i32.const 1540)))
    (global.set $env_count (i32.load (i32.const 1536)))
    (global.set $ctors_ran (i32.add (global.get $ctors_ran) (i32.const 1))))
  (func $dtors
    (drop (call $environ_sizes_get (i32.const 1536) (i32.const 1540))))
  (func (export "canonical_abi_realloc") (param i32 i32 i32 i32) (result i32)
    call $ctors
    local.get 0
    local.get 1
    local.get 2
    local.get 3
    call $realloc
    call $dtors)
  (func (export "handle-http-request")
    (param $method i32) (param $uri i32) (param $uri_len i32)
    (param $headers i32) (param $headers_len i32)
    (param $params i32) (param $params_len i32)
    (param $has_body i32) (param $body i32) (param $body_len i32)
    (result i32)
    (local $ret i32)
    (call $ctors)
    (call $emit_num (i64.extend_i32_u (global.get $env_count)))
    (call $emit_byte (i32.const 124))
    (call $emit_num (i64.extend_i32_u (global.get $ctors_ran)))
    (local.set $ret (call $respond (i32.const 200)))
    (call $dtors)
    (local.get $ret))
