"""Metrics: find one by name, its trend across steps, one eval, non-finite values, step ranges."""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.read import Loaded

__all__ = [
    "better_high",
    "eval_at",
    "in_steps",
    "metric_key",
    "nonfinite_metrics",
    "parse_steps",
    "resolve_metric",
    "trend",
]

SOURCES = {"eval": "eval_summary", "step": "step_metrics"}
HIGHER_IS_BETTER = ("acc", "reward", "score", "pass", "f1", "success", "correct", "win")


def parse_steps(spec: str | None) -> tuple[int | None, int | None]:
    """``"10:20"`` → (10, 20); ``"10:"``, ``":20"``, ``"15"`` work too.

    Raises:
        UsageError: not of the form A:B.
    """
    if not spec:
        return None, None
    lo, sep, hi = spec.partition(":")
    try:
        a = int(lo) if lo.strip() else None
        b = int(hi) if hi.strip() else None
    except ValueError:
        msg = f"--steps {spec!r}: expected A:B with whole numbers, e.g. 10:20, 10: or :20"
        raise UsageError(msg) from None
    return (a, b) if sep else (a, a)


def in_steps(step: Any, bounds: tuple[int | None, int | None]) -> bool:
    """Whether ``step`` lies in the bounds of :func:`parse_steps` (no bounds: always)."""
    lo, hi = bounds
    if lo is None and hi is None:
        return True
    if not isinstance(step, int):
        return False
    return (lo is None or step >= lo) and (hi is None or step <= hi)


def metric_key(metric: str) -> str:
    """The key inside ``metrics`` that ``accuracy``, ``eval.accuracy`` or ``step.loss`` names."""
    prefix, dot, rest = metric.partition(".")
    return rest if dot and prefix in SOURCES else metric


def resolve_metric(loaded: Loaded, metric: str) -> tuple[str, str, pl.DataFrame]:
    """Find ``metric`` (``accuracy``, ``eval.accuracy`` or ``step.loss``): (source, name, frame).

    Raises:
        DataError: no such metric.
        UsageError: present in both sources without a qualifier.
    """
    prefix, dot, rest = metric.partition(".")
    if dot and prefix in SOURCES:
        keys = loaded.keys(SOURCES[prefix])
        if rest not in keys:
            msg = f"no {prefix} metric {rest!r}; available: {', '.join(keys) or 'none'}"
            raise DataError(msg)
        return prefix, rest, loaded.frame(SOURCES[prefix], [rest])
    found = {k: loaded.keys(v) for k, v in SOURCES.items()}
    hits = [k for k, keys in found.items() if metric in keys]
    if len(hits) > 1:
        msg = f"metric {metric!r} is in both evals and steps; say eval.{metric} or step.{metric}"
        raise UsageError(msg)
    if not hits:
        avail = "; ".join(f"{k}: {', '.join(keys) or 'none'}" for k, keys in found.items())
        msg = f"no metric {metric!r} in these events ({avail})"
        raise DataError(msg)
    return hits[0], metric, loaded.frame(SOURCES[hits[0]], [metric])


def better_high(name: str) -> bool:
    """Whether a larger value of the metric is better (loss, kl... are lower-better)."""
    return any(h in name.lower() for h in HIGHER_IS_BETTER)


def trend(frame: pl.DataFrame, name: str) -> list[dict[str, Any]]:
    """Per run and step: value, change from the previous value, whether it is the best."""
    col = f"metrics.{name}"
    rows: list[dict[str, Any]] = []
    high = better_high(name)
    for (run,), part in frame.group_by("run", maintain_order=True):
        part = part.filter(pl.col(col).is_not_null())
        vals = part[col].to_list()
        steps = part["step"].to_list()
        finite = [v for v in vals if math.isfinite(v)]
        best = (max(finite) if high else min(finite)) if finite else None
        prev: float | None = None
        for s, v in zip(steps, vals, strict=True):
            change = None if prev is None or not math.isfinite(prev) or not math.isfinite(v) else v - prev
            rows.append({"run": run, "step": s, "value": v, "change": change, "best": best is not None and v == best})
            prev = v
    return rows


def eval_at(frame: pl.DataFrame, step: int | None) -> dict[str, Any]:
    """The eval_summary payload at ``step`` (default: the last one).

    Raises:
        DataError: no evals, or none at ``step``.
    """
    if frame.height == 0:
        raise DataError("no eval_summary events in these files")
    if step is not None:
        frame = frame.filter(pl.col("step") == step)
        if frame.height == 0:
            msg = f"no eval at step {step}"
            raise DataError(msg)
    row = frame.row(-1, named=True)
    out: dict[str, Any] = {"step": row["step"]}
    for k in ("split", "total", "duration"):
        if row.get(k) is not None:
            out[k] = row[k]
    out["metrics"] = {c[8:]: row[c] for c in frame.columns if c.startswith("metrics.") and row[c] is not None}
    return out


def nonfinite_metrics(frame: pl.DataFrame) -> list[tuple[str, list[int]]]:
    """Metrics holding NaN or ±Inf, with the steps where they did."""
    out = []
    for c in frame.columns:
        if c.startswith(("metrics.", "timing.")) and frame[c].dtype == pl.Float64:
            bad = frame.filter(pl.col(c).is_nan() | pl.col(c).is_infinite())
            if bad.height:
                out.append((c, bad["step"].to_list()))
    return out
