"""The benchmark of issue 5, run by `scripts/bench.sh` (which installs wrk,
builds spin and the hyper reference, and creates the virtualenvs first).

One run builds a hello world with our SDK (`spin py2wasm`), with the
official spin-sdk 3.3.0 and with spin-sdk 5.0.0 (a `wasi:http@0.3`
component, issue 9), times launch → first 200 with an empty and a warm
compile cache, loads every case with wrk (Spin under several settings, plus
uvicorn and hyper as references), prints a Markdown report with every figure
also as a ratio to the references, and writes it into docs/performance.md.

Phases (`--phases`): build, launch, load. A phase left out keeps the figures
of the previous run (target/bench/results.json), so `--phases load` re-runs
the load part alone when the machine was busy.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import measure
import perf_breakdown
import report
from measure import BenchError, Load, Server

REPO = Path(__file__).resolve().parent.parent
APPS = REPO / "benches" / "apps"
SPIN_APPS = ("spin-sdk", "spin-py2wasm", "spin-sdk5")
# The sources of each, under benches/apps/.
APP_TEMPLATES = {"spin-sdk": "sdk-hello", "spin-py2wasm": "py2wasm-hello", "spin-sdk5": "sdk5-hello"}
BODY = "Hello from the Python SDK"
# Starting an app never compiled before compiles ~30 MB of Wasm; a debug
# build of the host on a busy machine can take minutes.
COLD_START_TIMEOUT = 900.0
START_TIMEOUT = 120.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench.sh", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--smoke",
        action="store_true",
        help="~2 s per case, default settings only (plus spin-sdk 5 with a fresh instance per request); "
        "docs untouched",
    )
    p.add_argument("--spin", type=Path, required=True, help="the spin binary to measure")
    p.add_argument("--venv", type=Path, required=True, help="virtualenv with componentize-py 0.16.0 and spin-sdk 3.3.0")
    p.add_argument(
        "--venv-sdk5", type=Path, required=True, help="virtualenv with componentize-py 0.25.1 and spin-sdk 5.0.0"
    )
    p.add_argument("--uvicorn-python", type=Path, required=True, help="python of the virtualenv holding uvicorn")
    p.add_argument("--hyper", type=Path, required=True, help="the hyper-hello reference binary")
    p.add_argument("--work", type=Path, default=REPO / "target" / "bench", help="scratch directory")
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "performance.md")
    p.add_argument("--no-docs", action="store_true", help="print the report only")
    p.add_argument("--phases", default="build,launch,load", help="comma-separated subset of build,launch,load")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--connections", type=int, default=16, help="wrk connections")
    p.add_argument("--duration", type=int, help="whole seconds of load per case (default 10, smoke 2)")
    p.add_argument(
        "--max-wait",
        type=float,
        help="seconds to wait, before each load case, for other processes to go below 0.3 busy cores "
        "(default 60, smoke 0)",
    )
    p.add_argument(
        "--perf",
        action="store_true",
        help="also profile each default Spin case with perf during one more load run, and break its CPU time down",
    )
    p.add_argument("--command", default="scripts/bench.sh", help="the command line to record")
    args = p.parse_args(argv)
    args.phases = {ph.strip() for ph in args.phases.split(",") if ph.strip()}
    unknown = args.phases - {"build", "launch", "load"}
    if unknown:
        p.error(f"unknown phase(s) {sorted(unknown)}; use build, launch, load")
    return args


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work = args.work.resolve()
        self.spin = args.spin.resolve()
        smoke = args.smoke
        seconds = max(args.duration or (2 if smoke else 10), 1)
        self.load = Load(args.threads, args.connections, seconds)
        self.warmup = Load(args.threads, args.connections, 1 if smoke else 2)
        self.single = Load(1, 1, 1 if smoke else 3)
        self.max_wait = args.max_wait if args.max_wait is not None else (0.0 if smoke else 60.0)
        self.notes: list[str] = []
        self.profiles: dict[str, str] = {}
        self.perf = args.perf and perf_breakdown.available()
        if args.perf and not self.perf:
            self.notes.append("`--perf` asked for, but `perf record -e cpu-clock` does not work here.")

    # ----- apps -------------------------------------------------------------

    def app_dir(self, key: str, again: bool = False) -> Path:
        return self.work / "apps" / (f"{key}-again" if again else key)

    def copy_app(self, key: str, again: bool) -> Path:
        """A fresh copy of the app's sources; the `again` copy answers with
        another body, so it is a different component that shares all of
        CPython with the first."""
        dest = self.app_dir(key, again)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(APPS / APP_TEMPLATES[key], dest)
        if again:
            app = dest / "app.py"
            app.write_text(app.read_text().replace(BODY, f"{BODY}, again"))
        return dest

    def spin_env(self) -> dict[str, str]:
        # `spin build` runs `spin py2wasm …`: the spin under test comes first.
        return {**os.environ, "PATH": f"{self.spin.parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def run_checked(self, argv: list[str], cwd: Path, env: dict | None = None) -> float:
        """Runs a build step; returns its wall time in seconds."""
        started = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise BenchError(f"`{shlex.join(map(str, argv))}` failed in {cwd}:\n{proc.stderr or proc.stdout}")
        return elapsed

    def build_sdk(self, dest: Path) -> float:
        site = next((self.args.venv / "lib").glob("python3*/site-packages"))
        return self.run_checked(
            [str(self.args.venv / "bin" / "componentize-py"), "-w", "spin-http", "componentize", "app",
             "-p", ".", "-p", str(site), "-o", "app.wasm"],
            dest,
        )

    def build_sdk5(self, dest: Path) -> float:
        # As the SDK's examples build: with the virtualenv active, so
        # componentize-py finds spin_sdk in it.
        venv = self.args.venv_sdk5.resolve()
        site = next((venv / "lib").glob("python3*/site-packages"))
        env = {
            **os.environ,
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "VIRTUAL_ENV": str(venv),
        }
        return self.run_checked(
            [str(venv / "bin" / "componentize-py"), "-w", "spin:up/http-trigger@4.1.0", "componentize", "app",
             "-p", ".", "-p", str(site), "-o", "app.wasm"],
            dest,
            env,
        )

    def build_py2wasm(self, dest: Path) -> float:
        return self.run_checked([str(self.spin), "build", "-f", str(dest)], dest, self.spin_env())

    def build_phase(self) -> dict:
        builds = {}
        steps = {"spin-sdk": self.build_sdk, "spin-py2wasm": self.build_py2wasm, "spin-sdk5": self.build_sdk5}
        for key in SPIN_APPS:
            step = steps[key]
            try:
                dest = self.copy_app(key, again=False)
                print(f"building {key} …", file=sys.stderr, flush=True)
                entry = {"seconds": step(dest), "mb": (dest / "app.wasm").stat().st_size / (1 << 20)}
                if key == "spin-py2wasm":
                    entry["noop_seconds"] = step(dest)
                if not self.args.smoke:
                    step(self.copy_app(key, again=True))
                builds[key] = entry
            except (BenchError, OSError, subprocess.TimeoutExpired, StopIteration) as err:
                builds[key] = {"error": f"build failed: {err}"}
                print(f"  {key}: {err}", file=sys.stderr)
        return builds

    # ----- servers ----------------------------------------------------------

    def spin_server(self, key: str, setting: str = "default", again: bool = False) -> Server:
        _, extra_args, extra_env = report.SETTINGS[setting]
        return Server(
            [str(self.spin), "up", "-f", str(self.app_dir(key, again)), "--listen", "127.0.0.1:{port}", "-q",
             *extra_args],
            {"XDG_CACHE_HOME": str(self.work / "cache" / key), "RUST_BACKTRACE": "0", **extra_env},
        )

    def reference_server(self, key: str) -> Server:
        if key == report.HYPER:
            return Server([str(self.args.hyper), "127.0.0.1:{port}"])
        # Both uvicorn references run from one virtualenv; the flags pick
        # what a plain `pip install uvicorn` runs, or uvloop + httptools.
        if key == report.UVICORN:
            stack = ["--http", "h11", "--loop", "asyncio"]
        else:
            stack = ["--http", "httptools", "--loop", "uvloop"]
        return Server(
            [str(self.args.uvicorn_python), "-m", "uvicorn", "asgi_hello:app", "--host", "127.0.0.1",
             "--port", "{port}", *stack, "--no-access-log", "--log-level", "warning", "--lifespan", "off"],
            cwd=APPS / "uvicorn-hello",
        )

    def log(self, name: str) -> Path:
        return self.work / "logs" / f"{name.replace('/', '-')}.log"

    def launch_phase(self, builds: dict) -> dict:
        launches = {}
        warm_runs = 1 if self.args.smoke else 3
        for key in report.REFERENCES:
            server = self.reference_server(key)
            try:
                cold = measure.measure_launch(server, self.log(key), START_TIMEOUT)
                warm = measure.median_launch(server, self.log(key), warm_runs, START_TIMEOUT)
                launches[key] = {"cold_ms": cold, "warm_ms": warm}
            except BenchError as err:
                launches[key] = {"error": str(err)}
        for key in SPIN_APPS:
            if "error" in builds.get(key, {}) or not (self.app_dir(key) / "app.wasm").exists():
                launches[key] = {"error": builds.get(key, {}).get("error", "not built")}
                continue
            shutil.rmtree(self.work / "cache" / key, ignore_errors=True)
            print(f"starting {key} with an empty cache (compiles it) …", file=sys.stderr, flush=True)
            try:
                entry = {
                    "cold_ms": measure.measure_launch(self.spin_server(key), self.log(key), COLD_START_TIMEOUT),
                    "warm_ms": measure.median_launch(self.spin_server(key), self.log(key), warm_runs, START_TIMEOUT),
                }
                if (self.app_dir(key, again=True) / "app.wasm").exists() and not self.args.smoke:
                    entry["sibling_ms"] = measure.measure_launch(
                        self.spin_server(key, again=True), self.log(f"{key}-again"), COLD_START_TIMEOUT
                    )
                launches[key] = entry
            except BenchError as err:
                launches[key] = {"error": str(err)}
        return launches

    def load_cases(self, builds: dict) -> list[tuple[str, Server | None, str | None]]:
        cases = [(key, self.reference_server(key), None) for key in report.REFERENCES]
        for key in SPIN_APPS:
            built = (self.app_dir(key) / "app.wasm").exists()
            error = None if built else builds.get(key, {}).get("error", "not built")
            for setting in report.app_settings(key, self.args.smoke):
                cases.append((f"{key}/{setting}", self.spin_server(key, setting) if built else None, error))
        return cases

    def load_phase(self, builds: dict) -> dict:
        results = {}
        for key, server, error in self.load_cases(builds):
            if server is None:
                results[key] = {"error": error}
                continue
            background = measure.wait_for_quiet(0.3, self.max_wait)
            load_avg = measure.load_average()
            print(
                f"loading {key} (load avg {load_avg:.2f}, other processes busy {background:.2f} cores) …",
                file=sys.stderr,
                flush=True,
            )
            try:
                with measure.Running(server, self.log(key)) as running:
                    running.wait_first_ok(COLD_START_TIMEOUT)
                    entry = measure.measure_load(running, self.load, self.warmup, self.single)
                    if self.perf and key.startswith("spin-") and key.endswith("/default"):
                        self.profile(key, running, entry["cpu_ms_per_req"])
                entry.update(load_avg=load_avg, background_cores=background)
                if entry["errors"]:
                    self.notes.append(f"{report.case_label(key)}: {entry['errors']} failed requests under load.")
                results[key] = entry
            except BenchError as err:
                results[key] = {"error": str(err)}
        return results

    def profile(self, key: str, running: measure.Running, cpu_ms_per_req: float) -> None:
        """Records one more load run under perf (the measured figures stay
        free of its overhead) and keeps the breakdown table."""
        print(f"profiling {key} …", file=sys.stderr, flush=True)
        data = self.work / "perf" / f"{key.replace('/', '-')}.data"
        perf_breakdown.record(running.proc.pid, data, lambda: measure.run_wrk(self.load, running.port))
        self.profiles[key] = perf_breakdown.table(perf_breakdown.breakdown(data), cpu_ms_per_req)

    # ----- the run ----------------------------------------------------------

    def meta(self, load_avg_before: float) -> dict:
        mtime = datetime.datetime.fromtimestamp(self.spin.stat().st_mtime, datetime.UTC)
        parts = self.spin.parts
        profile = "release profile" if "release" in parts else "dev profile" if "debug" in parts else "unknown profile"
        return {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": self.args.command,
            "smoke": self.args.smoke,
            "machine": machine(),
            "commit": commit(),
            "spin": {"path": display_path(self.spin), "profile": profile, "built": mtime.strftime("%Y-%m-%d %H:%M UTC")},
            "load": {
                "threads": self.load.threads,
                "connections": self.load.connections,
                "seconds": self.load.seconds,
                "warmup": self.warmup.seconds,
                "single": self.single.seconds,
            },
            "load_avg_before": load_avg_before,
            "notes": self.notes,
        }

    def run(self) -> dict:
        saved = self.work / ("results-smoke.json" if self.args.smoke else "results.json")
        previous = json.loads(saved.read_text()) if saved.exists() else {}
        phases = self.args.phases
        builds = self.build_phase() if "build" in phases else previous.get("builds", {})
        launches = self.launch_phase(builds) if "launch" in phases else previous.get("launches", {})
        load_avg_before = measure.load_average()
        load = self.load_phase(builds) if "load" in phases else previous.get("load", {})
        for key, entry in {**builds, **launches, **load}.items():
            if "error" in entry and key.startswith("spin-py2wasm"):
                self.notes.append(f"our SDK: {report.one_line(entry['error'])}")
                break
        if phases != {"build", "launch", "load"}:
            self.notes.append(
                f"Only the {', '.join(sorted(phases))} phase(s) ran now; the other figures are from the previous run."
            )
        profiles = self.profiles if "load" in phases else previous.get("profiles", {})
        results = {
            "meta": self.meta(load_avg_before),
            "builds": builds,
            "launches": launches,
            "load": load,
            "profiles": profiles,
        }
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(results, indent=2))
        return results


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), "unknown CPU")
    meminfo = Path("/proc/meminfo").read_text().split()
    mem_kb = int(meminfo[meminfo.index("MemTotal:") + 1])
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gb": round(mem_kb / (1 << 20)), "kernel": os.uname().release}


def commit() -> str:
    """The checked-out commit, read from .git without running git."""
    git = REPO / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:10]
        ref = head[5:]
        if (git / ref).exists():
            return (git / ref).read_text().strip()[:10]
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(f" {ref}"):
                return line.split()[0][:10]
    except OSError:
        pass
    return "unknown"


def display_path(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    bench = Bench(args)
    results = bench.run()
    text = report.render(results)
    print(text)
    if not args.no_docs and not args.smoke:
        docs = args.docs
        current = docs.read_text() if docs.exists() else "# Performance\n"
        docs.parent.mkdir(parents=True, exist_ok=True)
        docs.write_text(report.update_docs(current, results, append_history="load" in args.phases))
        print(f"updated {display_path(docs)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
