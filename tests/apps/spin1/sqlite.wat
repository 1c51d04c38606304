;; A Spin 1 HTTP module that runs `SELECT ?1 + 1, 'two'` with the integer
;; 41 on the default database and answers `<columns>|<first value of the
;; first row>`, or 500 and `<error case>` when a call fails.
  (import "sqlite" "open" (func $open (param i32 i32 i32)))
  (import "sqlite" "execute" (func $execute (param i32 i32 i32 i32 i32 i32)))
  (import "sqlite" "close" (func $close (param i32)))
  (data (i32.const 0) "default")
  (data (i32.const 16) "SELECT ?1 + 1, 'two'")
  ;; The parameters: one value, integer(41).
  (data (i32.const 64) "\00\00\00\00\00\00\00\00\29\00\00\00\00\00\00\00")
  (export "canonical_abi_realloc" (func $realloc))
  (func (export "handle-http-request")
    (param $method i32) (param $uri i32) (param $uri_len i32)
    (param $headers i32) (param $headers_len i32)
    (param $params i32) (param $params_len i32)
    (param $has_body i32) (param $body i32) (param $body_len i32)
    (result i32)
    (local $conn i32) (local $row i32) (local $value i32)
    (call $open (i32.const 0) (i32.const 7) (i32.const 1536))
    (if (i32.load8_u (i32.const 1536))
      (then
        (call $emit_num (i64.extend_i32_u (i32.load8_u (i32.const 1540))))
        (return (call $respond (i32.const 500)))))
    (local.set $conn (i32.load (i32.const 1540)))
    (call $execute (local.get $conn) (i32.const 16) (i32.const 20) (i32.const 64) (i32.const 1)
      (i32.const 1536))
    (if (i32.load8_u (i32.const 1536))
      (then
        (call $emit_num (i64.extend_i32_u (i32.load8_u (i32.const 1540))))
        (return (call $respond (i32.const 500)))))
    (call $emit_num (i64.extend_i32_u (i32.load (i32.const 1544))))
    (call $emit_byte (i32.const 124))
    ;; rows[0].values[0]: an integer.
    (local.set $row (i32.load (i32.const 1548)))
    (local.set $value (i32.load (local.get $row)))
    (call $emit_num (i64.load offset=8 (local.get $value)))
    (call $close (local.get $conn))
    (call $respond (i32.const 200)))
