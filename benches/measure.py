"""Running servers and measuring them: launch to first 200, load with wrk,
and what the kernel says about the server process meanwhile (CPU time, page
faults, resident memory).

Every wait here is bounded by a deadline, and every request goes to
127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import report

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class BenchError(Exception):
    """A case that could not be measured; the message says why."""


@dataclass
class Server:
    """How to start one server: argv and extra environment. `{port}` in argv
    is replaced by the port chosen for the run."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_status(port: int, timeout: float = 2.0) -> int | None:
    """The status of `GET /` on 127.0.0.1:port, or None if nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"Connection": "close"})
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


class Running:
    """A started server process; stop it with `stop()` (or use `with`)."""

    def __init__(self, server: Server, log: Path):
        self.port = free_port()
        argv = [a.replace("{port}", str(self.port)) for a in server.argv]
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        self._log_file = open(log, "wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            env={**os.environ, **server.env},
            cwd=server.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def wait_first_ok(self, timeout: float) -> float:
        """Polls `GET /` every 2 ms until it answers 200; returns the seconds
        from process start to that answer."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"`{self.proc.args[0]}` exited with {self.proc.returncode} before serving; "
                    f"its output is in {self.log}:\n{tail(self.log)}"
                )
            status = get_status(self.port)
            if status == 200:
                return time.perf_counter() - self.started
            if status is not None:
                raise BenchError(f"`GET /` answered {status}, not 200; see {self.log}")
            time.sleep(0.002)
        raise BenchError(f"no 200 within {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._log_file.close()

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def measure_launch(server: Server, log: Path, timeout: float) -> float:
    """Milliseconds from starting `server` to its first 200."""
    with Running(server, log) as running:
        return running.wait_first_ok(timeout) * 1000


def median_launch(server: Server, log: Path, runs: int, timeout: float) -> float:
    return statistics.median(measure_launch(server, log, timeout) for _ in range(runs))


@dataclass
class ProcSample:
    """Counters of one process (all its threads) at one moment."""

    cpu_ticks: int
    minflt: int
    majflt: int

    @staticmethod
    def of(pid: int) -> ProcSample:
        fields = report.parse_proc_stat(Path(f"/proc/{pid}/stat").read_text())
        return ProcSample(
            cpu_ticks=fields["utime"] + fields["stime"],
            minflt=fields["minflt"],
            majflt=fields["majflt"],
        )


def rss_bytes(pid: int) -> int:
    """Resident set size now (`/proc/<pid>/statm`, second field)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE


def machine_busy_ticks() -> int:
    """CPU ticks spent busy by the whole machine since boot (`/proc/stat`)."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, first[1:9])
    return user + nice + system + irq + softirq + steal


def background_busy(seconds: float) -> float:
    """Cores the machine keeps busy over `seconds`, with nothing of ours
    under load: the share of the CPU other work is taking."""
    before = machine_busy_ticks()
    time.sleep(seconds)
    return (machine_busy_ticks() - before) / CLOCK_TICKS / seconds


def wait_for_quiet(limit: float, max_wait: float) -> float:
    """Waits (at most `max_wait` seconds) until other work keeps fewer than
    `limit` cores busy; returns the last reading."""
    deadline = time.monotonic() + max_wait
    busy = background_busy(1.0)
    while busy > limit and time.monotonic() < deadline:
        time.sleep(2.0)
        busy = background_busy(1.0)
    return busy


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


@dataclass
class Load:
    """The settings of one wrk run."""

    threads: int
    connections: int
    # wrk takes whole seconds only.
    seconds: int

    def argv(self, port: int) -> list[str]:
        return [
            "wrk",
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{self.seconds}s",
            "--latency",
            f"http://127.0.0.1:{port}/",
        ]


def run_wrk(load: Load, port: int) -> str:
    """Runs wrk to completion; returns its output."""
    try:
        proc = subprocess.run(
            load.argv(port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=load.seconds + 60,
        )
    except subprocess.TimeoutExpired as err:
        raise BenchError(f"wrk did not finish within {err.timeout:.0f} s") from err
    out = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        raise BenchError(wrk_failed(out))
    return out


def wrk_failed(output: str) -> str:
    return f"wrk failed: {output.strip() or 'no output'}"


def children_cpu() -> float:
    """CPU seconds used by all reaped child processes so far."""
    times = os.times()
    return times.children_user + times.children_system


def measure_load(running: Running, load: Load, warmup: Load, single: Load) -> dict:
    """Loads an already-serving server: a warm-up, then the measured run
    (sampling its RSS every 100 ms), then a one-connection run for the
    latency of a request alone."""
    run_wrk(warmup, running.port)
    pid = running.proc.pid
    before = ProcSample.of(pid)
    busy_before = machine_busy_ticks()
    wrk_cpu_before = children_cpu()
    started = time.monotonic()
    rss_max = rss_bytes(pid)
    proc = subprocess.Popen(load.argv(running.port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = started + load.seconds + 60
    while proc.poll() is None and time.monotonic() < deadline:
        rss_max = max(rss_max, rss_bytes(pid))
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
        proc.communicate()
        raise BenchError(f"wrk did not finish within {load.seconds + 60:.0f} s")
    out = proc.stdout.read().decode(errors="replace")
    elapsed = time.monotonic() - started
    wrk_cpu = children_cpu() - wrk_cpu_before
    after = ProcSample.of(pid)
    busy = (machine_busy_ticks() - busy_before) / CLOCK_TICKS
    if proc.returncode != 0:
        raise BenchError(wrk_failed(out))
    result = report.parse_wrk(out)
    requests = max(result["requests"], 1)
    server_cpu = (after.cpu_ticks - before.cpu_ticks) / CLOCK_TICKS
    single_out = run_wrk(single, running.port)
    return {
        "rps": result["rps"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "errors": result["errors"],
        "requests": result["requests"],
        "cpu_ms_per_req": server_cpu * 1000 / requests,
        "faults_per_req": (after.minflt - before.minflt) / requests,
        "major_faults": after.majflt - before.majflt,
        "rss_mb": rss_max / (1 << 20),
        "other_cores": max(busy - server_cpu - wrk_cpu, 0.0) / elapsed,
        "single_p50_ms": report.parse_wrk(single_out)["p50_ms"],
    }
