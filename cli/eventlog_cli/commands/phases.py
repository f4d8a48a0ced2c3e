"""``eventlog phases``: the phase timeline, nesting, step, start offset, duration, status, counts."""

from __future__ import annotations

from typing import Annotated

import typer

from eventlog._text import fmt_duration, fmt_num, sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, Rank, Strict, output_format
from eventlog_cli.commands._output import console, new_table, print_table, text
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.errors import DataError
from eventlog_cli.query.phases import PhaseRow, collapse_steps, phase_counts, phase_rows
from eventlog_cli.query.runs import default_rank, only_rank_records
from eventlog_cli.read import hashable

COLUMNS = ["rank", "id", "parent", "phase", "depth", "step", "start", "duration", "status", "count"]


def offset(s: float) -> str:
    """Seconds after the start as ``+MM:SS`` or ``+H:MM:SS``."""
    s = max(0.0, s)
    return (
        f"+{int(s // 3600)}:{int(s % 3600 // 60):02d}:{int(s % 60):02d}"
        if s >= 3600
        else f"+{int(s // 60):02d}:{int(s % 60):02d}"
    )


@guarded
def phases(
    paths: Paths = None,
    all_steps: Annotated[
        bool, typer.Option("--all", help="One row per training step instead of one per run of steps.")
    ] = False,
    rank: Rank = None,
    json_output: Json = False,
    csv_output: Csv = False,
    strict: Strict = False,
) -> None:
    """The phase timeline: nesting, step, start offset, duration, status, and counts."""
    fmt = output_format(json_output, csv_output)
    records = read(paths, ["phase_start", "phase_end", "run_start", "run_end"], strict=strict).records()
    records = only_rank_records(records, rank)
    rows = sorted(phase_rows(records), key=lambda r: r.rank if isinstance(r.rank, int) else 0)  # ranks not interleaved
    if not rows:
        raise DataError("no phases in these events")
    shown = rows if all_steps else collapse_steps(rows)
    counted = default_rank(r.rank for r in rows)
    counts = phase_counts([r for r in rows if r.rank == counted])
    table = [_row(r) for r in shown]
    data = {
        "phases": table,
        "counts": [{"phase": n, "runs": c, "total": t, "not_ok": bad} for n, c, t, bad in counts],
    }
    render(Result(table, [*COLUMNS, "last_step"], data=data, view=lambda: _view(rows, shown, counts)), fmt)


def _row(r: PhaseRow) -> dict[str, object]:
    """One phase as a row object (``last_step`` only on collapsed runs of steps)."""
    row: dict[str, object] = {
        "rank": r.rank,
        "id": r.id,
        "parent": r.parent,
        "phase": r.name,
        "depth": r.depth,
        "step": r.step,
        "start": r.start,
        "duration": r.duration,
        "status": r.status,
        "count": r.count,
    }
    if r.count > 1:
        row["last_step"] = r.last_step
    return row


def _view(rows: list[PhaseRow], shown: list[PhaseRow], counts: list[tuple[str, int, float, int]]) -> None:
    ranks = {hashable(r.rank) for r in rows}
    cols = ["phase", "step", "start", "duration", "status"] + (["rank"] if len(ranks) > 1 else [])
    table = new_table(*cols, right=("step", "start", "duration"))
    for r in shown:
        name = "  " * r.depth + sanitize(r.name)
        step = fmt_num(r.step) if r.step is not None else ""
        if r.count > 1:
            name += f" ×{r.count}"
            step = f"{fmt_num(r.step)}–{fmt_num(r.last_step)}"
        style = {"ok": "green", "failed": "bold red"}.get(r.status, "yellow")
        cells = [text(name), text(step), text(offset(r.start)), text(fmt_duration(r.duration)), text(r.status, style)]
        table.add_row(*cells, *([text(r.rank)] if len(ranks) > 1 else []))
    out = console()
    print_table(table, out)
    if len(ranks) > 1:
        out.print(text(f"totals of rank {default_rank(ranks)} (--rank N for another):"))
    for name, n, total, bad in counts:
        note = f" ({bad} not ok)" if bad else ""
        out.print(text(f"{name}: {n} run{'s' if n != 1 else ''}, {fmt_duration(total)} total{note}"))


def register(app: typer.Typer) -> None:
    app.command("phases")(phases)
