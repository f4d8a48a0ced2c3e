"""phases, table, trend, eval: the run's shape and its numbers."""

from __future__ import annotations

import math
import sys
from typing import Annotated, Any

import orjson
import polars as pl
import typer

from eventlog._columns import StepTable, columns_from_keys
from eventlog._text import fmt_duration, fmt_num, sanitize
from eventlog_cli._errors import CliError, guarded
from eventlog_cli._load import load
from eventlog_cli._options import Csv, Json, Paths, Rank, Strict
from eventlog_cli._output import console, emit_csv, emit_json, emit_json_rows, new_table, text
from eventlog_cli._query import collapse_steps, eval_at, phase_counts, phase_rows, resolve_metric, trend
from eventlog_cli.commands._config import project_columns

_SPARK = "▁▂▃▄▅▆▇█"


def _offset(s: float) -> str:
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
    strict: Strict = False,
) -> None:
    """The phase timeline: nesting, step, start offset, duration, status, and counts."""
    loaded = load(paths or [], ["phase_start", "phase_end", "run_start", "run_end"])
    loaded.report(strict)
    records = loaded.records()
    if rank is not None:
        records = [r for r in records if r.get("rank") == rank]
    rows = phase_rows(records)
    if not rows:
        raise CliError("no phases in these events")
    shown = rows if all_steps else collapse_steps(rows)
    counts = phase_counts(rows)
    if json_output:
        emit_json(
            {
                "phases": [
                    {
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
                        **({"last_step": r.last_step} if r.count > 1 else {}),
                    }
                    for r in shown
                ],
                "counts": [{"phase": n, "runs": c, "total": t, "not_ok": bad} for n, c, t, bad in counts],
            }
        )
        return
    ranks = {r.rank for r in rows}
    cols = ["phase", "step", "start", "duration", "status"] + (["rank"] if len(ranks) > 1 else [])
    table = new_table(*cols, right=("step", "start", "duration"))
    for r in shown:
        name = "  " * r.depth + sanitize(r.name)
        step = fmt_num(r.step) if r.step is not None else ""
        if r.count > 1:
            name += f" ×{r.count}"
            step = f"{fmt_num(r.step)}–{fmt_num(r.last_step)}"
        style = {"ok": "green", "failed": "bold red"}.get(r.status, "yellow")
        cells = [text(name), text(step), text(_offset(r.start)), text(fmt_duration(r.duration)), text(r.status, style)]
        table.add_row(*cells, *([text(r.rank)] if len(ranks) > 1 else []))
    out = console()
    out.print(table)
    for name, n, total, bad in counts:
        note = f" ({bad} not ok)" if bad else ""
        out.print(text(f"{name}: {n} run{'s' if n != 1 else ''}, {fmt_duration(total)} total{note}"))


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
    loaded = load(paths or [], ["step_metrics"])
    loaded.report(strict)
    keys = [c.strip() for c in cols.split(",")] if cols else project_columns()
    keys = keys or _default_keys(loaded.keys("step_metrics"))
    columns = columns_from_keys(keys)
    metric_keys = [k.removeprefix("metrics.") for k in keys if not k.startswith("timing.")]
    timing_keys = [k[7:] for k in keys if k.startswith("timing.")]
    frame = loaded.frame("step_metrics", metrics=metric_keys, timing=timing_keys)
    if frame.height == 0:
        raise CliError("no step_metrics events in these files")
    if rank is not None:
        frame = frame.filter(pl.col("rank") == rank)
    frame = frame.sort("step", maintain_order=True).gather_every(every)
    if last:
        frame = frame.tail(last)
    rows = frame.to_dicts()
    if json_output:
        emit_json_rows(_cells_frame(frame, [c.key for c in columns]))
    elif csv_output:
        emit_csv([{c.key: _cell(r, c.key) for c in columns} for r in rows], [c.key for c in columns])
    elif markdown:
        sys.stdout.write("| " + " | ".join(sanitize(c.header) for c in columns) + " |\n")
        sys.stdout.write("|" + "|".join("---:" for _ in columns) + "|\n")
        for r in rows:
            sys.stdout.write("| " + " | ".join(c.format(r).strip() for c in columns) + " |\n")
    else:
        st = StepTable(columns, header_every=10**9)
        sys.stdout.write(st.header() + "\n")
        for r in rows:
            sys.stdout.write(st.row(r) + "\n")
        if legend:
            sys.stdout.write("\n" + "\n".join(st.legend()) + "\n")


def _default_keys(metrics: list[str]) -> list[str]:
    """The default columns whose metric occurs in the run (step, epoch and timing always)."""
    from eventlog._columns import DEFAULT_COLUMNS

    return [
        c.key for c in DEFAULT_COLUMNS if c.key in ("step", "epoch") or c.key.startswith("timing.") or c.key in metrics
    ]


