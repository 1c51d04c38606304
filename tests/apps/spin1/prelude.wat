;; What every test module of `tests/apps/spin1/` shares, spliced in ahead of
;; its own fields by `tests/spin1_modules.rs`: the shape of a module built
;; by a Spin 1 SDK (wit-bindgen 0.2): a memory, an allocator,
;; `canonical_abi_free`, and helpers to build a response.
;;
;; Memory: 0..1024 the module's own strings; 1024.. the response's return
;; area; 1536.. return areas of host calls; 4096..131072 the response body
;; being written; from 131072 the heap the host allocates in.
  (memory (export "memory") 4)
  (global $heap (mut i32) (i32.const 131072))
  (global $out_len (mut i32) (i32.const 0))
  (global $hv_ptr (mut i32) (i32.const 0))
  (global $hv_len (mut i32) (i32.const 0))

  ;; A bump allocator that never frees, growing memory as it needs (each
  ;; module exports it as `canonical_abi_realloc`, or wraps it).
  (func $realloc
    (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (block $enough
      (loop $grow
        (br_if $enough
          (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (if (local.get $old_size)
      (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old_size))))
    (local.get $ptr))
  (func (export "canonical_abi_free") (param i32 i32 i32))

  ;; Appends `len` bytes at `ptr` to the response body.
  (func $emit (param $ptr i32) (param $len i32)
    (memory.copy
      (i32.add (i32.const 4096) (global.get $out_len)) (local.get $ptr) (local.get $len))
    (global.set $out_len (i32.add (global.get $out_len) (local.get $len))))

  ;; Appends one byte.
  (func $emit_byte (param $b i32)
    (i32.store8 (i32.add (i32.const 4096) (global.get $out_len)) (local.get $b))
    (global.set $out_len (i32.add (global.get $out_len) (i32.const 1))))

  ;; Appends `n` in decimal.
  (func $emit_num (param $n i64)
    (if (i64.ge_u (local.get $n) (i64.const 10))
      (then (call $emit_num (i64.div_u (local.get $n) (i64.const 10)))))
    (call $emit_byte
      (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $n) (i64.const 10))))))

  ;; Whether the bytes at `a` and `b` are the same.
  (func $eq (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (result i32)
    (local $i i32)
    (if (i32.ne (local.get $al) (local.get $bl)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $al)))
        (if (i32.ne
              (i32.load8_u (i32.add (local.get $a) (local.get $i)))
              (i32.load8_u (i32.add (local.get $b) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; Finds the header named by `name` in a list of `count` (name, value)
  ;; pairs at `list`: its value is then at `$hv_ptr`, `$hv_len`.
  (func $header (param $list i32) (param $count i32) (param $name i32) (param $name_len i32)
    (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $count)))
        (if (call $eq
              (i32.load (local.get $list)) (i32.load offset=4 (local.get $list))
              (local.get $name) (local.get $name_len))
          (then
            (global.set $hv_ptr (i32.load offset=8 (local.get $list)))
            (global.set $hv_len (i32.load offset=12 (local.get $list)))
            (return (i32.const 1))))
        (local.set $list (i32.add (local.get $list) (i32.const 16)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; The decimal number at `ptr`.
  (func $parse_num (param $ptr i32) (param $len i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $n
          (i32.add (i32.mul (local.get $n) (i32.const 10))
            (i32.sub (i32.load8_u (local.get $ptr)) (i32.const 48))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; The response: `status`, `content-type: text/plain`, the body written
  ;; so far. Returns its return area.
  (func $respond (param $status i32) (result i32)
    (i32.store16 (i32.const 1024) (local.get $status))
    (i32.store8 (i32.const 1028) (i32.const 1))
    (i32.store (i32.const 1032) (i32.const 992))
    (i32.store (i32.const 1036) (i32.const 1))
    (i32.store8 (i32.const 1040) (i32.const 1))
    (i32.store (i32.const 1044) (i32.const 4096))
    (i32.store (i32.const 1048) (global.get $out_len))
    (i32.const 1024))
  ;; The header list of `$respond`: one (name, value) pair.
  (data (i32.const 992) "\c0\03\00\00\0c\00\00\00\d0\03\00\00\0a\00\00\00")
  (data (i32.const 960) "content-type")
  (data (i32.const 976) "text/plain")
