;; A Spin 1 HTTP module that calls key-value and SQLite with handles it was
;; never given, and answers the error case of each (or `ok`), separated by
;; `|`: a store number it never opened; a connection number it never
;; opened; the number of a store it opened, as a SQLite connection; that
;; store after it was closed. It then closes the store again and a number
;; it never opened, which must change nothing, and opens the store until an
;; open fails (at most 20 times): `|<how many opened>|<that error's case>`.
  (import "key-value" "open" (func $kv_open (param i32 i32 i32)))
  (import "key-value" "get" (func $kv_get (param i32 i32 i32 i32)))
  (import "key-value" "close" (func $kv_close (param i32)))
  (import "sqlite" "execute" (func $execute (param i32 i32 i32 i32 i32 i32)))
  (data (i32.const 0) "default")
  (data (i32.const 16) "key")
  (data (i32.const 32) "SELECT 1")
  (export "canonical_abi_realloc" (func $realloc))
  ;; Appends the error case of the result at 1536, or `ok`.
  (func $case
    (if (i32.load8_u (i32.const 1536))
      (then (call $emit_num (i64.extend_i32_u (i32.load8_u (i32.const 1540)))))
      (else (call $emit_byte (i32.const 111)) (call $emit_byte (i32.const 107)))))
  (func (export "handle-http-request")
    (param $method i32) (param $uri i32) (param $uri_len i32)
    (param $headers i32) (param $headers_len i32)
    (param $params i32) (param $params_len i32)
    (param $has_body i32) (param $body i32) (param $body_len i32)
    (result i32)
    (local $store i32) (local $opened i32)
    (call $kv_get (i32.const 7) (i32.const 16) (i32.const 3) (i32.const 1536))
    (call $case)
    (call $emit_byte (i32.const 124))
    (call $execute (i32.const 7) (i32.const 32) (i32.const 8) (i32.const 0) (i32.const 0)
      (i32.const 1536))
    (call $case)
    (call $emit_byte (i32.const 124))
    (call $kv_open (i32.const 0) (i32.const 7) (i32.const 1536))
    (if (i32.load8_u (i32.const 1536)) (then unreachable))
    (local.set $store (i32.load (i32.const 1540)))
    (call $execute (local.get $store) (i32.const 32) (i32.const 8) (i32.const 0) (i32.const 0)
      (i32.const 1536))
    (call $case)
    (call $emit_byte (i32.const 124))
    (call $kv_close (local.get $store))
    (call $kv_get (local.get $store) (i32.const 16) (i32.const 3) (i32.const 1536))
    (call $case)
    (call $kv_close (local.get $store))
    (call $kv_close (i32.const 99))
    (block $failed
      (loop $again
        (call $kv_open (i32.const 0) (i32.const 7) (i32.const 1536))
        (br_if $failed (i32.load8_u (i32.const 1536)))
        (local.set $opened (i32.add (local.get $opened) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get $opened) (i32.const 20)))))
    (call $emit_byte (i32.const 124))
    (call $emit_num (i64.extend_i32_u (local.get $opened)))
    (call $emit_byte (i32.const 124))
    (call $case)
    (call $respond (i32.const 200)))
