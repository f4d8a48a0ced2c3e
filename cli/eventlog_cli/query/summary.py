"""One run at a glance, as data: status, duration, steps, phases, metrics, checkpoints, warnings."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import polars as pl

from eventlog._values import as_number
from eventlog_cli.errors import DataError
from eventlog_cli.query.metrics import better_high, nonfinite_metrics
from eventlog_cli.query.phases import TRAINING_STEP, PhaseRow, phase_counts, phase_rows
from eventlog_cli.read import Loaded, Record

__all__ = ["summarize"]

LIGHT = ["run_start", "run_end", "phase_start", "phase_end", "checkpoint", "log"]
_MAIN_STEP = ("loss", "reward_mean", "kl", "entropy", "grad_norm")


def summarize(loaded: Loaded) -> list[dict[str, Any]]:
    """One summary per run in the files, in first-seen order.

    Raises:
        DataError: there are no events at all.
    """
    records = loaded.records(LIGHT)
    steps, evals = loaded.frame("step_metrics"), loaded.frame("eval_summary")
    runs = list(dict.fromkeys([r.event.get("run") for r in records] + (steps["run"].to_list() if steps.height else [])))
    if not runs:
        raise DataError("no events in these files")
    return [
        run_summary(
            loaded,
            str(run),
            [r for r in records if r.event.get("run") == run],
            steps.filter(pl.col("run") == run) if steps.height else steps,
            evals.filter(pl.col("run") == run) if evals.height else evals,
        )
        for run in runs
    ]


def run_summary(
    loaded: Loaded, run: str, records: list[Record], steps: pl.DataFrame, evals: pl.DataFrame
) -> dict[str, Any]:
    """Everything ``summary`` shows for one run, as data."""
    events = [r.event for r in records]
    start = next((e for e in events if e.get("event") == "run_start"), {})
    end = next((e for e in reversed(events) if e.get("event") == "run_end"), None)
    ts = [e["ts"] for e in events if isinstance(e.get("ts"), (int, float))]
    for f in (steps, evals):
        if f.height:
            ts += [x for x in f["ts"].to_list() if x is not None]
    duration = as_number(end.get("duration")) if end else None
    if duration is None and ts:
        duration = max(ts) - min(ts)
    rows = phase_rows(records)
    total_steps = start.get("total_steps")
    if total_steps is None and steps.height and "total_steps" in steps.columns:
        total_steps = steps["total_steps"].drop_nulls().max()
    return {
        "run": run,
        "status": end.get("status") if end else "interrupted",
        "status_inferred": end is None,
        "mode": end.get("mode") if end else None,
        "error": end.get("error") if end else None,
        "duration": duration,
        "steps_done": steps["step"].max() if steps.height else None,
        "total_steps": total_steps,
        "phases": [
            {"phase": n, "runs": c, "total": t, "share": t / duration if duration else None}
            for n, c, t, _ in phase_counts([r for r in rows if r.name != TRAINING_STEP or r.depth <= 1])
        ],
        "metrics": _metric_stats(evals, "eval", None) + _metric_stats(steps, "step", _MAIN_STEP),
        "checkpoints": [
            {"step": e.get("step"), "path": e.get("path"), "size_bytes": e.get("size_bytes")}
            for e in events
            if e.get("event") == "checkpoint"
        ],
        "warnings": _warnings(loaded, events, rows, steps, evals, end),
    }


def _metric_stats(frame: pl.DataFrame, source: str, only: tuple[str, ...] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if frame.height == 0:
        return out
    frame = frame.sort("step")
    for col in frame.columns:
        if not col.startswith("metrics."):
            continue
        name = col[8:]
        if only is not None and name not in only:
            continue
        part = frame.select("step", col).drop_nulls()
        if part.height == 0:
            continue
        vals = part[col].to_list()
        finite = [(v, s) for v, s in zip(vals, part["step"].to_list(), strict=True) if math.isfinite(v)]
        best = (max if better_high(name) else min)(finite, key=lambda x: x[0]) if finite else (None, None)
        out.append(
            {
                "metric": f"{source}.{name}",
                "last": vals[-1],
                "last_step": part["step"][-1],
                "best": best[0],
                "best_step": best[1],
            }
        )
    return out


def _warnings(
    loaded: Loaded,
    events: list[dict[str, Any]],
    rows: list[PhaseRow],
    steps: pl.DataFrame,
    evals: pl.DataFrame,
    end: dict[str, Any] | None,
) -> list[str]:
    out = []
    for frame, what in ((steps, "step"), (evals, "eval")):
        for col, where in nonfinite_metrics(frame) if frame.height else []:
            shown = ", ".join(str(s) for s in where[:8]) + (" ..." if len(where) > 8 else "")
            out.append(f"{what} {col} is NaN/Inf at step(s) {shown}")
    if end and end.get("events_dropped"):
        out.append(f"{end['events_dropped']} event(s) dropped by the writer")
    out += loaded.seq_problems()
    skipped = list(loaded.skipped)
    if skipped:
        out.append(f"{len(skipped)} line(s) skipped while reading: " + ", ".join(f"line {s.line}" for s in skipped[:5]))
    bad = [r for r in rows if r.status != "ok"]
    for r in bad[:10]:
        out.append(f"phase {r.name}{f' (step {r.step})' if r.step is not None else ''} {r.status}")
    levels = Counter(e.get("level") for e in events if e.get("event") == "log")
    if levels.get("warning") or levels.get("error") or levels.get("critical"):
        out.append(
            f"log: {levels.get('warning', 0)} warning(s), "
            f"{levels.get('error', 0) + levels.get('critical', 0)} error(s) (eventlog grep to see them)"
        )
    return out
