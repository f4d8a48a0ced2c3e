"""Run comparison as plain data: config differences, metrics side by side, evals by step, phase times."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

from eventlog_cli.query.metrics import direction, of_split, series_splits, split_label, splits_of, unsplit
from eventlog_cli.query.phases import TRAINING_STEP, phase_counts
from eventlog_cli.query.rundata import MISSING, RunData, config_diff

__all__ = ["METRIC_COLUMNS", "compare"]


def _numbers(frame: pl.DataFrame, col: str) -> pl.DataFrame | None:
    """``step`` and one metric column (named ``v``) as numbers, rows lacking either dropped; None: no such column.

    Integers stay integers (counts), anything else is Float64. Built from the two columns alone:
    a ``select`` on a frame of thousands of metric columns costs time in proportion to its width,
    so comparing 2,000 metrics took 22 s.
    """
    try:
        values = frame.get_column(col)
    except pl.exceptions.ColumnNotFoundError:
        return None
    if not values.dtype.is_integer():
        values = values.cast(pl.Float64)
    return pl.DataFrame([frame.get_column("step"), values.alias("v")]).drop_nulls()


def _last_and_best(frame: pl.DataFrame, col: str, high: bool | None) -> dict[str, Any] | None:
    """Final value (and its step), best finite value (and its step; none without a direction) of one column."""
    part = _numbers(frame, col) if frame.height else None
    if part is None or part.height == 0:
        return None
    part = part.sort("step", maintain_order=True)
    out: dict[str, Any] = {"final": part["v"][-1], "final_step": part["step"][-1], "best": None, "best_step": None}
    finite = part.filter(pl.col("v").is_finite())
    if finite.height and high is not None:
        at = finite["v"].arg_max() if high else finite["v"].arg_min()
        if at is not None:
            out["best"], out["best_step"] = finite["v"][at], finite["step"][at]
    return out


def _diff(a: Any, b: Any) -> float | None:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isfinite(a) and math.isfinite(b):
        d = b - a
        return 0.0 if abs(d) <= 1e-12 * max(abs(a), abs(b)) else d  # float noise is no difference
    return None


def _present(frames: Sequence[pl.DataFrame]) -> list[list[str]]:
    """Each run's ``metrics.*`` columns that hold a value."""
    return [[c for c in f.columns if c.startswith("metrics.") and f[c].null_count() < f.height] for f in frames]


def _metric_columns(frames: Sequence[pl.DataFrame]) -> list[str]:
    """``metrics.*`` columns that two runs or more have (a value in each), in order of appearance.

    A run without one shows nothing in its cell; a metric of one run alone is not compared
    (:func:`_alone` names it).
    """
    seen = Counter(c for run in _present(frames) for c in run)  # in order of appearance
    return [c for c, n in seen.items() if n > 1]


def _alone(runs: Sequence[RunData]) -> list[dict[str, Any]]:
    """The metrics only one run has (per source and split): not compared, but named."""
    out = []
    for source, split, frames in _parts(runs):
        cols = _present(frames)
        seen = Counter(c for run in cols for c in run)
        owner = {c: r.label for r, run in zip(runs, cols, strict=True) for c in run if seen[c] == 1}
        out += [{"metric": split_label(f"{source}.{c[8:]}", split), "run": owner[c]} for c, n in seen.items() if n == 1]
    return out


METRIC_COLUMNS = ["metric", "run", "final", "final_step", "best", "best_step", "diff_final", "diff_best"]


def _parts(runs: Sequence[RunData]) -> list[tuple[str, str | None, list[pl.DataFrame]]]:
    """(source, split, a frame per run): the evals of each split apart when a run has evals of two splits (or of
    one and of none: ``series_splits``), then the steps."""
    if not any(series_splits(r.evals) for r in runs):
        evals: list[tuple[str, str | None, list[pl.DataFrame]]] = [("eval", None, [r.evals for r in runs])]
    else:
        splits = list(dict.fromkeys(s for r in runs for s in splits_of(r.evals)))
        evals = [("eval", sp, [of_split(r.evals, sp) for r in runs]) for sp in splits]
        if any(unsplit(r.evals) for r in runs):
            evals.append(("eval", None, [of_split(r.evals, None) for r in runs]))  # evals without a split
    return [*evals, ("step", None, [r.steps for r in runs])]


