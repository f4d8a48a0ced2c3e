"""Emit-side benchmark: eventlog.emit() against what training code would otherwise use.

Each contender runs in its own subprocess (so peak RSS is its own), logging a
realistic ``step_metrics`` event (step, epoch, 20 float metrics) N times:

Every timed call includes building its payload (as a call site does inline:
``emit("step_metrics", step=s, metrics={...})``), so the "bare dict build"
floor is that build plus the envelope dict, with no I/O.

* tight: back to back; per-call cost timed on the calling thread, then the
  end-to-end rate including the final flush/close; the output file is checked
  for N valid JSON lines;
* paced: ~1 ms of busy work between calls, as in a training loop (fewer calls);
* training loop: numpy work per step and 10 events per step, in blocks of steps
  side by side in one process with and without eventlog (see
  :func:`training_loop_overhead`).

    python bench/emit.py --n 200000 --repeats 3 --json bench/out/emit.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
KEYS = [f"m{i:02d}" for i in range(20)]
CONTENDERS = ["dict", "orjson_write", "logging", "logging_queue", "structlog", "loguru", "loguru_enqueue", "eventlog"]


_BASE = [0.1 + j / 7 for j in range(20)]


def payload(i: int) -> dict[str, Any]:
    """A realistic step_metrics payload: step, epoch and 20 float metrics, built fresh."""
    x = i * 1e-6
    return {"step": i, "epoch": 1, "metrics": {k: b + x for k, b in zip(KEYS, _BASE, strict=True)}}


# --- contenders: setup(path) -> (log(payload), close()) -----------------------------------


def _dict(path: str) -> tuple[Callable[[dict[str, Any]], None], Callable[[], None]]:
    sink: list[Any] = []

    def log(p: dict[str, Any]) -> None:
        d = {"v": 1, "ts": time.time(), "event": "step_metrics", "run": "b", "rank": 0, "seq": 0}
        d.update(p)
        sink.append(d) if len(sink) < 1 else None

    def close() -> None:
        Path(path).write_bytes(b"")

    return log, close


def _orjson_write(path: str) -> tuple[Callable[[dict[str, Any]], None], Callable[[], None]]:
    f = open(path, "wb", buffering=1 << 20)  # noqa: SIM115
    dumps = orjson.dumps

    def log(p: dict[str, Any]) -> None:
        d = {"v": 1, "ts": time.time(), "event": "step_metrics", "run": "b", "rank": 0, "seq": 0}
        d.update(p)
        f.write(dumps(d) + b"\n")

    return log, f.close


class _JsonFormatter:
    def format(self, record: Any) -> str:
        return json.dumps({"ts": record.created, "level": record.levelname, "event": record.msg, **record.payload})


def _logging(path: str, queue: bool = False) -> tuple[Callable[[dict[str, Any]], None], Callable[[], None]]:
    import logging
    import logging.handlers
    import queue as q

    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(_JsonFormatter())  # type: ignore[arg-type]
    logger = logging.getLogger("bench")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    if queue:
        qu: q.SimpleQueue[Any] = q.SimpleQueue()
        qh = logging.handlers.QueueHandler(qu)
        logger.addHandler(qh)
        listener = logging.handlers.QueueListener(qu, handler)
        listener.start()

        def close_q() -> None:
            listener.stop()
            handler.close()

        return (lambda p: logger.info("step_metrics", extra={"payload": p})), close_q
    logger.addHandler(handler)
    return (lambda p: logger.info("step_metrics", extra={"payload": p})), handler.close


def _structlog(path: str) -> tuple[Callable[[dict[str, Any]], None], Callable[[], None]]:
    import logging

    import structlog

    f = open(path, "wb")  # noqa: SIM115
    structlog.configure(  # the configuration structlog's performance docs recommend
        cache_logger_on_first_use=True,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        logger_factory=structlog.BytesLoggerFactory(file=f),
    )
    log = structlog.get_logger()
    return (lambda p: log.info("step_metrics", **p)), f.close


def _loguru(path: str, enqueue: bool = False) -> tuple[Callable[[dict[str, Any]], None], Callable[[], None]]:
    from loguru import logger

    logger.remove()
    logger.add(path, serialize=True, enqueue=enqueue)
    return (lambda p: logger.info("step_metrics", **p)), logger.remove


def _eventlog(path: str) -> tuple[Callable[[dict[str, Any]], None], Callable[[], None]]:
    sys.path.insert(0, str(ROOT))
    import eventlog

    d = Path(path).parent / "eventlog_run"
    eventlog.init(d, run="b", console="off", signals=False)
    emit = eventlog.emit

    def close() -> None:
        eventlog.finish()
        os.replace(d / "events.jsonl", path)

    return (lambda p: emit("step_metrics", **p)), close


SETUPS: dict[str, Callable[[str], tuple[Callable[[dict[str, Any]], None], Callable[[], None]]]] = {
    "dict": _dict,
    "orjson_write": _orjson_write,
    "logging": _logging,
    "logging_queue": lambda p: _logging(p, queue=True),
    "structlog": _structlog,
    "loguru": _loguru,
    "loguru_enqueue": lambda p: _loguru(p, enqueue=True),
    "eventlog": _eventlog,
}


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def run_one(name: str, n: int, paced: int, out: str) -> dict[str, Any]:
    """In the child: time one contender; return its figures."""
    log, close = SETUPS[name](out)
    costs = [0] * n
    clock = time.perf_counter_ns
    t0 = time.perf_counter()
    for i in range(n):
        a = clock()
        log(payload(i))  # the call site builds the event inline, as training code does
        costs[i] = clock() - a
    close()
    total = time.perf_counter() - t0
    paced_costs = []
    if paced:
        log, close = SETUPS[name](out + ".paced")
        for i in range(paced):
            _busy(0.001)
            a = clock()
            log(payload(i))
            paced_costs.append(clock() - a)
        close()
    size = os.path.getsize(out)
    costs.sort()
    paced_costs.sort()
    return {
        "name": name,
        "n": n,
        "tight_median_ns": costs[n // 2],
        "tight_p99_ns": costs[int(n * 0.99)],
        "paced_median_ns": paced_costs[len(paced_costs) // 2] if paced_costs else None,
        "paced_p99_ns": paced_costs[int(len(paced_costs) * 0.99)] if paced_costs else None,
        "events_per_s": n / total,
        "cpu_s": _cpu_s(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "bytes_per_event": size / n if size else 0,
        "valid_lines": _count_valid(out) if name != "dict" else n,
    }


def _cpu_s() -> float:
    """User + system CPU seconds of this process so far (every thread: the writer's included)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _count_valid(path: str) -> int:
    ok = 0
    with open(path, "rb") as f:
        for line in f:
            try:
                if isinstance(orjson.loads(line), dict):
                    ok += 1
            except orjson.JSONDecodeError:
                pass
    return ok


def measure_once(name: str, n: int, paced: int) -> dict[str, Any]:
    """One fresh process for one contender: its figures, or ``{"error": ...}``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out.jsonl")
        proc = subprocess.run(
            [sys.executable, __file__, "--one", name, "--n", str(n), "--paced", str(paced), "--out", out],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
        result: dict[str, Any] = json.loads(proc.stdout)
        return result


def measure(names: list[str], n: int, paced: int, repeats: int) -> list[dict[str, Any]]:
    """Every contender ``repeats`` times in rounds (each once per round, the order rotated by one per
    round); per contender the medians of each figure and, under ``rounds``, every round's figures."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            runs[name].append(measure_once(name, n, paced))
    results = []
    for name in names:
        errors = [x["error"] for x in runs[name] if "error" in x]
        if errors:
            results.append({"name": name, "error": errors[0]})
            continue
        result: dict[str, Any] = {"name": name, "n": n, "repeats": repeats, "rounds": runs[name]}
        for key in runs[name][0]:
            if key in ("name", "n"):
                continue
            vals = [x[key] for x in runs[name] if x[key] is not None]
            result[key] = statistics.median(vals) if vals else None
        result["valid"] = all(x["valid_lines"] >= n for x in runs[name])
        results.append(result)
    return results


_LOOP = r"""
import json, resource, sys, tempfile, time
import numpy as np
sys.path.insert(0, sys.argv[1])
import eventlog
steps, block, ms = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
a = np.random.default_rng(0).random((160, 160))
reps = 1
def work():
    x = a
    for _ in range(reps):
        x = x @ a / 160.0
    return float(x[0, 0])
for _ in range(2):  # ~ms of work per step: calibrate, then once more at the first guess
    n = max(20, round(2000 / ms / reps))
    t0 = time.perf_counter()
    for _ in range(n):
        work()
    reps = max(1, round(reps * ms / 1000 / ((time.perf_counter() - t0) / n)))
eventlog.init(tempfile.mkdtemp(), run="t", console="off", signals=False)
emit, modes = eventlog.emit, ("none", "dict", "eventlog")
wall = {m: [] for m in modes}
cpu = {m: [] for m in modes}
worked = {m: [] for m in modes}  # the work() calls alone
faults = {m: 0 for m in modes}  # minor page faults: pages the process took fresh from the kernel
s = 0
clock = time.perf_counter
for r in range(max(1, steps // block)):
    for mode in modes[r % 3:] + modes[:r % 3]:  # rotated, so no mode always follows another
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0, c0 = clock(), time.process_time()
        w = 0.0
        for _ in range(block):
            t1 = clock()
            v = work()
            w += clock() - t1
            s += 1
            if mode == "dict":  # the payloads any logger is handed, built and dropped
                for k in range(10):
                    kept = {"step": s, "metrics": {"loss": v, "k": k, **{f"m{i}": v for i in range(18)}}}
            elif mode == "eventlog":
                for k in range(10):
                    emit("step_metrics", step=s, metrics={"loss": v, "k": k, **{f"m{i}": v for i in range(18)}})
        if mode == "eventlog":
            eventlog.flush()  # the writer thread's work on this block's events is charged to this block
        wall[mode].append(clock() - t0)
        cpu[mode].append(time.process_time() - c0)  # every thread of the process, the writer's too
        worked[mode].append(w)
        faults[mode] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
eventlog.finish()
print(json.dumps({"wall": wall, "cpu": cpu, "work": worked, "faults": faults, "block": block}))
"""


def training_loop_overhead(steps: int, repeats: int, ms: float = 10.0) -> dict[str, Any]:
    """A loop of ~``ms`` ms numpy work per step and 10 events per step, with and without eventlog.

    One process runs blocks of steps in three modes, rotated: the work alone (``none``), the work and
    the ten payloads built and dropped (``dict``), the work and the ten events emitted (``eventlog``, a
    flush ending each of its blocks). Separate processes of the same loop differed by up to 18% on this
    shared machine with no logging at all; blocks side by side in one process see the same machine.
    eventlog's own overhead is the eventlog blocks against the dict blocks (any logger is handed the
    payloads), over the work alone; ``total_pct`` counts building the payloads too.
    """
    block = min(max(1, steps // 6), max(5, round(250 / ms)))  # ~0.25 s blocks, at least 6 rounds
    cmd = [sys.executable, "-c", _LOOP, str(ROOT), str(steps), str(block), str(ms)]
    one_thread = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env = {**os.environ, **one_thread}  # BLAS threads on a shared 2-core box made the work itself vary 10x
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout)
    wall, cpu = out["wall"], out["cpu"]
    rounds = len(wall["none"])
    groups = [range(g * rounds // repeats, (g + 1) * rounds // repeats) for g in range(min(repeats, rounds))]

    def pct(d: dict[str, list[float]], a: str, b: str, idx: Any = None) -> float:
        idx = range(rounds) if idx is None else idx
        base = sum(d["none"][i] for i in idx)
        return 100 * (sum(d[a][i] for i in idx) - sum(d[b][i] for i in idx)) / base

    el_wall = sum(wall["eventlog"])
    dict_build = sum(wall["dict"]) - sum(out["work"]["dict"])  # the payloads, built in the eventlog blocks too
    return {
        "steps": rounds * out["block"],
        "block": out["block"],
        "ms_per_step": 1000 * sum(wall["none"]) / (rounds * out["block"]),
        "none_s": sum(wall["none"]),
        "dict_s": sum(wall["dict"]),
        "eventlog_s": sum(wall["eventlog"]),
        "overhead_pct": pct(wall, "eventlog", "dict"),
        "overhead_pcts": [pct(wall, "eventlog", "dict", g) for g in groups],
        "dict_pct": pct(wall, "dict", "none"),
        "total_pct": pct(wall, "eventlog", "none"),
        "cpu_overhead_pct": pct(cpu, "eventlog", "dict"),
        "cpu_dict_pct": pct(cpu, "dict", "none"),
        # where eventlog's own time goes: the work itself slowed (caches and the GIL shared with the writer
        # thread), and the calls (with the block's flush), per event
        "work_slowdown_pct": pct(out["work"], "eventlog", "dict"),
        "emit_us": 1e6 * (el_wall - sum(out["work"]["eventlog"]) - dict_build) / (10 * rounds * out["block"]),
        "page_faults": out["faults"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--paced", type=int, default=2_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--loop-steps", type=int, default=2_000, help="steps of the training-loop runs (0: no loop runs)")
    ap.add_argument("--loop-ms", type=float, nargs="*", default=[10.0, 1.0], help="work per step of each loop run")
    ap.add_argument("--only", nargs="*", default=CONTENDERS)
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.one:
        print(json.dumps(run_one(ns.one, ns.n, ns.paced, ns.out)))
        return
    results = measure(list(ns.only), ns.n, ns.paced, ns.repeats)
    report: dict[str, Any] = {"contenders": results}
    if ns.loop_steps:  # "loop" is the first --loop-ms (issue 12's target: 10 ms), "loops" every one
        loops = [training_loop_overhead(ns.loop_steps, ns.repeats, ms) for ms in ns.loop_ms]
        report["loop"], report["loops"] = loops[0], loops
    text = json.dumps(report, indent=2)
    if ns.json:
        ns.json.parent.mkdir(parents=True, exist_ok=True)
        ns.json.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
