"""``eventlog table``: the per-step metrics table (the run's step table, or JSON/CSV/Markdown)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import polars as pl
import typer

from eventlog._columns import DEFAULT_COLUMNS, Column, StepTable, columns_from_keys
from eventlog._text import sanitize
from eventlog_cli.commands._config import project_columns
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, Rank, Strict, output_format
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.errors import DataError


@guarded
def table(
    paths: Paths = None,
    cols: Annotated[
        str | None, typer.Option("--cols", help="Comma-separated keys: step,loss,kl,timing.step...")
    ] = None,
    every: Annotated[int, typer.Option("--every", min=1, help="Every Nth step.")] = 1,
    last: Annotated[int | None, typer.Option("--last", min=1, help="Only the last N rows.")] = None,
    legend: Annotated[bool, typer.Option("--legend", help="Explain the columns.")] = False,
    rank: Rank = None,
    json_output: Json = False,
    csv_output: Csv = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="A Markdown table.")] = False,
    strict: Strict = False,
) -> None:
    """The per-step metrics table."""
    fmt = output_format(json_output, csv_output)
    loaded = read(paths, ["step_metrics"], strict=strict)
    keys = [c.strip() for c in cols.split(",")] if cols else project_columns()
    keys = keys or default_keys(loaded.keys("step_metrics"))
    columns = columns_from_keys(keys)
    metric_keys = [k.removeprefix("metrics.") for k in keys if not k.startswith("timing.")]
    timing_keys = [k[7:] for k in keys if k.startswith("timing.")]
    frame = loaded.frame("step_metrics", metrics=metric_keys, timing=timing_keys)
    if frame.height == 0:
        raise DataError("no step_metrics events in these files")
    if rank is not None:
        frame = frame.filter(pl.col("rank") == rank)
    frame = frame.sort("step", maintain_order=True).gather_every(every)
    if last:
        frame = frame.tail(last)
    if markdown and fmt == "table":
        _markdown(columns, frame.to_dicts())
        return
    names = [c.key for c in columns]
    render(Result(cells(frame, names), names, view=lambda: _step_table(columns, frame.to_dicts(), legend)), fmt)


def default_keys(metrics: list[str]) -> list[str]:
    """The default columns whose metric occurs in the run (step, epoch and timing always)."""
    return [
        c.key for c in DEFAULT_COLUMNS if c.key in ("step", "epoch") or c.key.startswith("timing.") or c.key in metrics
    ]


def cells(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The table's columns, named by their keys (a key with no data gives an empty column)."""
    exprs = []
    for k in keys:
        col = next((c for c in (k, f"metrics.{k}") if c in frame.columns), None)
        exprs.append(pl.col(col).alias(k) if col else pl.lit(None).alias(k))
    return frame.select(exprs)


def _markdown(columns: Sequence[Column], rows: list[dict[str, object]]) -> None:
    sys.stdout.write("| " + " | ".join(sanitize(c.header) for c in columns) + " |\n")
    sys.stdout.write("|" + "|".join("---:" for _ in columns) + "|\n")
    for r in rows:
        sys.stdout.write("| " + " | ".join(c.format(r).strip() for c in columns) + " |\n")


def _step_table(columns: Sequence[Column], rows: list[dict[str, object]], legend: bool) -> None:
    st = StepTable(columns, header_every=10**9)
    sys.stdout.write(st.header() + "\n")
    for r in rows:
        sys.stdout.write(st.row(r) + "\n")
    if legend:
        sys.stdout.write("\n" + "\n".join(st.legend()) + "\n")


def register(app: typer.Typer) -> None:
    app.command("table")(table)
