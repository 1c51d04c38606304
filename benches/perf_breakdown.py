"""Where a server's CPU goes per request: `perf record` (the cpu-clock
software event, so it works without hardware counters, e.g. in a VM) during
an extra load run, then every sample's call stack is put in one phase of a
request (instantiate, guest code, host calls, drop, HTTP, …) and one kind of
work (user code, allocator, page faults, other kernel).

The classification is pure and unit-tested (benches/test_bench.py).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

# A sample's phase is decided by the innermost frame that matches one of
# these patterns (the first in this order, if several match that frame):
# code called from the guest belongs to the host call, code the host runs
# around the guest to the request plumbing, and so on. Guest code is
# recognised by wasmtime's symbol names for compiled Wasm
# (`wasm[N]::function[M]…`).
PHASES = [
    # Funcref tables are initialised lazily: the first use of each entry
    # calls back into the runtime to look the function up. Stacks through
    # these libcalls stop at the compiled code, so they get their own phase.
    ("funcref lookups (lazy table init)", re.compile(r"ref_func|get_func_ref|initialize_and_return_funcref|"
                                                    r"table_get_lazy_init_func_ref|func_loc")),
    ("instantiate", re.compile(r"instantiate|InstancePre|Instance::new|OwnedComponentInstance|module_start")),
    ("drop the store/instance", re.compile(r"drop_in_place<wasmtime::runtime::store|StoreOpaque.*drop|deallocate|decommit")),
    ("guest code (Wasm)", re.compile(r"^wasm\[\d+\]|array_to_wasm_trampoline|call_handle")),
    ("guest → host calls (WASI, wasi:http)", re.compile(r"wasmtime_wasi|lower-import|resource-drop|"
                                                       r"resource_drop|spin_runtime::capabilities")),
    ("new store, request/response plumbing", re.compile(r"spin_trigger_http|spin_runtime|Store.*::new")),
    ("HTTP server (hyper)", re.compile(r"^hyper::|hyper_util")),
]
# The scheduler is below everything; it only counts when no frame above
# belongs to a phase.
SCHEDULER_PHASE = ("tokio scheduling, idle", re.compile(r"^tokio::|epoll_wait|schedule|do_idle|cpuidle"))
OTHER_PHASE = "other"

ALLOCATOR = re.compile(r"^(_int_malloc|_int_free|malloc|free|cfree|realloc|calloc|malloc_consolidate|"
                       r"_int_realloc|tcache_|unlink_chunk|sysmalloc|systrim|heap_trim|__libc_malloc|"
                       r"__libc_free|__libc_calloc|__libc_realloc|alloc::alloc)")
KINDS = ["user code", "allocator", "page faults (kernel)", "TLB shootdowns (kernel)", "other kernel"]


def classify(stack: list[str], leaf_is_kernel: bool) -> tuple[str, str]:
    """(phase, kind) of one sample; `stack` runs from the leaf outwards."""
    phase = next((name for frame in stack for name, pattern in PHASES if pattern.search(frame)), None)
    if phase is None:
        name, pattern = SCHEDULER_PHASE
        phase = name if any(pattern.search(frame) for frame in stack) else OTHER_PHASE
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
    """Counts (phase, kind) over the samples of `perf script` output: each
    sample is a header line (`comm tid`, not indented) followed by its
    frames, one per indented line, leaf first."""
    counts: Counter = Counter()
    samples: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            samples.append([])
            continue
        match = _FRAME.match(line)
        if match and samples:
            symbol, dso = match.groups()
            samples[-1].append((re.sub(r"\+0x[0-9a-f]+$", "", symbol), dso))
    for frames in samples:
        if frames:
            leaf_dso = frames[0][1]
            kernel_leaf = "kernel" in leaf_dso or leaf_dso.startswith("[k")
            counts[classify([symbol for symbol, _ in frames], kernel_leaf)] += 1
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
        ["perf", "script", "-i", str(data), "-F", "comm,tid,ip,sym,dso", "--no-inline"],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=1800,
    )
    return parse_perf_script(script.stdout)


def table(counts: Counter, cpu_ms_per_req: float) -> str:
    """Phase × kind, as % of server CPU and µs per request."""
    total = sum(counts.values()) or 1
    phases = [name for name, _ in PHASES] + [SCHEDULER_PHASE[0], OTHER_PHASE]
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
