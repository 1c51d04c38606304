"""The pure half of the benchmark: parsing wrk and /proc, and turning a run's
results into Markdown tables (every figure with its ratio to the uvicorn and
hyper references) and into docs/performance.md.

Nothing here runs a process, so all of it is unit-tested
(benches/test_bench.py).
"""

from __future__ import annotations

import re

# The two references every figure is divided by. `uvicorn` is uvicorn as
# `pip install uvicorn` installs it (h11, asyncio): the configuration issue 5
# measured (~9,600 req/s, p50 1.6 ms there) and set its ratio targets against.
# `uvicorn-fast` is the same app on uvloop + httptools (`uvicorn[standard]`),
# ~4x faster on hello world: shown with its own ratio in the targets table.
UVICORN = "uvicorn"
UVICORN_FAST = "uvicorn-fast"
HYPER = "hyper"
REFERENCES = (HYPER, UVICORN, UVICORN_FAST)

# Case keys: an app, optionally `/setting`.
APP_LABELS = {
    HYPER: "hyper (native reference)",
    UVICORN: "uvicorn (Python reference: h11, asyncio)",
    UVICORN_FAST: "uvicorn, uvloop + httptools",
    "spin-py2wasm": "spin · our SDK (`spin py2wasm`)",
    "spin-sdk": "spin · official spin-sdk 3.3.0",
    "spin-sdk5": "spin · official spin-sdk 5.0.0 (wasi:http 0.3)",
}

# The `spin up` settings the harness compares, by key: (label, extra
# arguments, extra environment). Add a row to measure another setting.
SETTINGS = {
    "default": ("default", [], {}),
    "no-pooling": ("`--disable-pooling`", ["--disable-pooling"], {}),
    "1-thread": ("one tokio worker", [], {"TOKIO_WORKER_THREADS": "1"}),
    "concurrency-4": ("`--max-concurrent-requests 4`", ["--max-concurrent-requests", "4"], {}),
    "reuse": ("`--max-instance-reuse-count 1000`", ["--max-instance-reuse-count", "1000"], {}),
    "reuse-concurrency-2": (
        "reuse 1000, `--max-concurrent-requests 2`",
        ["--max-instance-reuse-count", "1000", "--max-concurrent-requests", "2"],
        {},
    ),
    "fresh": ("`--max-instance-reuse-count 1`: a fresh instance per request", ["--max-instance-reuse-count", "1"], {}),
}

# A `wasi:http@0.3` component (spin-sdk 5) reuses an instance for up to 128
# requests by default, as in Spin, so its two cases are that default and
# `fresh`. The `wasi:http@0.2` apps get a fresh instance by default already:
# `fresh` would repeat their default, so they take every other setting.
SETTINGS_BY_APP = {"spin-sdk5": ("default", "fresh")}


def app_settings(app: str, smoke: bool) -> list[str]:
    """The settings `app` is loaded under. A smoke run keeps only the
    default of the `wasi:http@0.2` apps; spin-sdk5 keeps both its settings,
    since comparing them is what its case is for."""
    if app in SETTINGS_BY_APP:
        return list(SETTINGS_BY_APP[app])
    return ["default"] if smoke else [s for s in SETTINGS if s != "fresh"]


