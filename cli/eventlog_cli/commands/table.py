"""``eventlog table``: the per-step metrics table (the run's step table, or JSON/CSV/Markdown)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from eventlog._columns import Column
from eventlog._text import sanitize
from eventlog_cli.commands._config import project_columns
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, Rank, Strict, output_format
from eventlog_cli.commands._output import console
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.commands._steptable import step_columns, step_lines
from eventlog_cli.errors import DataError
from eventlog_cli.query.columns import FIELDS, default_keys, left_out, select_columns, with_row_keys
from eventlog_cli.query.runs import Resume, RunIds, latest_per_step, only_rank, resumes, shared_steps

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl


@guarded
def table(
    paths: Paths = None,
    cols: Annotated[
        str | None,
        typer.Option(
            "--cols", help="Comma-separated keys: step,loss,timing.step, metrics.NAME, 'rewards/*' (a glob) or all."
        ),
    ] = None,
    every: Annotated[int, typer.Option("--every", min=1, help="Every Nth step (and always the last).")] = 1,
    last: Annotated[
        int | None, typer.Option("--last", min=1, help="Only the last N rows (of each run and rank).")
    ] = None,
    legend: Annotated[bool, typer.Option("--legend", help="Explain the columns.")] = False,
    rank: Rank = None,
    json_output: Json = False,
    csv_output: Csv = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="A Markdown table.")] = False,
    strict: Strict = False,
) -> None:
    """The per-step metrics table.

    Several runs get a run column (and a ``run`` key in ``--json``), several ranks a rank
    column (``rank``). A resumed run shows each step once, with its later value, and a
    marker where it resumed. A table wider than the terminal is wrapped into blocks.
    """
    fmt = output_format(json_output, csv_output)
    loaded = read(paths, ["step_metrics", "run_start"], strict=strict)
    metrics = loaded.keys("step_metrics")
    if cols:
        keys = select_columns(cols, metrics, loaded.keys("step_metrics", "timing"))
    else:
        keys = with_row_keys(project_columns() or default_keys(metrics, console().width))
        note = left_out(metrics, keys)
        if note:
            sys.stderr.write(note + "\n")
    metric_keys = [k.removeprefix("metrics.") for k in keys if not k.startswith("timing.") and k not in FIELDS]
    timing_keys = [k[7:] for k in keys if k.startswith("timing.")]
    frame = loaded.frame("step_metrics", metrics=metric_keys, timing=timing_keys)
    if frame.height == 0:
        raise DataError("no step_metrics events in these files")
    starts = loaded.records(["run_start"])
    ids = RunIds.of(loaded.files, starts, frame)
    frame = only_rank(ids.relabel(frame), rank)
    shared = shared_steps(frame, loaded.files)
    if shared:
        sys.stderr.write(f"note: {shared}\n")
    frame = latest_per_step(frame)
    order = {label: i for i, label in enumerate(ids.order)}
    frame = (
        frame.with_columns(pl.col("run").replace_strict(order, default=len(order)).alias("_run"))
        .sort(["_run", "rank", "step"], maintain_order=True, nulls_last=True)
        .drop("_run")
    )
    lead = [k for k in ("run", "rank") if frame[k].n_unique() > 1 and k not in keys]
    frame = _every(frame, every, last)
    if lead:  # several runs or ranks: one run's (rank's) rows together, then in step order
        frame = frame.sort([*lead, "step"], maintain_order=True, nulls_last=True) if lead == ["rank"] else frame
    marks = [r for r in resumes(starts, ids) if rank is None or r.rank == rank]
    for r in marks:
        sys.stderr.write(
            f"note: {sanitize(r.run)} resumed at {sanitize(r.file)}:{r.line} (a second run_start); "
            "a step logged twice shows its later value\n"
        )
    if markdown and fmt == "table":
        rows = frame.to_dicts()
        _markdown(lead, step_columns(keys, rows), rows)
        return
    names = [*lead, *keys]
    render(Result(cells(frame, names), names, view=lambda: _view(lead, keys, frame, legend, marks)), fmt)


def _every(frame: pl.DataFrame, every: int, last: int | None) -> pl.DataFrame:
    """Every ``every``-th row of each run and rank, always its last row; then its ``last`` rows."""
    if every > 1:
        i = pl.int_range(pl.len()).over(["run", "rank"])
        frame = frame.filter((i % every == 0) | (i == pl.len().over(["run", "rank"]) - 1))
    if last:
        n = pl.len().over(["run", "rank"]).cast(pl.Int64)  # unsigned: n - last would wrap past 0 and keep nothing
        frame = frame.filter(pl.int_range(pl.len()).over(["run", "rank"]) >= n - last)
    return frame


def cells(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The table's columns, named by their keys (a key with no data gives an empty column)."""
    exprs = []
    for k in keys:
        col = next((c for c in (k, f"metrics.{k}") if c in frame.columns), None)
        exprs.append(pl.col(col).alias(k) if col else pl.lit(None).alias(k))
    return frame.select(exprs)


def _lead(lead: Sequence[str]) -> list[tuple[str, Any]]:
    return [(k, lambda r, k=k: "" if r.get(k) is None else str(r[k])) for k in lead]


def _markdown(lead: Sequence[str], columns: Sequence[Column], rows: list[dict[str, Any]]) -> None:
    heads = [*lead, *(c.header for c in columns)]
    sys.stdout.write("| " + " | ".join(sanitize(h) for h in heads) + " |\n")
    sys.stdout.write("|" + "|".join([*("---" for _ in lead), *("---:" for _ in columns)]) + "|\n")
    for r in rows:
        lead_cells = [sanitize(fn(r)) for _, fn in _lead(lead)]
        sys.stdout.write("| " + " | ".join([*lead_cells, *(c.format(r).strip() for c in columns)]) + " |\n")


def _slim_rows(frame: pl.DataFrame, lead: Sequence[str], marks: Sequence[Resume]) -> list[dict[str, Any]]:
    """The rows as dicts of just what the text table reads row by row: the lead columns and run/rank/ts
    (resume markers); empty dicts when there are neither (every column is read a column at a time)."""
    if not lead and not marks:
        return [{}] * frame.height
    keep = {"run", "rank", "ts", *lead}
    return frame.select([c for c in frame.columns if c in keep]).to_dicts()


def _view(lead: Sequence[str], keys: Sequence[str], frame: pl.DataFrame, legend: bool, marks: list[Resume]) -> None:
    rows = _slim_rows(frame, lead, marks)

    def values(key: str) -> list[Any]:  # what Column.values(rows) finds, read from the frame's column
        col = next((c for c in (key, f"metrics.{key}") if c in frame.columns), None)
        return frame[col].to_list() if col is not None else [None] * frame.height

    columns = step_columns(keys, rows, values)
    pending = list(marks)

    def marker(r: Mapping[str, Any]) -> str | None:
        for m in pending:
            if r.get("run") == m.run and r.get("rank") == m.rank and isinstance(r.get("ts"), float) and r["ts"] >= m.ts:
                pending.remove(m)
                return f"  ↻ resumed here ({Path(m.file).name}:{m.line}): later values of repeated steps shown"
        return None

    lines = step_lines(_lead(lead), columns, rows, console().width, marker if marks else None, values)
    sys.stdout.write("\n".join(lines) + "\n")
    if legend:
        w = max(len(sanitize(c.header)) for c in columns)
        sys.stdout.write(
            "\n"
            + "\n".join(f"{sanitize(c.header).rjust(w)}  {sanitize(c.description or c.key)}" for c in columns)
            + "\n"
        )


def register(app: typer.Typer) -> None:
    app.command("table")(table)
