"""The watch screen: a rich renderable drawn from a WatchState (no markup from data)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from eventlog._columns import StepTable
from eventlog._constants import PHASE_TRAINING, PHASE_TRAINING_STEP
from eventlog._text import fmt_duration, fmt_num, sanitize
from eventlog_cli.query.columns import column_for, default_keys
from eventlog_cli.query.watch import PhaseOpen, WatchState

__all__ = ["render"]

_SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    finite = [v for v in values if v == v and abs(v) != float("inf")]
    if not finite:
        return "×" * len(values)
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    return "".join(_SPARK[int((v - lo) / span * 7)] if v in finite else "×" for v in values)


def _t(s: Any, style: str = "") -> Text:
    return Text(sanitize(s), style=style)


def _progress(p: PhaseOpen, now_ts: float | None, width: int) -> RenderableType | None:
    if not p.total or p.done is None:
        return None
    done, total = int(p.done), int(p.total)
    frac = min(1.0, done / total) if total else 0.0
    elapsed = (now_ts - p.started) if now_ts is not None else None
    eta = elapsed / done * (total - done) if elapsed is not None and done else None
    what = "step" if p.name == PHASE_TRAINING else "batch"
    grid = Table.grid(padding=(0, 1))
    grid.add_row(
        _t(f"{p.name} {what} {done}/{total}", "bold"),
        ProgressBar(total=total, completed=min(done, total), width=max(10, width - 60)),
        _t(f"{100 * frac:5.1f}%  elapsed {fmt_duration(elapsed)}  ETA {fmt_duration(eta) if eta is not None else '?'}"),
    )
    return grid


def render(state: WatchState, target: str, now: float | None = None, width: int = 100) -> RenderableType:
    """The whole screen for one refresh; ``now`` is wall-clock seconds (injectable for tests)."""
    now = time.time() if now is None else now
    parts: list[RenderableType] = []
    head = Text.assemble(_t("eventlog watch ", "bold"), _t(target))
    if state.run is not None:
        head.append_text(_t(f" · run {state.run}"))
    if state.host:
        head.append_text(_t(f" · host {state.host}"))
    if state.events == 0:
        parts.append(head)
        parts.append(_t(f"waiting for {target} to appear… (q quits)", "yellow"))
        return Group(*parts)
    end_ts = state.last_ts if state.ended is not None else now
    if state.started is not None and end_ts is not None:
        head.append_text(_t(f" · {fmt_duration(end_ts - state.started)}"))
    parts.append(head)
    path = " > ".join(
        f"{p.name}[{p.step}]" if p.name == PHASE_TRAINING_STEP and p.step is not None else p.name for p in state.stack
    )
    if state.ended is None:
        parts.append(Text.assemble(("phase: ", "dim"), _t(path or "-", "cyan")))
        for p in state.stack:
            bar = _progress(p, state.last_ts, width)
            if bar is not None:
                parts.append(bar)
    main = set(default_keys(state.metric_keys))  # the table's default metrics (any stack's names), in logged order
    if state.steps:
        keys = ["step", "epoch", *[k for k in state.metric_keys if k in main]]
        table = StepTable([column_for(k) for k in keys], header_every=10**9)
        lines = [table.header(), *(table.row(r) for r in state.steps)]
        parts.append(_t("\n".join(lines)))
    spark = Table.grid(padding=(0, 2))
    for k in state.metric_keys:
        if k in main and state.series.get(k):  # a metric never numeric has no series to draw
            vals = list(state.series[k])
            spark.add_row(_t(k), _t(sparkline(vals)), _t(fmt_num(vals[-1])))
    for split, evals in state.evals.items():
        accs = [a for _, a in evals]
        name = "eval accuracy" + (f" [{split}]" if split and len(state.evals) > 1 else "")
        spark.add_row(_t(name), _t(sparkline(accs)), _t(f"{fmt_num(accs[-1])} (best {fmt_num(max(accs))})"))
    if spark.row_count:
        parts.append(spark)
    notes = [n for n in (state.rank_note(), state.stalled) if n]
    warnings = list(state.warnings) + notes
    for w in warnings:
        parts.append(_t(f"⚠ {w}", "yellow"))
    if state.ended is not None:
        status = str(state.ended.get("status", "?"))
        style = {"completed": "bold green", "failed": "bold red"}.get(status, "bold yellow")
        dur = state.ended.get("duration")
        line = f"run {status}" + (f" in {fmt_duration(dur)}" if dur is not None else "")
        if state.ended.get("error"):
            line += f": {state.ended['error']}"
        parts.append(_t(line, style))
        others = state.still_running()
        if others:
            ranks = ", ".join(str(r) for r in others)
            parts.append(_t(f"rank{'s' if len(others) > 1 else ''} {ranks} still running", "yellow"))
    parts.append(_t("q quits", "dim"))
    return Group(*parts)
