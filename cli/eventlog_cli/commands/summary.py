"""``eventlog summary``: one screen per run (status, duration, steps, phases, metrics, warnings)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from eventlog._text import fmt_bytes, fmt_duration, fmt_num, label, sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, Rank, Split, Strict, output_format, split_names
from eventlog_cli.commands._output import console, dumps, new_table, print_table, text
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.query.runs import maybe_running
from eventlog_cli.query.summary import TYPES, summarize

COLUMNS = ["run", "metric", "group", "last", "last_step", "best", "best_step", "higher_better"]


@guarded
def summary(
    paths: Paths = None,
    higher_better: Annotated[
        list[str] | None,
        typer.Option("--higher-better", help="Metrics where a larger value is best (repeat or comma-separate)."),
    ] = None,
    lower_better: Annotated[
        list[str] | None,
        typer.Option("--lower-better", help="Metrics where a smaller value is best (repeat or comma-separate)."),
    ] = None,
    rank: Rank = None,
    split: Split = None,
    json_output: Json = False,
    csv_output: Csv = False,
    strict: Strict = False,
) -> None:
    """One screen per run: status, duration, steps, config, phases, metrics, checkpoints, warnings.

    A run is a directory and a run name; timings, metrics and checkpoints are rank 0's
    (``--rank N`` for another), the error is the first failing rank's. Every metric is
    listed, grouped by prefix; "best" only for a known name or one given to
    ``--higher-better`` / ``--lower-better``; evals of several splits are listed per split
    (``eval.accuracy [val]``), ``--split NAME`` keeps one. ``--json`` is always ``{"runs": [...]}``, one
    object per run; ``--csv`` is the metrics table of every run.
    """
    fmt = output_format(json_output, csv_output)
    declared = {n: True for n in split_names(higher_better) or []}
    declared |= {n: False for n in split_names(lower_better) or []}
    result = summarize(read(paths, TYPES, strict=strict, seqs=True), rank, declared, split)
    rows = [{"run": s["run"], **m} for s in result for m in s["metrics"]]
    render(Result(rows, COLUMNS, data={"runs": result}, view=lambda: _print_all(result)), fmt)


def _print_all(result: list[dict[str, Any]]) -> None:
    for s in result:
        _print_summary(s)


def _print_summary(s: dict[str, Any]) -> None:
    from rich.text import Text  # rich on use: eventlog --help stays fast

    out = console()
    status = s["status"] + (" (inferred: no run_end)" if s["status_inferred"] else "")
    live = maybe_running(s)
    if live:
        status = f"{live} (last write)"
    if s.get("mode"):
        status += f" ({s['mode']})"
    style = {"completed": "green", "failed": "bold red"}.get(s["status"], "yellow")
    out.print(Text.assemble("run ", text(s["run"], "bold"), ": ", text(status, style)))
    steps = f"{fmt_num(s['steps_done'])}/{fmt_num(s['total_steps'])}" if s["steps_done"] is not None else "-"
    out.print(text(f"duration {fmt_duration(s['duration'])} | steps {steps}"))
    if s.get("error"):
        who = f" (rank {s['failed_rank']}, the first to fail)" if len(s.get("ranks") or []) > 1 else ""
        out.print(text(f"error{who}: {s['error']}", "red"))
    if len(s.get("ranks") or []) > 1:
        out.print(text(f"ranks {', '.join(map(str, s['ranks']))}; timings and metrics of rank {s['rank']}"))
    if s.get("config"):
        for line in _config_lines(s["config"], out.width):
            out.print(text(line), soft_wrap=True)
    if s["phases"]:
        t = new_table("phase", "runs", "time", "share", right=("runs", "time", "share"))
        for p in s["phases"]:
            share = f"{100 * p['share']:.1f}%" if p["share"] is not None else ""
            t.add_row(text(p["phase"]), text(p["runs"]), text(fmt_duration(p["total"])), text(share))
        print_table(t, out)
    if s["metrics"]:
        t = new_table("metric", "last", "at step", "best", "at step", right=("last", "at step", "best"))
        group = None
        for m in s["metrics"]:
            source, _, name = m["metric"].partition(".")
            name_cell = m["metric"]
            if m.get("group"):
                if (source, m["group"]) != group:
                    group = (source, m["group"])
                    t.add_row(text(label(f"{source}.{m['group']}/")), *(text("") for _ in range(4)))
                name_cell = "  " + name[len(m["group"]) + 1 :]
            t.add_row(
                text(label(name_cell)),
                text(fmt_num(m["last"])),
                text(m["last_step"]),
                text(fmt_num(m["best"])),
                text(fmt_num(m["best_step"])),
            )
        print_table(t, out)
    ck = s["checkpoints"]
    if ck:
        last = ck[-1]
        out.print(
            text(
                f"checkpoints: {len(ck)}, last at step {fmt_num(last['step'])}: {sanitize(last['path'])}"
                + (f" ({fmt_bytes(last['size_bytes'])})" if last.get("size_bytes") is not None else "")
            )
        )
    for u in s.get("config_updates") or []:
        title = "config update" + (f" ({u['source']})" if u.get("source") else "") + ":"
        for line in _config_lines(u["config"], out.width, title):
            out.print(text(line), soft_wrap=True)
    out.print(text("warnings:" if s["warnings"] else "warnings: none", "yellow" if s["warnings"] else ""))
    for w in s["warnings"]:
        out.print(text(f"  ⚠ {w}", "yellow"))
    out.print()


def _config_lines(config: Any, width: int, title: str = "config:") -> list[str]:
    """``config: lr=3e-06  model=Qwen ...`` wrapped at ``width`` between items (nested values as JSON)."""
    if not isinstance(config, dict):
        return [f"{title} {dumps(config).decode()}"]
    items = [f"{k}={v if isinstance(v, str) else dumps(v).decode()}" for k, v in config.items()]
    lines = [title]
    for item in items:
        if len(lines[-1]) > len(title) and len(lines[-1]) + 2 + len(item) > width:
            lines.append(" " * len(title))
        lines[-1] += ("  " if len(lines[-1]) > len(title) else " ") + item
    return lines


def register(app: typer.Typer) -> None:
    app.command("summary")(summary)
