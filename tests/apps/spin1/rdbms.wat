;; A Spin 1 HTTP module that runs the statement of its `x-statement`
;; header, with the one parameter int32(41), on the PostgreSQL (`x-db: pg`)
;; or MySQL (`x-db: mysql`) server of its `x-address` header, and answers
;; `<columns>|<first column's name>|<case of the first value>|<it>`, or 500
;; and `<error case>:<message>`.
  (import "outbound-pg" "query" (func $pg_query (param i32 i32 i32 i32 i32 i32 i32)))
  (import "outbound-mysql" "query" (func $mysql_query (param i32 i32 i32 i32 i32 i32 i32)))
  (data (i32.const 0) "x-db")
  (data (i32.const 16) "x-address")
  (data (i32.const 32) "x-statement")
  ;; The parameters: one value, int32(41).
  (data (i32.const 64) "\03\00\00\00\00\00\00\00\29\00\00\00\00\00\00\00")
  (export "canonical_abi_realloc" (func $realloc))
  (func (export "handle-http-request")
    (param $method i32) (param $uri i32) (param $uri_len i32)
    (param $headers i32) (param $headers_len i32)
    (param $params i32) (param $params_len i32)
    (param $has_body i32) (param $body i32) (param $body_len i32)
    (result i32)
    (local $pg i32) (local $addr i32) (local $addr_len i32) (local $value i32) (local $case i32)
    (drop (call $header (local.get $headers) (local.get $headers_len) (i32.const 0) (i32.const 4)))
    (local.set $pg (i32.eq (i32.load8_u (global.get $hv_ptr)) (i32.const 112)))
    (drop (call $header (local.get $headers) (local.get $headers_len) (i32.const 16) (i32.const 9)))
    (local.set $addr (global.get $hv_ptr))
    (local.set $addr_len (global.get $hv_len))
    (drop (call $header (local.get $headers) (local.get $headers_len) (i32.const 32) (i32.const 11)))
    (if (local.get $pg)
      (then
        (call $pg_query (local.get $addr) (local.get $addr_len)
          (global.get $hv_ptr) (global.get $hv_len) (i32.const 64) (i32.const 1) (i32.const 1536)))
      (else
        (call $mysql_query (local.get $addr) (local.get $addr_len)
          (global.get $hv_ptr) (global.get $hv_len) (i32.const 64) (i32.const 1) (i32.const 1536))))
    (if (i32.load8_u (i32.const 1536))
      (then
        (call $emit_num (i64.extend_i32_u (i32.load8_u (i32.const 1540))))
        (call $emit_byte (i32.const 58))
        (call $emit (i32.load (i32.const 1544)) (i32.load (i32.const 1548)))
        (return (call $respond (i32.const 500)))))
    ;; Columns: how many, and the first one's name.
    (call $emit_num (i64.extend_i32_u (i32.load (i32.const 1544))))
    (call $emit_byte (i32.const 124))
    (call $emit (i32.load (i32.load (i32.const 1540))) (i32.load offset=4 (i32.load (i32.const 1540))))
    (call $emit_byte (i32.const 124))
    ;; rows[0][0]: its case, then its value when it is an int32 or int64.
    (local.set $value (i32.load (i32.load (i32.const 1548))))
    (local.set $case (i32.load8_u (local.get $value)))
    (call $emit_num (i64.extend_i32_u (local.get $case)))
    (call $emit_byte (i32.const 124))
    (if (i32.eq (local.get $case) (i32.const 3))
      (then (call $emit_num (i64.extend_i32_s (i32.load offset=8 (local.get $value))))))
    (if (i32.eq (local.get $case) (i32.const 4))
      (then (call $emit_num (i64.load offset=8 (local.get $value)))))
    (call $respond (i32.const 200)))
