;; A Spin 1 HTTP module whose response carries headers HTTP cannot send as
;; they are, beside good ones: `x-ok: 1`, `bad name: v` (a space in the
;; name), `x-newline: a<LF>b`, and `x-twice` twice (`1`, then `2`). No
;; body.
  (data (i32.const 0) "x-ok")
  (data (i32.const 8) "1")
  (data (i32.const 16) "bad name")
  (data (i32.const 32) "v")
  (data (i32.const 48) "x-newline")
  (data (i32.const 64) "a\nb")
  (data (i32.const 80) "x-twice")
  (data (i32.const 96) "2")
  ;; The header list: five (name, value) pairs.
  (data (i32.const 128)
    "\00\00\00\00\04\00\00\00\08\00\00\00\01\00\00\00"
    "\10\00\00\00\08\00\00\00\20\00\00\00\01\00\00\00"
    "\30\00\00\00\09\00\00\00\40\00\00\00\03\00\00\00"
    "\50\00\00\00\07\00\00\00\08\00\00\00\01\00\00\00"
    "\50\00\00\00\07\00\00\00\60\00\00\00\01\00\00\00")
  (export "canonical_abi_realloc" (func $realloc))
  (func (export "handle-http-request")
    (param $method i32) (param $uri i32) (param $uri_len i32)
    (param $headers i32) (param $headers_len i32)
    (param $params i32) (param $params_len i32)
    (param $has_body i32) (param $body i32) (param $body_len i32)
    (result i32)
    (i32.store16 (i32.const 1024) (i32.const 200))
    (i32.store8 (i32.const 1028) (i32.const 1))
    (i32.store (i32.const 1032) (i32.const 128))
    (i32.store (i32.const 1036) (i32.const 5))
    (i32.store8 (i32.const 1040) (i32.const 0))
    (i32.const 1024))
