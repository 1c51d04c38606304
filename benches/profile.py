"""Where a server's CPU goes per request: `perf record` (the cpu-clock
software event, so it works without hardware counters, e.g. in a VM) during
an extra load run, then every sample's call stack is put in one phase of a
request (instantiate, guest code, host calls, drop, HTTP, …) and one kind of
work (user code, allocator, page faults, other kernel).

The classification is pure and unit-tested (benches/test_report.py).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

# A phase is the first rule whose pattern matches any frame of the stack,
# tried in this order. Guest code is recognised by wasmtime's symbol names
# for compiled Wasm (`wasm[N]::function[M]…`).
PHASES = [
    # Funcref tables are initialised lazily: the first use of each entry
    # calls back into the runtime to look the function up. Stacks through
    # these libcalls stop at the compiled code, so they get their own phase.
    ("funcref lookups (lazy table init)", re.compile(r"ref_func|get_func_ref|initialize_and_return_funcref|"
                                                    r"table_get_lazy_init_func_ref|func_loc")),
    ("instantiate", re.compile(r"instantiate|InstancePre|Instance::new|OwnedComponentInstance|module_start")),
    ("drop the store/instance", re.compile(r"drop_in_place<wasmtime::runtime::store|StoreOpaque.*drop|deallocate|decommit")),
    ("guest → host calls (WASI, wasi:http)", re.compile(r"wasmtime_wasi|lower-import|resource-drop|"
                                                       r"resource_drop|spin_runtime::capabilities")),
    ("guest code (Wasm)", re.compile(r"^wasm\[\d+\]|array_to_wasm_trampoline|wasm_to_array_trampoline")),
    ("new store, request/response plumbing", re.compile(r"spin_trigger_http|spin_runtime|Store.*::new")),
    ("HTTP server (hyper)", re.compile(r"^hyper::|hyper_util")),
    ("tokio scheduling, idle", re.compile(r"^tokio::|epoll_wait|schedule|do_idle|cpuidle")),
]
OTHER_PHASE = "other"

ALLOCATOR = re.compile(r"^(_int_malloc|_int_free|malloc|free|cfree|realloc|calloc|malloc_consolidate|"
                       r"_int_realloc|tcache_|unlink_chunk|sysmalloc|systrim|heap_trim|__libc_malloc|"
                       r"__libc_free|__libc_calloc|__libc_realloc|alloc::alloc)")
KINDS = ["user code", "allocator", "page faults (kernel)", "TLB shootdowns (kernel)", "other kernel"]


def classify(stack: list[str], leaf_is_kernel: bool) -> tuple[str, str]:
    """(phase, kind) of one sample; `stack` runs from the leaf outwards."""
    phase = OTHER_PHASE
    for name, pattern in PHASES:
        if any(pattern.search(frame) for frame in stack):
            phase = name
            break
    if any(re.search(r"flush_tlb|smp_call_function|call_function_interrupt", f) for f in stack):
        kind = "TLB shootdowns (kernel)"
    elif any(f in ("asm_exc_page_fault", "exc_page_fault") for f in stack):
        kind = "page faults (kernel)"
    elif leaf_is_kernel:
        kind = "other kernel"
    elif stack and ALLOCATOR.match(stack[0]):
        kind = "allocator"
    else:
        kind = "user code"
    return phase, kind


_FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")


def parse_perf_script(text: str) -> Counter:
    """Counts (phase, kind) over the samples of `perf script` output (one
    header line, then one frame per line, a blank line between samples)."""
    counts: Counter = Counter()
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if len(lines) < 2:
            continue
        frames = []
        kernel_leaf = False
        for i, line in enumerate(lines[1:]):
            match = _FRAME.match(line)
            if not match:
                continue
            symbol, dso = match.groups()
            symbol = re.sub(r"\+0x[0-9a-f]+$", "", symbol)
            if i == 0:
                kernel_leaf = "kernel" in dso or dso.startswith("[k")
            frames.append(symbol)
        if frames:
            counts[classify(frames, kernel_leaf)] += 1
    return counts


def available() -> bool:
    """Whether `perf record -e cpu-clock` works here."""
    if not shutil.which("perf"):
        return False
    probe = subprocess.run(
        ["perf", "record", "-q", "-e", "cpu-clock", "-o", "/dev/null", "--", "true"],
        capture_output=True,
        timeout=60,
    )
    return probe.returncode == 0


def record(pid: int, out: Path, during) -> None:
    """Samples `pid` (all threads, with call stacks) while `during()` runs."""
    out.parent.mkdir(parents=True, exist_ok=True)
    perf = subprocess.Popen(
        ["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "--call-graph", "dwarf,16384",
         "-p", str(pid), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # let perf attach to every thread
    try:
        during()
    finally:
        perf.send_signal(signal.SIGINT)
        try:
            perf.wait(timeout=120)
        except subprocess.TimeoutExpired:
            perf.kill()
            perf.wait()


def breakdown(data: Path) -> Counter:
    """The (phase, kind) counts of a recording."""
    script = subprocess.run(
        ["perf", "script", "-i", str(data), "-F", "ip,sym,dso", "--no-inline"],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=1800,
    )
    # Without a header field, perf script starts each sample with its frames;
    # put a header line back so every block has the same shape.
    text = "\n\n".join("sample\n" + block for block in script.stdout.split("\n\n"))
    return parse_perf_script(text)


def table(counts: Counter, cpu_ms_per_req: float) -> str:
    """Phase × kind, as % of server CPU and µs per request."""
    total = sum(counts.values()) or 1
    phases = [name for name, _ in PHASES] + [OTHER_PHASE]
    lines = [
        "| phase | µs/request | % of server CPU | " + " | ".join(KINDS) + " |",
        "|---" * (len(KINDS) + 3) + "|",
    ]
    for phase in phases:
        row = [counts[(phase, kind)] for kind in KINDS]
        n = sum(row)
        if not n:
            continue
        us = n / total * cpu_ms_per_req * 1000
        shares = [f"{c / total * 100:.1f}%" if c else "" for c in row]
        lines.append(f"| {phase} | {us:,.0f} | {n / total * 100:.1f}% | " + " | ".join(shares) + " |")
    kinds = [sum(counts[(p, k)] for p in phases) for k in KINDS]
    lines.append(
        f"| all | {cpu_ms_per_req * 1000:,.0f} | 100% | "
        + " | ".join(f"{c / total * 100:.1f}%" for c in kinds)
        + " |"
    )
    return "\n".join(lines)
