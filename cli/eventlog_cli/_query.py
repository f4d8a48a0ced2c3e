"""Questions about runs, answered as plain data (commands only render them)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from eventlog._text import sanitize
from eventlog._values import as_number
from eventlog_cli._errors import CliError
from eventlog_cli._load import Loaded

__all__ = [
    "PhaseRow",
    "annotate",
    "eval_at",
    "parse_steps",
    "phase_counts",
    "phase_rows",
    "resolve_metric",
    "trend",
]


def parse_steps(spec: str | None) -> tuple[int | None, int | None]:
    """``"10:20"`` → (10, 20); ``"10:"``, ``":20"``, ``"15"`` work too."""
    if not spec:
        return None, None
    lo, sep, hi = spec.partition(":")
    try:
        a = int(lo) if lo.strip() else None
        b = int(hi) if hi.strip() else None
    except ValueError:
        msg = f"--steps {spec!r}: expected A:B with whole numbers, e.g. 10:20, 10: or :20"
        raise CliError(msg, 2) from None
    return (a, b) if sep else (a, a)


def in_steps(step: Any, bounds: tuple[int | None, int | None]) -> bool:
    lo, hi = bounds
    if lo is None and hi is None:
        return True
    if not isinstance(step, int):
        return False
    return (lo is None or step >= lo) and (hi is None or step <= hi)


# --- phases ----------------------------------------------------------------------------


@dataclass
class PhaseRow:
    """One phase run: where it sits, when it started, how long, how it ended."""

    rank: int
    id: Any
    name: str
    depth: int
    step: int | None
    start: float  # seconds after the run's first event
    duration: float | None
    status: str
    parent: Any = None
    label: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    count: int = 1  # >1 for collapsed runs of training steps
    last_step: int | None = None


def phase_rows(records: Sequence[dict[str, Any]]) -> list[PhaseRow]:
    """The phase timeline; phases never closed are ``interrupted``, timed to the file's last event."""
    t0 = min((r["ts"] for r in records if isinstance(r.get("ts"), (int, float))), default=0.0)
    last_ts: dict[tuple[int, Any], float] = {}
    rows: dict[tuple[int, Any, Any], PhaseRow] = {}
    order: list[tuple[int, Any, Any]] = []
    for r in records:
        key_file = (r.get("_file", 0), r.get("rank", 0))
        if isinstance(r.get("ts"), (int, float)):
            last_ts[key_file] = r["ts"]
        ev = r.get("event")
        if ev == "phase_start":
            key = (*key_file, r.get("id"))
            parent = rows.get((*key_file, r.get("parent")))
            info = {k: v for k, v in r.items() if k not in _PHASE_META}
            rows[key] = PhaseRow(
                r.get("rank", 0),
                r.get("id"),
                str(r.get("phase", "?")),
                parent.depth + 1 if parent else 0,
                r.get("step"),
                r.get("ts", t0) - t0,
                None,
                "interrupted",
                r.get("parent"),
                r.get("label"),
                info,
            )
            order.append(key)
        elif ev == "phase_end":
            row = rows.get((*key_file, r.get("id")))
            if row is None:
                continue
            row.duration = as_number(r.get("duration"))
            row.status = str(r.get("status", "ok"))
            row.info.update({k: v for k, v in r.items() if k not in _PHASE_META})
    for key in order:
        row = rows[key]
        if row.duration is None:
            row.duration = last_ts.get(key[:2], t0) - t0 - row.start
    return [rows[k] for k in order]


_PHASE_META = frozenset(
    {
        "v",
        "ts",
        "event",
        "run",
        "rank",
        "seq",
        "phase",
        "id",
        "parent",
        "step",
        "label",
        "status",
        "duration",
        "_file",
        "_line",
    }
)


