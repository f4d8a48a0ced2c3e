"""One run at a glance, as data: status, duration, steps, phases, metrics, checkpoints, warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventlog_cli.errors import DataError
from eventlog_cli.query.checks import run_warnings
from eventlog_cli.query.metrics import best_index, direction, of_split, only_split, series_splits, split_label
from eventlog_cli.query.phases import TRAINING_STEP, phase_counts, phase_rows, steps_done
from eventlog_cli.query.runs import (
    RunIds,
    default_rank,
    last_write,
    latest_per_step,
    only_rank,
    only_rank_records,
    run_duration,
    shared_steps,
)
from eventlog_cli.read import Loaded, Record, hashable

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

__all__ = ["LIGHT", "TYPES", "summarize"]

LIGHT = ["run_start", "run_end", "phase_start", "phase_end", "checkpoint", "log", "config_update"]
TYPES = [*LIGHT, "step_metrics", "eval_summary"]  # all summarize() reads (with load(..., seqs=True))


def summarize(
    loaded: Loaded, rank: int | None = None, declared: dict[str, bool] | None = None, split: str | None = None
) -> list[dict[str, Any]]:
    """One summary per run in the files (a run: a directory and a run name), in first-seen order.

    Timings, shares, metrics and checkpoints are those of ``rank`` (default: rank 0); the
    status and error look at every rank: the root cause is the first failing rank's error.
    ``declared`` maps metric names to a direction (True: higher is better). Evals of several
    splits give each split's metrics (``eval.accuracy [val]``); ``split`` keeps one split's.

    Raises:
        DataError: there are no events at all, none of ``rank``, or no eval of ``split``.
    """
    records = loaded.records(LIGHT, only={"log": ("level", "signal")}, fold=True)  # log lines: counted, never kept
    steps, evals = loaded.frame("step_metrics"), loaded.frame("eval_summary")
    ids = RunIds.of(loaded.files, records, steps, evals)
    steps, evals = ids.relabel(steps), ids.relabel(only_split(evals, split))
    if not ids.order:
        raise DataError("no events in these files")
    if rank is not None:  # the rank must exist somewhere (a typo gets the list)
        only_rank_records(records, rank) if records else only_rank(steps if steps.height else evals, rank)
    out = []
    for label in ids.order:
        recs = [r for r in records if ids.label(r.file, r.event.get("run")) == label]
        st = steps.filter(pl.col("run") == label) if steps.height else steps
        ev = evals.filter(pl.col("run") == label) if evals.height else evals
        ranks = [r.event.get("rank", 0) for r in recs] + (st["rank"].to_list() if st.height else [])
        shown = rank if rank is not None else default_rank(ranks)
        out.append(
            run_summary(
                loaded,
                ids,
                label,
                recs,
                st,
                ev,
                shown,
                sorted({r for r in ranks if isinstance(r, int)}),
                declared or {},
            )
        )
    return out


def run_summary(
    loaded: Loaded,
    ids: RunIds,
    label: str,
    all_records: list[Record],
    all_steps: pl.DataFrame,
    all_evals: pl.DataFrame,
    rank: int,
    ranks: list[int],
    declared: dict[str, bool],
) -> dict[str, Any]:
    """Everything ``summary`` shows for one run, as data (timings of ``rank``)."""
    records = [r for r in all_records if r.event.get("rank", 0) == rank]
    raw_steps = all_steps.filter(pl.col("rank") == rank) if all_steps.height else all_steps
    raw_evals = all_evals.filter(pl.col("rank") == rank) if all_evals.height else all_evals
    steps, evals = latest_per_step(raw_steps), latest_per_step(raw_evals)
    events = [r.event for r in records]
    start = next((e for e in events if e.get("event") == "run_start"), {})
    children = child_files(all_records)
    status, error, failed_rank, other_errors = _status(all_records, rank, children)
    duration, segments = run_duration([r.event for r in records if r.file not in children], raw_steps, raw_evals)
    rows = phase_rows(records)
    total_steps = start.get("total_steps")
    if total_steps is None and steps.height and "total_steps" in steps.columns:
        total_steps = steps["total_steps"].drop_nulls().max()
    end = next((e for e in reversed(events) if e.get("event") == "run_end"), None)
    warnings = run_warnings(loaded, events, rows, steps, evals, end)
    if segments > 1:
        warnings.insert(0, f"resumed: {segments} segments (a run_start after the first); durations added up")
    shared = shared_steps(raw_steps, loaded.files)
    if shared:
        warnings.insert(0, shared)
    warnings[:0] = [f"rank {r} also failed: {e}" for r, e in other_errors]
    signals = [e["signal"] for e in events if e.get("event") == "log" and isinstance(e.get("signal"), str)]
    warnings[:0] = [f"signal {name} received: left to the program's own handler" for name in signals[:5]]
    return {
        "run": label,
        "name": ids.name(label),
        "source": ids.source(label),
        "rank": rank,
        "ranks": ranks,
        "status": status,
        "status_inferred": status == "interrupted" and (end is None or end.get("status") != "interrupted"),
        "last_write_s": last_write(loaded.files, all_records, all_steps, all_evals) if end is None else None,
        "mode": end.get("mode") if end else None,
        "error": error,
        "failed_rank": failed_rank,
        "config": start.get("config"),
        "duration": duration,
        "segments": segments,
        "steps_done": steps_done(rows, steps["step"].max() if steps.height else None),
        "total_steps": total_steps,
        "phases": [
            {"phase": n, "runs": c, "total": t, "share": t / duration if duration else None}
            for n, c, t, _ in phase_counts([r for r in rows if r.name != TRAINING_STEP or r.depth <= 1])
        ],
        "metrics": _eval_stats(evals, declared) + _metric_stats(steps, "step", declared),
        "checkpoints": [
            {"step": e.get("step"), "path": e.get("path"), "size_bytes": e.get("size_bytes")}
            for e in events
            if e.get("event") == "checkpoint"
        ],
        "config_updates": [  # hyperparameters that arrived after run_start (Lightning's log_hyperparams...)
            {"source": e.get("source"), "config": e.get("config")}
            for e in events
            if e.get("event") == "config_update" and isinstance(e.get("config"), dict)
        ],
        "warnings": warnings,
    }


def child_files(records: list[Record]) -> set[int]:
    """The files of child processes (DataLoader workers, pool children): their run_start names a parent."""
    return {r.file for r in records if r.event.get("event") == "run_start" and "parent_pid" in r.event}


def _status(records: list[Record], rank: int, children: set[int]) -> tuple[str, Any, int | None, list[tuple[int, Any]]]:
    """(status, error, failing rank, other ranks' errors): the root cause is the first rank to fail.

    A child process's end (a worker's) says how the run ended only when it failed.
    """
    last_end: dict[tuple[int, Any], dict[str, Any]] = {}
    for r in records:
        if r.event.get("event") == "run_start":
            last_end.pop((r.file, hashable(r.event.get("rank", 0))), None)  # a restart: the earlier end is history
        elif r.event.get("event") == "run_end":
            last_end[(r.file, hashable(r.event.get("rank", 0)))] = r.event
    failed = sorted(
        (e for e in last_end.values() if e.get("status") == "failed"),
        key=lambda e: e["ts"] if isinstance(e.get("ts"), (int, float)) else float("inf"),
    )
    if failed:
        first = failed[0]
        others = [(e.get("rank", 0), e.get("error")) for e in failed[1:] if e.get("error")]
        return "failed", first.get("error"), first.get("rank", 0), others
    mine = [e for (f, rk), e in last_end.items() if rk == rank and f not in children]
    if not mine:
        return "interrupted", None, None, []
    status = mine[-1].get("status", "completed")  # another writer's null or number: not a status
    return status if isinstance(status, str) else "?", mine[-1].get("error"), None, []


def _group(name: str) -> str:
    """A metric's group: the part before its first ``/`` (``rewards/accuracy/mean`` → ``rewards``)."""
    head, slash, _ = name.partition("/")
    return head if slash else ""


