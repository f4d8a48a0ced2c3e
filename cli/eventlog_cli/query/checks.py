"""What looks wrong in a run, as plain sentences: shared by ``summary`` and the visual commands."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from eventlog_cli.query.metrics import nonfinite_metrics
from eventlog_cli.query.phases import PhaseRow
from eventlog_cli.read import Loaded, hashable

if TYPE_CHECKING:
    import polars as pl

__all__ = ["run_warnings"]


def run_warnings(
    loaded: Loaded,
    events: list[dict[str, Any]],
    rows: list[PhaseRow],
    steps: pl.DataFrame,
    evals: pl.DataFrame,
    end: dict[str, Any] | None,
) -> list[str]:
    """What looks wrong in one run: NaN/Inf metrics, dropped events, seq gaps, skipped lines, phases
    that did not end ok, logged warnings and errors."""
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
    levels: Counter[Any] = Counter()
    for e in events:
        if e.get("event") == "log":
            levels[hashable(e.get("level"))] += e.get("_count", 1)  # a folded record stands for _count lines
    if levels.get("warning") or levels.get("error") or levels.get("critical"):
        out.append(
            f"log: {levels.get('warning', 0)} warning(s), "
            f"{levels.get('error', 0) + levels.get('critical', 0)} error(s) (eventlog grep to see them)"
        )
    return out
