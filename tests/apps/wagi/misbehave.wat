;; A Wagi module written for the tests, misbehaving by its argument (the
;; query): `exit` says so on stderr and exits with status 3, `spin` never
;; returns, `nohead`
;; writes a body without headers; with an empty one it redirects. Its
;; entry point is `main`, not `_start`.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "Location: /elsewhere\n\n")
  (data (i32.const 200) "just a body")
  (data (i32.const 300) "exiting with status 3\n")
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "main") (local $arg i32)
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (drop (call $args_get (i32.const 1024) (i32.const 2048)))
    ;; The second argument's first letter (0 when it is empty).
    (if (i32.lt_u (i32.load (i32.const 16)) (i32.const 2))
      (then (unreachable)))
    (local.set $arg (i32.load8_u (i32.load (i32.const 1028))))
    (if (i32.eqz (local.get $arg))
      (then (call $write (i32.const 100) (i32.const 22)) (return)))
    (if (i32.eq (local.get $arg) (i32.const 101)) ;; e
      (then
        (i32.store (i32.const 0) (i32.const 300))
        (i32.store (i32.const 4) (i32.const 22))
        (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
        (call $proc_exit (i32.const 3))))
    (if (i32.eq (local.get $arg) (i32.const 115)) ;; s
      (then (loop $forever (br $forever))))
    (call $write (i32.const 200) (i32.const 11))))
