;; A Spin 1 HTTP module that GETs the URL in its `x-url` header with the
;; headers `x-from: spin1` and `host: evil.example` (which the host must
;; leave out: it sets `host` from the URL), and answers `<status>|<body>` of the response,
;; or 502 and `error:<http-error case>`.
  (import "wasi-outbound-http" "request"
    (func $request (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (data (i32.const 0) "x-url")
  (data (i32.const 16) "x-from")
  (data (i32.const 32) "spin1")
  (data (i32.const 48) "error:")
  (data (i32.const 96) "host")
  (data (i32.const 112) "evil.example")
  ;; The outbound request's headers: ("x-from", "spin1"), ("host",
  ;; "evil.example").
  (data (i32.const 64)
    "\10\00\00\00\06\00\00\00\20\00\00\00\05\00\00\00"
    "\60\00\00\00\04\00\00\00\70\00\00\00\0c\00\00\00")
  (export "canonical_abi_realloc" (func $realloc))
  (func (export "handle-http-request")
    (param $method i32) (param $uri i32) (param $uri_len i32)
    (param $headers i32) (param $headers_len i32)
    (param $params i32) (param $params_len i32)
    (param $has_body i32) (param $body i32) (param $body_len i32)
    (result i32)
    (drop (call $header (local.get $headers) (local.get $headers_len) (i32.const 0) (i32.const 5)))
    (call $request
      (i32.const 0) (global.get $hv_ptr) (global.get $hv_len)
      (i32.const 64) (i32.const 2)
      (i32.const 0) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 1536))
    (if (i32.load8_u (i32.const 1536))
      (then
        (call $emit (i32.const 48) (i32.const 6))
        (call $emit_num (i64.extend_i32_u (i32.load8_u (i32.const 1540))))
        (return (call $respond (i32.const 502)))))
    (call $emit_num (i64.extend_i32_u (i32.load16_u (i32.const 1540))))
    (call $emit_byte (i32.const 124))
    (if (i32.load8_u (i32.const 1556))
      (then (call $emit (i32.load (i32.const 1560)) (i32.load (i32.const 1564)))))
    (call $respond (i32.const 200)))
