;; A Spin 1 HTTP module that answers with the variable named by the
;; `x-key` header (`greeting` without one): 200 and its value, or 500 and
;; `<error case>:<message>`.
  (import "spin-config" "get-config" (func $get_config (param i32 i32 i32)))
  (data (i32.const 0) "x-key")
  (data (i32.const 16) "greeting")
  (export "canonical_abi_realloc" (func $realloc))
  (func (export "handle-http-request")
    (param $method i32) (param $uri i32) (param $uri_len i32)
    (param $headers i32) (param $headers_len i32)
    (param $params i32) (param $params_len i32)
    (param $has_body i32) (param $body i32) (param $body_len i32)
    (result i32)
    (if (call $header (local.get $headers) (local.get $headers_len) (i32.const 0) (i32.const 5))
      (then (call $get_config (global.get $hv_ptr) (global.get $hv_len) (i32.const 1536)))
      (else (call $get_config (i32.const 16) (i32.const 8) (i32.const 1536))))
    (if (i32.eqz (i32.load8_u (i32.const 1536)))
      (then
        (call $emit (i32.load (i32.const 1540)) (i32.load (i32.const 1544)))
        (return (call $respond (i32.const 200)))))
    (call $emit_num (i64.extend_i32_u (i32.load8_u (i32.const 1540))))
    (call $emit_byte (i32.const 58))
    (call $emit (i32.load (i32.const 1544)) (i32.load (i32.const 1548)))
    (call $respond (i32.const 500)))
