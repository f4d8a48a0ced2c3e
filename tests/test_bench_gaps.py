"""RESULTS.md explains each target it marks NOT met with figures of the same run (bench/gaps.py).

Fed the figures of a bench run, the sections print a reason under a targets table for each target
missed, computed from the run (the ceiling of ``orjson_write``, the Python loop's time, the
import of polars), and none for a table whose targets are all met.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import run  # noqa: E402 (bench/ is a directory of scripts, put on the path above)


def _contender(name: str, rate: float, tight: float, paced: float, p99: float) -> dict[str, Any]:
    figures = {"events_per_s": rate, "tight_median_ns": tight, "paced_median_ns": paced}
    row = {"name": name, **figures, "tight_p99_ns": tight * 2, "paced_p99_ns": p99, "cpu_s": 1.0}
    return row | {"peak_rss_mb": 30, "bytes_per_event": 600, "valid": True, "rounds": [figures]}


def _emit(eventlog_rate: float) -> dict[str, Any]:
    contenders = [
        _contender("dict", 450_000, 2_000, 3_000, 9_000),
        _contender("orjson_write", 285_000, 3_100, 5_000, 15_000),
        _contender("logging", 43_000, 22_000, 28_000, 70_000),
        _contender("structlog", 95_000, 9_700, 14_000, 40_000),
        _contender("loguru", 22_000, 42_000, 54_000, 110_000),
        _contender("eventlog", eventlog_rate, 6_400, 9_200, 30_000),
    ]
    loop = {"ms_per_step": 10.0, "overhead_pct": 1.8, "overhead_pcts": [1.2, 2.7], "cpu_overhead_pct": 2.4}
    loop |= {"emit_us": 12.0, "work_slowdown_pct": 0.6, "dict_pct": 0.5, "steps": 300}
    loop |= {"page_faults": {"none": 2900, "dict": 2900, "eventlog": 75_400}}
    return {"contenders": contenders, "loop": loop, "loops": [loop]}


def test_emit_gaps_quote_the_runs_ceiling() -> None:
    lines = run.emit_section(_emit(115_000))
    text = "\n".join(lines)
    assert "Why not met, in this run's figures:" in text
    assert "reaches 3.0× structlog, 6.6× logging, 13.0× loguru in this run" in text  # 285k / 95k, 43k, 22k
    assert "takes 2,000 ns and encoding and writing it (`orjson_write`) 3,100 ns, 1.55× the dict" in text
    assert "its calls, 12.0 µs an event in the loop (against 6.4 µs back to back" in text
    assert "1.2% of 10.00 ms, and the work itself, 0.6% slower" in text  # 12 µs x 10 events of 10 ms
    assert "1% leaves 10.0 µs an event for both" in text
    assert "0.6% slower in the blocks that emit (242 more page faults a step" in text  # 72,500 / 300


def test_no_reason_when_the_end_to_end_targets_are_met() -> None:
    text = "\n".join(run.emit_section(_emit(900_000)))
    assert "End to end:" not in text


def _analysis(el: float, loop: float, jq: float, file: str = "run_1000000.jsonl", size: float = 610) -> list[dict]:
    rows = []
    for q in ("trend", "table"):
        for name, wall in (("cat (I/O floor)", 0.05), ("eventlog", el), ("python loop + orjson", loop), ("jq", jq)):
            rows.append(
                {"file": file, "size_mb": size, "question": q, "contender": name, "wall_s": wall, "cpu_s": wall}
                | {"peak_rss_mb": 100 if name == "eventlog" else 3, "walls": [wall], "correct": True}
            )
    return rows


def test_analysis_gaps_quote_the_python_loop_and_the_import() -> None:
    startup = [{"command": "python -c 'import polars' (reference)", "median_ms": 218.0, "walls_ms": [218.0]}]
    text = "\n".join(run.analysis_section(_analysis(1.24, 1.36, 8.9), startup))
    assert "table (--json): eventlog wall (issue 12) | <= 0.7 s | 1.24 s" in text
    assert "(`python loop + orjson`), takes 1.36 s on this file; eventlog's 1.24 s also checks" in text
    assert "`import polars` alone took 218 ms in this run's start-up benchmark" in text


def test_a_small_file_blames_start_up() -> None:
    startup = [{"command": "python -c 'import polars' (reference)", "median_ms": 218.0, "walls_ms": [218.0]}]
    text = "\n".join(run.analysis_section(_analysis(0.3, 0.1, 0.8, "run_100000.jsonl", 61), startup))
    assert "on this 61 MB file: eventlog's 0.30 s is mostly start-up" in text


def test_startup_gaps_name_the_reference_imports() -> None:
    rows = [
        {"command": "python -c pass (reference)", "median_ms": 16.0, "walls_ms": [16.0], "lines": 134},
        {"command": "python -c 'import typer' (reference)", "median_ms": 70.0, "walls_ms": [70.0], "lines": 134},
        {"command": "python -c 'import polars' (reference)", "median_ms": 218.0, "walls_ms": [218.0], "lines": 134},
        {"command": "eventlog table", "median_ms": 300.0, "walls_ms": [300.0], "lines": 134},
    ]
    text = "\n".join(run.startup_section(rows))
    assert "* table: each builds frames and imports polars, 218 ms alone in this run" in text
    assert "without polars" not in text  # a command that builds frames gets the polars reason alone
    fast = [r | {"median_ms": 100.0} if r["command"] == "eventlog table" else r for r in rows]
    assert "Why not met" not in "\n".join(run.startup_section(fast))


def test_a_slow_command_without_polars_gets_its_own_reason() -> None:
    rows = [
        {"command": "python -c 'import typer' (reference)", "median_ms": 70.0, "walls_ms": [70.0], "lines": 134},
        {"command": "python -c 'import polars' (reference)", "median_ms": 218.0, "walls_ms": [218.0], "lines": 134},
        {"command": "eventlog phases", "median_ms": 162.0, "walls_ms": [144.0, 162.0, 219.0], "lines": 134},
    ]
    text = "\n".join(run.startup_section(rows))
    assert "* phases: 162 ms (144–219) without polars, under 150 ms in 1 of 3 rounds; typer" in text
    assert "imports polars" not in text


def test_the_breakdown_section_shows_each_part_and_its_share() -> None:
    rounds = [
        {"imports": 0.27, "scan": 0.55, "frame": 0.30, "json rows": 0.09, "rest of the command": 0.03, "total": 1.24},
        {"imports": 0.29, "scan": 0.60, "frame": 0.28, "json rows": 0.10, "rest of the command": 0.03, "total": 1.30},
    ]
    data = {"file": "run_1000000.jsonl", "size_mb": 610.0, "command": "eventlog table --json", "rounds": rounds}
    data["median_s"] = {k: sum(r[k] for r in rounds) / 2 for k in rounds[0]}
    text = "\n".join(run.breakdown_section(data))
    assert "| scan | 0.57 | 0.55–0.60 | 45% |" in text
    assert "| total | 1.27 | 1.24–1.30 |  |" in text


def test_a_loop_without_extra_page_faults_names_caches_and_the_gil() -> None:
    data = _emit(115_000)
    data["loop"]["page_faults"] = {"none": 2900, "dict": 2900, "eventlog": 2950}
    text = "\n".join(run.emit_section(data))
    assert "0.6% slower in the blocks that emit (its caches, and the GIL the writer thread takes)" in text
