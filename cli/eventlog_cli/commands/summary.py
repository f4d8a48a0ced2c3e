"""``eventlog summary``: one screen per run (status, duration, steps, phases, metrics, warnings)."""

from __future__ import annotations

from typing import Any

import typer
from rich.text import Text

from eventlog._text import fmt_bytes, fmt_duration, fmt_num, sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, Strict, output_format
from eventlog_cli.commands._output import console, new_table, text
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.query.summary import summarize

COLUMNS = ["run", "metric", "last", "last_step", "best", "best_step"]


@guarded
def summary(paths: Paths = None, json_output: Json = False, csv_output: Csv = False, strict: Strict = False) -> None:
    """One screen per run: status, duration, steps, phases, metrics, checkpoints, warnings.

    ``--json`` is one object per run (a list when there are several runs); ``--csv`` is the
    metrics table of every run.
    """
    fmt = output_format(json_output, csv_output)
    result = summarize(read(paths, strict=strict))
    rows = [{"run": s["run"], **m} for s in result for m in s["metrics"]]
    data = result if len(result) > 1 else result[0]
    render(Result(rows, COLUMNS, data=data, view=lambda: _print_all(result)), fmt)


def _print_all(result: list[dict[str, Any]]) -> None:
    for s in result:
        _print_summary(s)


def _print_summary(s: dict[str, Any]) -> None:
    out = console()
    status = s["status"] + (" (inferred: no run_end)" if s["status_inferred"] else "")
    if s.get("mode"):
        status += f" ({s['mode']})"
    style = {"completed": "green", "failed": "bold red"}.get(s["status"], "yellow")
    out.print(Text.assemble("run ", text(s["run"], "bold"), ": ", text(status, style)))
    steps = f"{fmt_num(s['steps_done'])}/{fmt_num(s['total_steps'])}" if s["steps_done"] is not None else "-"
    out.print(text(f"duration {fmt_duration(s['duration'])} | steps {steps}"))
    if s.get("error"):
        out.print(text(f"error: {s['error']}", "red"))
    if s["phases"]:
        t = new_table("phase", "runs", "time", "share", right=("runs", "time", "share"))
        for p in s["phases"]:
            share = f"{100 * p['share']:.1f}%" if p["share"] is not None else ""
            t.add_row(text(p["phase"]), text(p["runs"]), text(fmt_duration(p["total"])), text(share))
        out.print(t)
    if s["metrics"]:
        t = new_table("metric", "last", "at step", "best", "at step", right=("last", "at step", "best"))
        for m in s["metrics"]:
            t.add_row(
                text(m["metric"]),
                text(fmt_num(m["last"])),
                text(m["last_step"]),
                text(fmt_num(m["best"])),
                text(fmt_num(m["best_step"])),
            )
        out.print(t)
    ck = s["checkpoints"]
    if ck:
        last = ck[-1]
        out.print(
            text(
                f"checkpoints: {len(ck)}, last at step {fmt_num(last['step'])}: {sanitize(last['path'])}"
                + (f" ({fmt_bytes(last['size_bytes'])})" if last.get("size_bytes") is not None else "")
            )
        )
    out.print(text("warnings:" if s["warnings"] else "warnings: none", "yellow" if s["warnings"] else ""))
    for w in s["warnings"]:
        out.print(text(f"  ⚠ {w}", "yellow"))
    out.print()


def register(app: typer.Typer) -> None:
    app.command("summary")(summary)
