"""Metrics: find one by name, its trend across steps, the evals of one step, non-finite values, step ranges."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.query.names import unknown_name
from eventlog_cli.read import Loaded

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

__all__ = [
    "direction",
    "eval_alias",
    "evals_at",
    "in_steps",
    "metric_key",
    "nonfinite_metrics",
    "only_split",
    "parse_steps",
    "resolve_metric",
    "split_label",
    "splits_of",
    "trend",
    "unknown_metric",
]

SOURCES = {"eval": "eval_summary", "step": "step_metrics"}
# Known names, declared (never guessed from a substring): the last part of a metric name, with a
# namespace (``train/``, ``eval.``) and a ``mean`` statistic dropped, ends with one of these.
HIGHER_IS_BETTER = ("accuracy", "acc", "reward", "score", "f1", "pass_rate", "success_rate", "win_rate", "exact_match")
LOWER_IS_BETTER = ("loss", "perplexity", "ppl", "error_rate", "wer", "cer")


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
            raise unknown_name(f"{prefix} metric", rest, keys)
        return prefix, rest, loaded.frame(SOURCES[prefix], [rest])
    found = {k: loaded.keys(v) for k, v in SOURCES.items()}
    hits = [k for k, keys in found.items() if metric in keys]
    if len(hits) > 1:
        msg = f"metric {metric!r} is in both evals and steps; say eval.{metric} or step.{metric}"
        raise UsageError(msg)
    if not hits:
        raise unknown_name("metric", metric, [k for keys in found.values() for k in keys])
    return hits[0], metric, loaded.frame(SOURCES[hits[0]], [metric])


_EVAL_ALIAS = re.compile(r"^(val|valid|validation|eval|test)[_/](.+)$")
_ALIAS_SPLIT = {"val": "val", "valid": "val", "validation": "val", "eval": "eval", "test": "test"}


def eval_alias(metric: str) -> tuple[str, str] | None:
    """``val_loss`` → (``loss``, ``val``): the name a loop logged, as the integrations record it (an eval split's
    metric); None for any other name."""
    m = _EVAL_ALIAS.match(metric)
    return (m.group(2), _ALIAS_SPLIT[m.group(1)]) if m else None


def unknown_metric(metric: str, loaded: Loaded) -> Exception:
    """The one-line error for a metric no source has, with the closest names (as :func:`resolve_metric`'s)."""
    return unknown_name("metric", metric, [k for v in SOURCES.values() for k in loaded.keys(v)])


def splits_of(frame: pl.DataFrame) -> list[str]:
    """The eval splits of a frame (``val``, ``test``, HF's named eval sets ``g0``...), in first-seen order."""
    if frame.height == 0 or "split" not in frame.columns:
        return []
    return [str(s) for s in frame["split"].drop_nulls().unique(maintain_order=True).to_list()]


def unsplit(frame: pl.DataFrame) -> bool:
    """Whether some evals of the frame have no split (with :func:`splits_of`: the series an eval metric makes)."""
    return frame.height > 0 and "split" in frame.columns and frame["split"].null_count() > 0


def series_splits(frame: pl.DataFrame) -> list[str | None]:
    """The splits an eval metric is shown apart by: each named split, then None (evals without a split) when
    both kinds are present; [] when there is one kind only (one series, never two mixed)."""
    splits: list[str | None] = [*splits_of(frame), *([None] if unsplit(frame) else [])]
    return splits if len(splits) > 1 else []


def of_split(frame: pl.DataFrame, split: str | None) -> pl.DataFrame:
    """The evals of one split (None: those without a split)."""
    if "split" not in frame.columns:
        return frame if split is None else frame.clear()
    return frame.filter(pl.col("split").is_null() if split is None else pl.col("split") == split)


def only_split(frame: pl.DataFrame, split: str | None) -> pl.DataFrame:
    """The rows of eval split ``split`` (all rows when None).

    Raises:
        DataError: no row has that split (with the closest split and the list).
    """
    if split is None:
        return frame
    present = splits_of(frame)
    if split not in present:
        raise unknown_name("split", split, present, where=" in these evals")
    return frame.filter(pl.col("split") == split)


def split_label(name: str, split: str | None) -> str:
    """``accuracy [val]``: a metric of one split, when a run has several; the name alone otherwise."""
    return name if split is None else f"{name} [{split}]"


def direction(name: str, declared: bool | None = None) -> bool | None:
    """Whether a larger value is better (True), a smaller (False), or unknown (None: no "best").

    ``declared`` (``--higher-better`` / ``--lower-better``) wins; else a known name decides
    (``accuracy``, ``train/loss``, ``rewards/accuracy_reward/mean``); nothing is guessed.
    """
    if declared is not None:
        return declared
    parts = [p for p in re.split(r"[/.]", name.lower()) if p]
    if len(parts) > 1 and parts[-1] == "mean":
        parts.pop()
    base = parts[-1].removesuffix("_mean") if parts else ""
    if base.endswith(HIGHER_IS_BETTER):
        return True
    if base.endswith(LOWER_IS_BETTER):
        return False
    return None


def best_index(values: list[float], high: bool | None) -> int | None:
    """The index of the best finite value (the first one on a tie), or None without a direction."""
    finite = [(v, i) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if high is None or not finite:
        return None
    best = max(v for v, _ in finite) if high else min(v for v, _ in finite)
    return next(i for v, i in finite if v == best)


def trend(frame: pl.DataFrame, name: str, high: bool | None = None) -> list[dict[str, Any]]:
    """Per run (and rank, when ranks differ; split, when evals have several) and step: value, change, best.

    ``frame`` has one row per run, rank, split and step (see ``query.runs.latest_per_step``). A
    metric every rank logged identically (an eval) is one series; ranks that differ are one series
    each, with a ``rank`` key; each eval split is its own series, with a ``split`` key, never mixed.
    """
    col = f"metrics.{name}"
    rows: list[dict[str, Any]] = []
    frame = frame.filter(pl.col(col).is_not_null())
    has_rank = "rank" in frame.columns
    several = bool(series_splits(frame))  # evals of val and test, or of val and of no split: never one series
    by = ["run", "split"] if several else ["run"]
    for key, part in frame.group_by(by, maintain_order=True):
        run, split = key[0], (key[1] if several else None)
        series: dict[Any, list[tuple[Any, float]]] = {}
        for rank, step, v in zip(
            part["rank"].to_list() if has_rank else [None] * part.height,
            part["step"].to_list(),
            part[col].to_list(),
            strict=True,
        ):
            series.setdefault(rank, []).append((step, v))
        distinct = {tuple(sorted(s, key=lambda x: (x[0] is None, x[0]))) for s in series.values()}
        if len(distinct) == 1:
            series = {None: next(iter(series.values()))}
        for rank in sorted(series, key=lambda r: (r is None, r)):
            points = sorted(series[rank], key=lambda x: (x[0] is None, x[0] or 0))
            best = best_index([v for _, v in points], high)
            prev: float | None = None
            for i, (s, v) in enumerate(points):
                change = None if prev is None or not math.isfinite(prev) or not math.isfinite(v) else v - prev
                row: dict[str, Any] = {"run": run}
                if rank is not None:
                    row["rank"] = rank
                if several:
                    row["split"] = split
                row |= {"step": s, "value": v, "change": change, "best": i == best}
                rows.append(row)
                prev = v
    return rows


def evals_at(frame: pl.DataFrame, step: int | None) -> list[dict[str, Any]]:
    """The eval_summary payloads at ``step`` (default: the step of the last eval): one per split.

    Every split evaluated at that step (``val`` and ``test``, HF's ``g0`` and ``g1``) is one
    payload, in the order first logged; a split logged twice at the step gives its later one.

    Raises:
        DataError: no evals, or none at ``step``.
    """
    if frame.height == 0:
        raise DataError("no eval_summary events in these files")
    if step is not None:
        steps = sorted({s for s in frame["step"].to_list() if s is not None})
        frame = frame.filter(pl.col("step") == step)
        if frame.height == 0:
            msg = f"no eval at step {step}; evals exist at step(s) {', '.join(map(str, steps)) or 'none'}"
            raise DataError(msg)
    else:  # the step of the last eval logged (evals without a step only when none has one)
        stepped = frame["step"].drop_nulls()
        frame = frame.filter(pl.col("step") == stepped[-1] if stepped.len() else pl.col("step").is_null())
    by_split: dict[Any, dict[str, Any]] = {}
    for row in frame.iter_rows(named=True):
        out: dict[str, Any] = {"step": row["step"]}
        for k in ("split", "total", "duration"):
            if row.get(k) is not None:
                out[k] = row[k]
        out["metrics"] = {c[8:]: row[c] for c in frame.columns if c.startswith("metrics.") and row[c] is not None}
        by_split[row.get("split")] = out  # a split's place stays where it was first logged
    return list(by_split.values())


def nonfinite_metrics(frame: pl.DataFrame) -> list[tuple[str, list[int]]]:
    """Metrics holding NaN or ±Inf, with the steps where they did."""
    cols = [c for c, t in frame.schema.items() if c.startswith(("metrics.", "timing.")) and t == pl.Float64]
    if not cols:
        return []
    bad = frame.select(pl.col(cols).is_finite().not_())  # one pass over every column: linear in their number
    counts = bad.sum().row(0)
    return [(c, frame["step"].filter(bad[c]).to_list()) for c, k in zip(cols, counts, strict=True) if k]