def _cells_frame(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The table's columns, named by their keys (a key with no data gives an empty column)."""
    exprs = []
    for k in keys:
        col = next((c for c in (k, f"metrics.{k}") if c in frame.columns), None)
        exprs.append(pl.col(col).alias(k) if col else pl.lit(None).alias(k))
    return frame.select(exprs)


def _cell(row: dict[str, Any], key: str) -> Any:
    for k in (key, f"metrics.{key}"):
        if k in row:
            return row[k]
    return None


@guarded
def trend_cmd(
    metric: Annotated[str, typer.Argument(help="accuracy, eval.accuracy, step.loss ...")],
    paths: Paths = None,
    json_output: Json = False,
    csv_output: Csv = False,
    strict: Strict = False,
) -> None:
    """A metric across evals or steps, one or several runs side by side, with the best marked."""
    prefix, dot, rest = metric.partition(".")
    key = rest if dot and prefix in ("eval", "step") else metric
    # Only lines that hold the key can answer: a literal pre-filter skips the rest before any parsing.
    loaded = load(paths or [], ["eval_summary", "step_metrics"], contains=orjson.dumps(key).decode() + ":")
    loaded.report(strict)
    source, name, frame = resolve_metric(loaded, metric)
    rows = trend(frame, name)
    if json_output:
        emit_json({"metric": name, "source": source, "rows": rows})
        return
    if csv_output:
        emit_csv(rows, ["run", "step", "value", "change", "best"])
        return
    runs = list(dict.fromkeys(r["run"] for r in rows))
    out = console()
    if len(runs) > 1:
        _side_by_side(rows, runs, source, name)
        return
    for run in runs:
        part = [r for r in rows if r["run"] == run]
        t = new_table(
            "step",
            name,
            "change",
            "best",
            title=f"{sanitize(run)}: {source}.{sanitize(name)}",
            right=("step", name, "change"),
        )
        for r in part:
            ch = "" if r["change"] is None else f"{r['change']:+.4g}"
            t.add_row(text(r["step"]), text(fmt_num(r["value"])), text(ch), text("★" if r["best"] else ""))
        out.print(t)
        out.print(text(f"  {sparkline([r['value'] for r in part])}  ({len(part)} points)"))


def _side_by_side(rows: list[dict[str, Any]], runs: list[str], source: str, name: str) -> None:
    """Several runs: one row per step, one column per run, the best of each run starred."""
    by = {(r["run"], r["step"]): r for r in rows}
    steps = sorted({r["step"] for r in rows})
    t = new_table("step", *runs, title=f"{source}.{sanitize(name)}", right=("step", *runs))
    for s in steps:
        cells = []
        for run in runs:
            r = by.get((run, s))
            cells.append(text("" if r is None else fmt_num(r["value"]) + (" ★" if r["best"] else "  ")))
        t.add_row(text(s), *cells)
    out = console()
    out.print(t)
    width = max(len(sanitize(r)) for r in runs)
    for run in runs:
        values = [r["value"] for r in rows if r["run"] == run]
        out.print(text(f"  {sanitize(run).ljust(width)}  {sparkline(values)}"))


def sparkline(values: list[float], width: int = 60) -> str:
    """▁▃▅█ from the finite values (at most ``width`` points, evenly sampled); NaN/Inf shown as ×."""
    if len(values) > width:
        values = [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "×" * len(values)
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    return "".join(_SPARK[int((v - lo) / span * (len(_SPARK) - 1))] if math.isfinite(v) else "×" for v in values)


@guarded
def eval_cmd(
    paths: Paths = None,
    step: Annotated[int | None, typer.Option("--step", help="The eval at this step (default: the last).")] = None,
    json_output: Json = False,
    strict: Strict = False,
) -> None:
    """All statistics of one eval (what eval_step_XXXX.json held)."""
    loaded = load(paths or [], ["eval_summary"])
    loaded.report(strict)
    data = eval_at(loaded.frame("eval_summary"), step)
    if json_output:
        emit_json(data)
        return
    title = f"eval at step {data['step']}" + (f" [{sanitize(data['split'])}]" if data.get("split") else "")
    t = new_table("metric", "value", title=title, right=("value",))
    for k, v in data["metrics"].items():
        t.add_row(text(k), text(fmt_num(v)))
    for k in ("total", "duration"):
        if k in data:
            t.add_row(text(k), text(fmt_duration(data[k]) if k == "duration" else fmt_num(data[k])))
    console().print(t)


def register(app: typer.Typer) -> None:
    from eventlog_cli.commands import report

    app.command("phases")(phases)
    app.command("table")(table)
    app.command("trend")(trend_cmd)
    app.command("eval")(eval_cmd)
    report.register(app)