def _eval_stats(evals: pl.DataFrame, declared: dict[str, bool]) -> list[dict[str, Any]]:
    """The eval metrics; of each split on its own when there are several (``eval.accuracy [val]``), never mixed."""
    splits = series_splits(evals)  # evals without a split beside named ones: a series of their own, named plainly
    if not splits:
        return _metric_stats(evals, "eval", declared)
    return [m for sp in splits for m in _metric_stats(of_split(evals, sp), "eval", declared, sp)]


def _metric_stats(
    frame: pl.DataFrame, source: str, declared: dict[str, bool], split: str | None = None
) -> list[dict[str, Any]]:
    """Every metric: last value and, when its direction is declared or known, the best (first on a tie).

    ``split``: the frame holds one eval split of several; its names say which (``eval.accuracy [val]``).
    """
    out: list[dict[str, Any]] = []
    if frame.height == 0:
        return out
    frame = frame.sort("step", maintain_order=True)
    names = [c[8:] for c in frame.columns if c.startswith("metrics.")]
    groups = list(dict.fromkeys(_group(n) for n in names))
    for name in sorted(names, key=lambda n: groups.index(_group(n))):
        col = f"metrics.{name}"
        part = frame.select("step", col).drop_nulls()
        if part.height == 0:
            continue
        vals = part[col].to_list()
        at = part["step"].to_list()
        high = direction(name, declared.get(name, declared.get(f"{source}.{name}")))
        i = best_index(vals, high)
        out.append(
            {
                "metric": split_label(f"{source}.{name}", split),
                **({"split": split} if split is not None else {}),
                "group": _group(name),
                "last": vals[-1],
                "last_step": at[-1],
                "best": None if i is None else vals[i],
                "best_step": None if i is None else at[i],
                "higher_better": high,
            }
        )
    return out
