;; A Wagi module (a WASI preview 1 command) written for the tests: it
;; answers `text/plain` with its arguments (`ARG `), its environment
;; (`ENV `) and its stdin (after `STDIN `), one per line.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  ;; 0: an iovec and the count written; 16/24: counts and sizes;
  ;; 1024: environ pointers; 4096: environ strings; 20480: argv pointers;
  ;; 21504: argv strings; 32768: stdin.
  (memory (export "memory") 1)
  (data (i32.const 100) "Content-Type: text/plain\n\n")
  (data (i32.const 200) "\n")
  (data (i32.const 210) "ARG ")
  (data (i32.const 220) "ENV ")
  (data (i32.const 230) "STDIN ")
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))
  (func $write_strings (param $count i32) (param $ptrs i32) (param $prefix i32)
    (local $i i32) (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s (i32.load (i32.add (local.get $ptrs) (i32.shl (local.get $i) (i32.const 2)))))
        (call $write (local.get $prefix) (i32.const 4))
        (call $write (local.get $s) (call $strlen (local.get $s)))
        (call $write (i32.const 200) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  (func (export "_start") (local $n i32)
    (call $write (i32.const 100) (i32.const 26))
    (drop (call $args_sizes_get (i32.const 24) (i32.const 28)))
    (drop (call $args_get (i32.const 20480) (i32.const 21504)))
    (call $write_strings (i32.load (i32.const 24)) (i32.const 20480) (i32.const 210))
    (drop (call $environ_sizes_get (i32.const 16) (i32.const 20)))
    (drop (call $environ_get (i32.const 1024) (i32.const 4096)))
    (call $write_strings (i32.load (i32.const 16)) (i32.const 1024) (i32.const 220))
    (call $write (i32.const 230) (i32.const 6))
    (block $done
      (loop $next
        (i32.store (i32.const 0) (i32.const 32768))
        (i32.store (i32.const 4) (i32.const 32768))
        (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $done (i32.eqz (local.get $n)))
        (call $write (i32.const 32768) (local.get $n))
        (br $next)))))
