"""Metric series for charts, as plain data: per metric (step, value) lists, downsampled for display.

Long step series are thinned by keeping, in each of ``buckets`` equal runs of
points, the point with the smallest and the one with the largest value (and
the first non-finite point, so a divergence stays visible). Every point kept
is a real point of the run: hover values stay exact, and spikes survive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.query.metrics import direction

__all__ = [
    "Series",
    "column_series",
    "downsample",
    "ema",
    "eval_series",
    "find_metric",
    "first_rank",
    "group_by_prefix",
    "series_name",
    "step_series",
]

BUCKETS = 500  # buckets per series: at most ~2 points each


@dataclass
class Series:
    """One line: x (steps), y (None where the value is NaN/±Inf), the steps that were not finite."""

    name: str
    x: list[int | float]
    y: list[float | None]
    total: int  # points before downsampling
    nonfinite: list[Any] = field(default_factory=list)
    best: tuple[Any, float] | None = None  # (step, value) of the best finite value

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "x": self.x,
            "y": self.y,
            "total": self.total,
            "nonfinite": self.nonfinite,
            "best": list(self.best) if self.best else None,
        }


def series_name(column: str) -> str:
    """``metrics.rewards/acc`` → ``rewards/acc``; ``timing.step`` → ``timing/step``."""
    if column.startswith("metrics."):
        return column[8:]
    if column.startswith("timing."):
        return "timing/" + column[7:]
    return column


def group_by_prefix(names: Sequence[str]) -> dict[str, list[str]]:
    """Metric names grouped by the part before the first ``/`` (``train`` for names without one)."""
    out: dict[str, list[str]] = {}
    for n in names:
        head, sep, _ = n.partition("/")
        out.setdefault(head if sep else "train", []).append(n)
    return out


def downsample(values: pl.Series, buckets: int = BUCKETS) -> list[int]:
    """Row indices to keep: min and max finite value per bucket, and the first non-finite one.

    Series of at most ``2 * buckets`` points are kept whole.
    """
    n = values.len()
    if n <= 2 * buckets:
        return list(range(n))
    v = values.cast(pl.Float64)
    df = pl.DataFrame({"i": pl.int_range(0, n, eager=True), "v": v}).with_columns(
        (pl.col("i") * buckets // n).alias("b"),
        pl.when(pl.col("v").is_finite()).then(pl.col("v")).otherwise(None).alias("f"),
    )
    odd = pl.col("v").is_not_null() & ~pl.col("v").is_finite()
    kept = df.group_by("b").agg(
        pl.col("i").get(pl.col("f").arg_min()).alias("lo"),
        pl.col("i").get(pl.col("f").arg_max()).alias("hi"),
        pl.col("i").filter(odd).first().alias("odd"),
    )
    idx = pl.concat([kept["lo"], kept["hi"], kept["odd"]]).drop_nulls().unique().sort()
    return idx.to_list()


def _finite_or_none(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def column_series(frame: pl.DataFrame, column: str, buckets: int = BUCKETS, high: bool | None = None) -> Series:
    """One metric column of a frame with ``step`` as a Series (rows without a value dropped).

    ``high``: whether larger is better (``query.metrics.direction``); None marks no best.
    """
    part = frame.select("step", column).filter(pl.col(column).is_not_null() & pl.col("step").is_not_null())
    # another writer's text or list where a number belongs: no point of the chart (validate names the line)
    part = part.with_columns(pl.col(column).cast(pl.Float64, strict=False)).drop_nulls(column)
    part = part.sort("step", maintain_order=True)
    col = part[column]
    nonfinite = part.filter(~col.is_finite())["step"].to_list()
    finite = part.filter(col.is_finite())
    best = None
    if finite.height and high is not None:
        at = finite[column].arg_max() if high else finite[column].arg_min()
        if at is not None:
            best = (finite["step"][at], finite[column][at])
    idx = downsample(col, buckets)
    kept = part[idx] if len(idx) < part.height else part
    return Series(
        series_name(column),
        kept["step"].to_list(),
        [_finite_or_none(v) for v in kept[column].to_list()],
        part.height,
        nonfinite,
        best,
    )


def first_rank(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of the lowest rank, when several ranks logged the same metrics (one line per run, not per rank)."""
    if frame.height and "rank" in frame.columns and frame["rank"].n_unique() > 1:
        return frame.filter(pl.col("rank") == frame["rank"].min())
    return frame


def step_series(steps: pl.DataFrame, buckets: int = BUCKETS) -> list[Series]:
    """Every ``metrics.*`` and ``timing.*`` column of a step_metrics frame (lowest rank), downsampled."""
    if steps.height == 0:
        return []
    steps = first_rank(steps)
    cols = [c for c in steps.columns if c.startswith(("metrics.", "timing."))]
    out = [column_series(steps, c, buckets, direction(series_name(c))) for c in cols]
    return [s for s in out if s.total]


def eval_series(evals: pl.DataFrame) -> dict[str, list[Series]]:
    """Per eval metric, one Series per split (named by the split, ``""`` when none; lowest rank), best marked."""
    if evals.height == 0:
        return {}
    evals = first_rank(evals)
    out: dict[str, list[Series]] = {}
    split = pl.col("split") if "split" in evals.columns else pl.lit(None, dtype=pl.String)
    evals = evals.with_columns(split.fill_null("").alias("_split"))
    splits = evals["_split"].unique(maintain_order=True).to_list()
    for c in evals.columns:
        if not c.startswith("metrics."):
            continue
        name = c[8:]
        for sp in splits:
            s = column_series(evals.filter(pl.col("_split") == sp), c, 10**9, direction(name))
            if s.total:
                s.name = sp
                out.setdefault(name, []).append(s)
    return out


def ema(values: Sequence[float | None], weight: float) -> list[float | None]:
    """TensorBoard's debiased exponential moving average; gaps stay gaps and do not reset it."""
    out: list[float | None] = []
    last, debias = 0.0, 0.0
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(None)
            continue
        last = last * weight + (1 - weight) * v
        debias = debias * weight + (1 - weight)
        out.append(last / debias if debias else v)
    return out


_SOURCES = {"eval": "eval_summary", "step": "step_metrics"}


def find_metric(frames: Sequence[dict[str, pl.DataFrame]], metric: str) -> tuple[str, str]:
    """Where ``metric`` (``accuracy``, ``eval.accuracy``, ``step.loss``, ``timing/step``) lives: (source, column).

    ``frames``: per run, ``{"eval": evals, "step": steps}``.

    Raises:
        DataError: no run has it.
        UsageError: it is both an eval and a step metric (say which).
    """
    prefix, dot, rest = metric.partition(".")
    wanted = [(prefix, rest)] if dot and prefix in _SOURCES else [("eval", metric), ("step", metric)]
    hits = []
    for source, name in wanted:
        col = f"timing.{name[7:]}" if name.startswith("timing/") else f"metrics.{name}"
        if any(col in f[source].columns for f in frames):
            hits.append((source, col))
    if len(hits) > 1:
        msg = f"metric {metric!r} is in both evals and steps; say eval.{metric} or step.{metric}"
        raise UsageError(msg)
    if not hits:
        avail = sorted({f"{s}.{series_name(c)}" for f in frames for s in _SOURCES for c in f[s].columns
                        if c.startswith(("metrics.", "timing."))})  # fmt: skip
        msg = f"no metric {metric!r} in these runs; available: {', '.join(avail) or 'none'}"
        raise DataError(msg)
    return hits[0]
