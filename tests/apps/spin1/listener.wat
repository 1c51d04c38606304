;; A Redis-triggered Spin 1 module: each message is SET as the value of
;; `spin1-message` in database 12 of the Redis on 127.0.0.1:6379 (through
;; Spin 1's outbound Redis); the message `fail` is answered with `error`.
  (import "outbound-redis" "set" (func $set (param i32 i32 i32 i32 i32 i32 i32)))
  (data (i32.const 0) "redis://127.0.0.1:6379/12")
  (data (i32.const 32) "spin1-message")
  (data (i32.const 48) "fail")
  (export "canonical_abi_realloc" (func $realloc))
  (func (export "handle-redis-message") (param $msg i32) (param $len i32) (result i32)
    (i32.store8 (i32.const 1024) (i32.const 0))
    (if (call $eq (local.get $msg) (local.get $len) (i32.const 48) (i32.const 4))
      (then
        (i32.store8 (i32.const 1024) (i32.const 1))
        (i32.store8 (i32.const 1025) (i32.const 1))
        (return (i32.const 1024))))
    (call $set (i32.const 0) (i32.const 25) (i32.const 32) (i32.const 13)
      (local.get $msg) (local.get $len) (i32.const 1536))
    (i32.store8 (i32.const 1024) (i32.load8_u (i32.const 1536)))
    (i32.store8 (i32.const 1025) (i32.load8_u (i32.const 1537)))
    (i32.const 1024))