DOCS_BEGIN = "<!-- bench:latest:begin (written by scripts/bench.sh) -->"
DOCS_END = "<!-- bench:latest:end -->"
HISTORY_BEGIN = "<!-- bench:history:begin (one row per full run) -->"
HISTORY_END = "<!-- bench:history:end -->"
HISTORY_HEADER = (
    "| date (UTC) | commit | spin binary | official SDK req/s | our SDK req/s | uvicorn req/s "
    "| hyper req/s | warm start (official) | other load (cores) |\n"
    "|---|---|---|---|---|---|---|---|---|"
)

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(text: str) -> float:
    """A wrk duration (`123.45us`, `1.20ms`, `2.00s`) in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict:
    """Requests/s, p50/p99 (ms), request count and error count from the
    output of `wrk --latency`."""
    def find(pattern: str) -> re.Match:
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            raise ValueError(f"wrk output without {pattern!r}:\n{output}")
        return match

    errors = 0
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    return {
        "rps": float(find(r"^Requests/sec:\s+([\d.]+)").group(1)),
        "p50_ms": to_ms(find(r"^\s+50%\s+(\S+)").group(1)),
        "p99_ms": to_ms(find(r"^\s+99%\s+(\S+)").group(1)),
        "requests": int(find(r"^\s+(\d+) requests in").group(1)),
        "errors": errors,
    }


def parse_proc_stat(text: str) -> dict:
    """Fault and CPU counters from `/proc/<pid>/stat` (proc(5)); the command
    name may hold spaces and parentheses, so fields are counted from the
    last `)`."""
    rest = text[text.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state).
    field = lambda n: int(rest[n - 3])  # noqa: E731
    return {
        "minflt": field(10),
        "majflt": field(12),
        "utime": field(14),
        "stime": field(15),
    }


def fmt_num(x: float) -> str:
    """Three significant figures or so, without exponents."""
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    if x == 0:
        return "0"
    if x < 0.001:
        return "<0.001"
    return f"{x:.3g}"


def fmt_ratio(x: float) -> str:
    return f"{x:.0f}×" if x >= 10 else f"{x:.2g}×"


# Below these, a reference's figure is noise and a ratio to it means nothing.
RATIO_FLOORS = {"faults_per_req": 0.5}


def cell(value: float | None, refs: list[float | None], floor: float = 0.0) -> str:
    """`value (ratio to uvicorn · ratio to hyper)`; a ratio is left out
    where its reference is missing, zero or below `floor`."""
    if value is None:
        return "—"
    ratios = [fmt_ratio(value / r) if r and r >= floor else "—" for r in refs]
    return f"{fmt_num(value)} ({' · '.join(ratios)})"


def case_label(key: str) -> str:
    app, _, setting = key.partition("/")
    label = APP_LABELS.get(app, app)
    return f"{label}, {SETTINGS[setting][0]}" if setting else label


def _ref(section: dict, ref: str, metric: str) -> float | None:
    entry = section.get(ref) or {}
    return entry.get(metric)


def load_table(load: dict) -> str:
    metrics = [
        ("rps", "req/s"),
        ("p50_ms", "p50 ms"),
        ("p99_ms", "p99 ms"),
        ("single_p50_ms", "1-connection p50 ms"),
        ("cpu_ms_per_req", "server CPU ms/req"),
        ("faults_per_req", "page faults/req"),
        ("rss_mb", "max RSS MB"),
    ]
    head = "| case | " + " | ".join(m[1] for m in metrics) + " | errors | other load (cores) |"
    lines = [head, "|---" * (len(metrics) + 3) + "|"]
    for key, entry in load.items():
        if "error" in entry:
            lines.append(f"| {case_label(key)} | not measured: {one_line(entry['error'])} |")
            continue
        cells = [
            cell(entry.get(m), [_ref(load, UVICORN, m), _ref(load, HYPER, m)], RATIO_FLOORS.get(m, 0.0))
            for m, _ in metrics
        ]
        other = f"{entry['other_cores']:.2f} (load avg {entry['load_avg']:.2f})"
        lines.append(f"| {case_label(key)} | " + " | ".join(cells) + f" | {entry['errors']} | {other} |")
    return "\n".join(lines)


def start_table(builds: dict, launches: dict) -> str:
    metrics = [
        ("cold_ms", "launch → first 200, empty cache, ms"),
        ("warm_ms", "… warm cache, ms"),
        ("sibling_ms", "… new app, another Python app compiled before, ms"),
    ]
    head = (
        "| case | build s | component MB | `spin build`, unchanged, s | "
        + " | ".join(m[1] for m in metrics)
        + " |"
    )
    lines = [head, "|---" * (len(metrics) + 4) + "|"]
    keys = list(dict.fromkeys([*launches, *builds]))
    for key in keys:
        build = builds.get(key, {})
        launch = launches.get(key, {})
        error = build.get("error") or launch.get("error")
        if error:
            lines.append(f"| {case_label(key)} | not measured: {one_line(error)} |")
            continue
        built = [
            fmt_num(build["seconds"]) if "seconds" in build else "—",
            fmt_num(build["mb"]) if "mb" in build else "—",
            fmt_num(build["noop_seconds"]) if "noop_seconds" in build else "—",
        ]
        # Starting is compared with the references' own (warm) start.
        refs = [_ref(launches, UVICORN, "warm_ms"), _ref(launches, HYPER, "warm_ms")]
        cells = [cell(launch.get(m), refs) for m, _ in metrics]
        lines.append(f"| {case_label(key)} | " + " | ".join(built + cells) + " |")
    return "\n".join(lines)


def one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return first.replace("|", "\\|")[:200]


def targets_table(results: dict) -> str:
    """Issue 5's targets against this run."""
    load = results.get("load", {})
    launches = results.get("launches", {})
    builds = results.get("builds", {})

    def get(section: dict, key: str, metric: str) -> float | None:
        return (section.get(key) or {}).get(metric)

    uv = get(load, UVICORN, "rps")
    uv_fast = get(load, UVICORN_FAST, "rps")
    rows = []

    def ratio_row(what: str, key: str, goal: float) -> None:
        rps = get(load, key, "rps")
        if rps is None or not uv:
            rows.append((what, "not measured", "—"))
            return
        ratio = rps / uv
        status = "met" if ratio >= goal else f"not met: {ratio / goal:.3g} of the goal"
        measured = f"{fmt_num(rps)} req/s = {fmt_ratio(ratio)} uvicorn"
        if uv_fast:
            measured += f" ({fmt_ratio(rps / uv_fast)} uvicorn with uvloop + httptools)"
        rows.append((what, measured, status))

    def at_most(what: str, value: float | None, goal: float, unit: str) -> None:
        if value is None:
            rows.append((what, "not measured", "—"))
            return
        status = "met" if value <= goal else f"not met: {value / goal:.3g}× the limit"
        rows.append((what, f"{fmt_num(value)} {unit}", status))

    ratio_row("official spin-sdk hello ≥ 0.1× uvicorn req/s (≈ 2.5× Spin 4.1)", "spin-sdk/default", 0.1)
    ratio_row("our-SDK hello ≥ 0.1× uvicorn req/s", "spin-py2wasm/default", 0.1)
    ratio_row("our-SDK hello, stretch: 0.33× uvicorn req/s", "spin-py2wasm/default", 0.33)
    for app in ("spin-sdk", "spin-py2wasm"):
        at_most(f"{APP_LABELS[app]}: warm start → first 200 ≤ 60 ms", get(launches, app, "warm_ms"), 60, "ms")
        at_most(
            f"{APP_LABELS[app]}: first start of a new app after another was compiled ≤ 1.5 s",
            get(launches, app, "sibling_ms"),
            1500,
            "ms",
        )
        at_most(f"{APP_LABELS[app]}: RSS under load ≤ 120 MB", get(load, f"{app}/default", "rss_mb"), 120, "MB")
    at_most(
        "`spin build` of an unchanged app ≤ 0.2 s",
        get(builds, "spin-py2wasm", "noop_seconds"),
        0.2,
        "s",
    )
    ratio_row("official spin-sdk hello, instance reuse: ≥ 0.5× uvicorn req/s", "spin-sdk/reuse", 0.5)
    ratio_row("our-SDK hello, instance reuse: ≥ 0.5× uvicorn req/s", "spin-py2wasm/reuse", 0.5)
    lines = ["| target (issue 5) | this run | status |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


# Issue 9's limits for spin-sdk 5: Spin 4.1 served its hello world at
# 172–226 req/s with a fresh instance per request; the goal is 3× the best.
SPIN41_FRESH_RPS = 226
SDK5_FRESH_GOAL_RPS = 3 * SPIN41_FRESH_RPS
SDK5_RSS_LIMIT_MB = 150


def issue9_targets_table(results: dict) -> str:
    """Issue 9's targets for the spin-sdk 5.0 hello world against this run;
    req/s as a ratio to uvicorn on h11 + asyncio, measured in the same run."""
    load = results.get("load", {})
    uv = _ref(load, UVICORN, "rps")

    def vs_uvicorn(rps: float) -> str:
        return f"{fmt_num(rps)} req/s = {fmt_ratio(rps / uv)} uvicorn (h11)" if uv else f"{fmt_num(rps)} req/s"

    rows = []
    reuse = load.get("spin-sdk5/default") or {}
    target = f"spin-sdk 5.0 hello (reuse on) ≥ 1× uvicorn (h11) req/s with RSS ≤ {SDK5_RSS_LIMIT_MB} MB"
    if "rps" not in reuse:
        rows.append((target, "not measured", "—"))
    elif not uv:
        rows.append((target, vs_uvicorn(reuse["rps"]), "— (uvicorn not measured)"))
    else:
        ratio = reuse["rps"] / uv
        misses = []
        if ratio < 1:
            misses.append(f"req/s {ratio:.3g} of the goal")
        if reuse["rss_mb"] > SDK5_RSS_LIMIT_MB:
            misses.append(f"RSS {reuse['rss_mb'] / SDK5_RSS_LIMIT_MB:.3g}× the limit")
        measured = f"{vs_uvicorn(reuse['rps'])}; RSS {fmt_num(reuse['rss_mb'])} MB"
        rows.append((target, measured, f"not met: {', '.join(misses)}" if misses else "met"))

    fresh = load.get("spin-sdk5/fresh") or {}
    target = (
        f"fresh instance per request ≥ 3× Spin 4.1's 172–{SPIN41_FRESH_RPS} req/s, "
        f"i.e. ≥ {SDK5_FRESH_GOAL_RPS} req/s"
    )
    if "rps" not in fresh:
        rows.append((target, "not measured", "—"))
    else:
        rps = fresh["rps"]
        measured = f"{vs_uvicorn(rps)}; {fmt_ratio(rps / SPIN41_FRESH_RPS)} Spin 4.1's {SPIN41_FRESH_RPS} req/s"
        goal = SDK5_FRESH_GOAL_RPS
        rows.append((target, measured, "met" if rps >= goal else f"not met: {rps / goal:.3g} of the goal"))
    lines = ["| target (issue 9) | this run | status |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def render(results: dict) -> str:
    """The whole report of one run, in Markdown."""
    meta = results["meta"]
    machine = meta["machine"]
    load = meta["load"]
    spin = meta["spin"]
    parts = [
        f"### Run of {meta['date']}" + (" (smoke: short runs, not figures to quote)" if meta["smoke"] else ""),
        "",
        f"- Command: `{meta['command']}`",
        f"- Machine: {machine['nproc']} × {machine['cpu']}, {machine['mem_gb']} GiB, Linux {machine['kernel']}",
        f"- Commit: {meta['commit']}; spin binary: `{spin['path']}` ({spin['profile']}, built {spin['built']})",
        f"- Load: `wrk -t{load['threads']} -c{load['connections']} -d{load['seconds']:g}s --latency` "
        f"on 127.0.0.1 after a {load['warmup']:g} s warm-up; 1-connection latency from a "
        f"{load['single']:g} s `wrk -t1 -c1` run. Load average before the load part: "
        f"{meta.get('load_avg_before', 0):.2f}.",
        "- Each cell: value (ratio to uvicorn · ratio to hyper). \"other load\" is CPU taken by other "
        "processes while the case ran (the machine is shared with builds): above ~0.3 the case is "
        "noisy.",
        "",
        "#### Under load",
        "",
        load_table(results.get("load", {})),
        "",
        "#### Build and start",
        "",
        start_table(results.get("builds", {}), results.get("launches", {})),
        "",
        "#### Targets",
        "",
        targets_table(results),
        "",
        issue9_targets_table(results),
    ]
    for key, breakdown in (results.get("profiles") or {}).items():
        parts += [
            "",
            f"#### Where the CPU goes: {case_label(key)}",
            "",
            "From `perf record -e cpu-clock --call-graph dwarf` during one more load run: each sample "
            "goes to the phase of the innermost frame of its stack that names one "
            "(benches/perf_breakdown.py); µs/request scale the server CPU per request measured above.",
            "",
            breakdown,
        ]
    notes = meta.get("notes") or []
    if notes:
        parts += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(parts) + "\n"


def history_row(results: dict) -> str:
    meta = results["meta"]
    load = results.get("load", {})
    launches = results.get("launches", {})

    def rps(key: str) -> str:
        entry = load.get(key) or {}
        value = entry.get("rps")
        uv = (load.get(UVICORN) or {}).get("rps")
        if value is None:
            return "—"
        return f"{fmt_num(value)} ({fmt_ratio(value / uv)} uv)" if uv and key != UVICORN else fmt_num(value)

    warm = (launches.get("spin-sdk") or {}).get("warm_ms")
    others = [e["other_cores"] for e in load.values() if "other_cores" in e]
    other = f"{max(others):.2f} max" if others else "—"
    warm_text = f"{fmt_num(warm)} ms" if warm is not None else "—"
    return (
        f"| {meta['date']} | {meta['commit']} | {meta['spin']['profile']} | {rps('spin-sdk/default')} "
        f"| {rps('spin-py2wasm/default')} | {rps(UVICORN)} (uvloop + httptools: {rps(UVICORN_FAST)}) "
        f"| {rps(HYPER)} | {warm_text} | {other} |"
    )


def _replace_between(text: str, begin: str, end: str, body: str) -> str | None:
    start = text.find(begin)
    stop = text.find(end)
    if start < 0 or stop < start:
        return None
    return text[: start + len(begin)] + "\n" + body.rstrip("\n") + "\n" + text[stop:]


def update_docs(text: str, results: dict, append_history: bool) -> str:
    """docs/performance.md with its generated block replaced by this run and,
    for a full run, a row appended to its history table. Missing markers are
    added at the end."""
    latest = render(results)
    updated = _replace_between(text, DOCS_BEGIN, DOCS_END, latest)
    if updated is None:
        updated = text.rstrip("\n") + f"\n\n## Latest figures\n\n{DOCS_BEGIN}\n{latest}{DOCS_END}\n"
    if not append_history:
        return updated
    start = updated.find(HISTORY_BEGIN)
    stop = updated.find(HISTORY_END)
    if start < 0 or stop < start:
        return updated.rstrip("\n") + (
            f"\n\n## History\n\n{HISTORY_BEGIN}\n{HISTORY_HEADER}\n{history_row(results)}\n{HISTORY_END}\n"
        )
    existing = updated[start + len(HISTORY_BEGIN) : stop].strip("\n")
    body = existing if existing else HISTORY_HEADER
    return _replace_between(updated, HISTORY_BEGIN, HISTORY_END, body + "\n" + history_row(results))
