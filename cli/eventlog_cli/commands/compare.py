"""compare: two or more runs side by side."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from eventlog._text import fmt_duration, fmt_num, sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Rank, Strict, output_format
from eventlog_cli.commands._output import console, dumps, new_table, print_table, text
from eventlog_cli.commands._read import read_runs
from eventlog_cli.commands._render import Result, render
from eventlog_cli.errors import UsageError
from eventlog_cli.query.compare import METRIC_COLUMNS, compare
from eventlog_cli.query.rundata import LIGHT

Runs = Annotated[list[str], typer.Argument(help="Two or more run directories or event files (each one run).")]


@guarded
def compare_cmd(
    paths: Runs, rank: Rank = None, json_output: Json = False, csv_output: Csv = False, strict: Strict = False
) -> None:
    """Config differences, final and best of each metric two runs share with the difference, evals by step, phase times.

    Metrics and phase times are each run's rank 0 (or its lowest rank); ``--rank N`` for another.

    --json writes everything as one object; --csv its main table, ``metrics`` (a row per metric and run).
    """
    fmt = output_format(json_output, csv_output)
    runs = read_runs(paths, [*LIGHT, "step_metrics", "eval_summary"], strict=strict, rank=rank, one_rank=True)
    if len(runs) < 2:
        msg = f"compare needs at least two runs; {' '.join(paths)} holds one"
        raise UsageError(msg)
    data = compare(runs)
    render(Result(data["metrics"], METRIC_COLUMNS, data=data, view=lambda: _print(data)), fmt)


def _num(v: Any) -> str:
    return fmt_num(v) if v is not None else "-"


def _diff(v: float | None) -> str:
    return "" if v is None else f"{v:+.4g}"


def _print(data: dict[str, Any]) -> None:
    out = console()
    keys = [r["label"] for r in data["runs"]]
    labels = [sanitize(k) for k in keys]  # column headers are not Text: sanitised here
    t = new_table("run", "status", "duration", "steps", "from", title="runs", right=("duration", "steps"))
    for r in data["runs"]:
        t.add_row(
            text(r["label"]), text(r["status"]), text(fmt_duration(r["duration"])), text(_num(r["steps_done"])),
            text(r["source"]),
        )  # fmt: skip
    print_table(t, out)
    if data["config"]:
        t = new_table("key", *labels, "change", title="config differences")
        for row in data["config"]:
            cells = [text(dumps(row["values"][lb]).decode() if lb in row["values"] else "—") for lb in keys]
            t.add_row(text(row["key"]), *cells, text(row["status"]))
        print_table(t, out)
    else:
        out.print(text("config: no differences"))
    deltas = [f"Δ {i + 2}−1" for i in range(len(labels) - 1)]
    if data["metrics"]:
        t = new_table("metric", "", *labels, *deltas, title="metrics (Δ: difference from the first run)",
                      right=(*labels, *deltas))  # fmt: skip
        by_metric: dict[str, list[dict[str, Any]]] = {}
        for m in data["metrics"]:
            by_metric.setdefault(m["metric"], []).append(m)
        for name, per_run in by_metric.items():
            finals = [text(_num(m["final"])) for m in per_run]
            # no best without a direction (query.metrics.direction: a known name, or none)
            bests = [
                text(f"{_num(m['best'])} @{_num(m['best_step'])}" if m["best"] is not None else "-") for m in per_run
            ]
            t.add_row(text(name), text("final"), *finals, *(text(_diff(m["diff_final"])) for m in per_run[1:]))
            t.add_row(text(""), text("best"), *bests, *(text(_diff(m["diff_best"])) for m in per_run[1:]))
        print_table(t, out)
    alone = data["only_in_one_run"]
    if alone:
        names = ", ".join(f"{sanitize(m['metric'])} ({sanitize(m['run'])})" for m in alone[:12])
        more = f" and {len(alone) - 12} more (--json lists them)" if len(alone) > 12 else ""
        out.print(text(f"not compared, in one run only: {names}{more}"), soft_wrap=True)
    if data["evals"]:
        t = new_table("eval metric", "step", *labels, title="evals by step", right=("step", *labels))
        for ev in data["evals"]:
            for i, row in enumerate(ev["rows"]):
                first = text(ev["metric"] if i == 0 else "")
                t.add_row(first, text(row["step"]), *(text(_num(v)) for v in row["values"]))
        print_table(t, out)
    if data["phases"]:
        t = new_table("phase", *labels, title="phase time (share of the run)", right=tuple(labels))
        for p in data["phases"]:
            cells = []
            for c in p["runs"]:
                share = f" ({100 * c['share']:.1f}%)" if c and c["share"] is not None else ""
                cells.append(text(f"{fmt_duration(c['seconds'])}{share}" if c else "-"))
            t.add_row(text(p["phase"]), *cells)
        print_table(t, out)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_cmd)