def collapse_steps(rows: list[PhaseRow]) -> list[PhaseRow]:
    """Fold consecutive sibling ``training_step`` rows (and their children) into one row."""
    out: list[PhaseRow] = []
    skip_depth: int | None = None
    for row in rows:
        if skip_depth is not None and row.depth > skip_depth:
            continue
        skip_depth = None
        prev = out[-1] if out else None
        if (
            row.name == "training_step"
            and prev is not None
            and prev.name == "training_step"
            and prev.depth == row.depth
            and prev.parent == row.parent
            and prev.rank == row.rank
        ):
            prev.count += 1
            prev.duration = (prev.duration or 0.0) + (row.duration or 0.0)
            prev.last_step = row.step
            if row.status != "ok" and prev.status == "ok":
                prev.status = row.status
            skip_depth = row.depth
            continue
        if row.name == "training_step":
            row = PhaseRow(**{**row.__dict__, "last_step": row.step})
            skip_depth = row.depth
        out.append(row)
    return out


def phase_counts(rows: Sequence[PhaseRow]) -> list[tuple[str, int, float, int]]:
    """Per phase name: runs, total seconds, interrupted or failed runs; in first-seen order."""
    acc: dict[str, list[float]] = {}
    for r in rows:
        a = acc.setdefault(r.name, [0, 0.0, 0])
        a[0] += r.count
        a[1] += r.duration or 0.0
        a[2] += 0 if r.status == "ok" else 1
    return [(k, int(v[0]), v[1], int(v[2])) for k, v in acc.items()]


def annotate(records: Sequence[dict[str, Any]]) -> None:
    """Give every record ``_path`` (enclosing phases, outermost first) and ``_step``."""
    stacks: dict[tuple[Any, Any], list[tuple[Any, str, Any]]] = defaultdict(list)
    for r in records:
        stack = stacks[(r.get("_file"), r.get("rank"))]
        ev = r.get("event")
        if ev == "phase_end":
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == r.get("id"):
                    del stack[i:]
                    break
        r["_path"] = [(name, step) for _, name, step in stack]
        step = r.get("step")
        if not isinstance(step, int):
            step = next((s for _, _, s in reversed(stack) if isinstance(s, int)), None)
        r["_step"] = step
        if ev == "phase_start":
            stack.append((r.get("id"), str(r.get("phase", "?")), r.get("step")))


def path_text(path: Sequence[tuple[str, Any]]) -> str:
    """``training > training_step[12]``."""
    parts = (f"{n}[{s}]" if isinstance(s, int) and n == "training_step" else n for n, s in path)
    return sanitize(" > ".join(parts)) or "-"


# --- metrics -----------------------------------------------------------------------------

_SOURCES = {"eval": "eval_summary", "step": "step_metrics"}


def resolve_metric(loaded: Loaded, metric: str) -> tuple[str, str, pl.DataFrame]:
    """Find ``metric`` (``accuracy``, ``eval.accuracy`` or ``step.loss``): (source, name, frame).

    Raises:
        CliError: unknown, or present in both sources without a qualifier (exit 2).
    """
    prefix, dot, rest = metric.partition(".")
    if dot and prefix in _SOURCES:
        keys = loaded.keys(_SOURCES[prefix])
        if rest not in keys:
            msg = f"no {prefix} metric {rest!r}; available: {', '.join(keys) or 'none'}"
            raise CliError(msg)
        return prefix, rest, loaded.frame(_SOURCES[prefix], [rest])
    found = {k: loaded.keys(v) for k, v in _SOURCES.items()}
    hits = [k for k, keys in found.items() if metric in keys]
    if len(hits) > 1:
        msg = f"metric {metric!r} is in both evals and steps; say eval.{metric} or step.{metric}"
        raise CliError(msg, 2)
    if not hits:
        avail = "; ".join(f"{k}: {', '.join(keys) or 'none'}" for k, keys in found.items())
        msg = f"no metric {metric!r} in these events ({avail})"
        raise CliError(msg)
    return hits[0], metric, loaded.frame(_SOURCES[hits[0]], [metric])


HIGHER_IS_BETTER = ("acc", "reward", "score", "pass", "f1", "success", "correct", "win")


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
    """The eval_summary payload at ``step`` (default: the last one)."""
    if frame.height == 0:
        raise CliError("no eval_summary events in these files")
    if step is not None:
        frame = frame.filter(pl.col("step") == step)
        if frame.height == 0:
            msg = f"no eval at step {step}"
            raise CliError(msg)
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