def _metrics(runs: Sequence[RunData]) -> list[dict[str, Any]]:
    """One row per shared metric and run: final and best (with steps), and their difference from the first run.

    Evals of several splits are compared split by split (``eval.accuracy [val]``), never mixed.
    """
    rows = []
    for source, split, frames in _parts(runs):
        for col in _metric_columns(frames):
            name = col[8:]
            high = direction(name)
            stats = [_last_and_best(f, col, high) or {} for f in frames]
            for i, (r, st) in enumerate(zip(runs, stats, strict=True)):
                rows.append(
                    {
                        "metric": split_label(f"{source}.{name}", split),
                        "run": r.label,
                        "final": st.get("final"),
                        "final_step": st.get("final_step"),
                        "best": st.get("best"),
                        "best_step": st.get("best_step"),
                        "diff_final": _diff(stats[0].get("final"), st.get("final")) if i else None,
                        "diff_best": _diff(stats[0].get("best"), st.get("best")) if i else None,
                    }
                )
    return rows


def _evals_by_step(runs: Sequence[RunData]) -> list[dict[str, Any]]:
    """Per eval metric two runs share: one row per step any run evaluated at, a value per run (None if absent)."""
    out = []
    for source, split, frames in _parts(runs):
        if source != "eval":
            continue
        for col in _metric_columns(frames):
            per_run: list[dict[Any, Any]] = []
            for f in frames:
                part = _numbers(f, col)  # None: a run without the metric, no value at any step
                per_run.append(
                    {} if part is None else dict(zip(part["step"].to_list(), part["v"].to_list(), strict=True))
                )
            steps = sorted({s for d in per_run for s in d})
            rows = [{"step": s, "values": [d.get(s) for d in per_run]} for s in steps]
            out.append({"metric": split_label(col[8:], split), "rows": rows})
    return out


def _phases(runs: Sequence[RunData], durations: list[float | None]) -> list[dict[str, Any]]:
    """Per phase name: total seconds and share of the run's duration, per run."""
    per_run = []
    for r in runs:
        rows = [p for p in r.phases if p.name != TRAINING_STEP or p.depth <= 1]
        per_run.append({name: (n, total) for name, n, total, _ in phase_counts(rows)})
    names = list(dict.fromkeys(n for d in per_run for n in d))
    out = []
    for name in names:
        cells: list[dict[str, Any] | None] = []
        for d, dur in zip(per_run, durations, strict=True):
            if name not in d:
                cells.append(None)
                continue
            n, total = d[name]
            cells.append({"runs": n, "seconds": total, "share": total / dur if dur else None})
        out.append({"phase": name, "runs": cells})
    return out


def compare(runs: Sequence[RunData]) -> dict[str, Any]:
    """Everything ``compare`` shows, as data (MISSING config values become absent keys)."""
    summaries = [r.summary() for r in runs]
    durations = [s["duration"] for s in summaries]
    config = []
    for row in config_diff([r.config for r in runs]):
        if row["status"] == "same":
            continue
        values = {r.label: v for r, v in zip(runs, row["values"], strict=True) if v is not MISSING}
        config.append({"key": row["key"], "status": row["status"], "values": values})
    return {
        "runs": [
            {
                "label": r.label,
                "run": r.run,
                "source": r.source,
                "status": s["status"],
                "duration": s["duration"],
                "steps_done": s["steps_done"],
            }
            for r, s in zip(runs, summaries, strict=True)
        ],
        "config": config,
        "metrics": _metrics(runs),
        "evals": _evals_by_step(runs),
        "only_in_one_run": _alone(runs),
        "phases": _phases(runs, durations),
    }
