;; A Spin 1 HTTP module whose response carries headers HTTP cannot send as
;; they are, beside good ones: `x-ok: 1`, `bad name: v` (a space in the
;; name), `x-newline: a<LF>b`, `x-twice` twice (`1`, then `2`), and headers
;; that would frame the response its own way: `content-length: 11` and
;; `transfer-encoding: chunked`. The body is `hello world`; with the
;; `x-no-body` request header there is none.
  (data (i32.const 0) "x-ok")
  (data (i32.const 8) "1")
  (data (i32.const 16) "bad name")
  (data (i32.const 32) "v")
  (data (i32.const 48) "x-newline")
  (data (i32.const 64) "a\nb")
  (data (i32.const 80) "x-twice")
  (data (i32.const 96) "2")
  (data (i32.const 112) "x-no-body")
  (data (i32.const 256) "content-length")
  (data (i32.const 272) "11")
  (data (i32.const 288) "transfer-encoding")
  (data (i32.const 320) "chunked")
  (data (i32.const 336) "hello world")
  ;; The header list: seven (name, value) pairs.
  (data (i32.const 128)
    "\00\00\00\00\04\00\00\00\08\00\00\00\01\00\00\00"
    "\10\00\00\00\08\00\00\00\20\00\00\00\01\00\00\00"
    "\30\00\00\00\09\00\00\00\40\00\00\00\03\00\00\00"
    "\50\00\00\00\07\00\00\00\08\00\00\00\01\00\00\00"
    "\50\00\00\00\07\00\00\00\60\00\00\00\01\00\00\00"
    "\00\01\00\00\0e\00\00\00\10\01\00\00\02\00\00\00"
    "\20\01\00\00\11\00\00\00\40\01\00\00\07\00\00\00")
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
    (i32.store (i32.const 1036) (i32.const 7))
    (i32.store8 (i32.const 1040)
      (i32.eqz (call $header (local.get $headers) (local.get $headers_len) (i32.const 112) (i32.const 9))))
    (i32.store (i32.const 1044) (i32.const 336))
    (i32.store (i32.const 1048) (i32.const 11))
    (i32.const 1024))
