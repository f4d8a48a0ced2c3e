"""compare: two or more runs side by side."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer

from eventlog._text import fmt_duration, fmt_num
from eventlog_cli._errors import CliError, guarded
from eventlog_cli._options import Json, Strict
from eventlog_cli._output import console, emit_json, new_table, text
from eventlog_cli._rundata import LIGHT, load_runs

Runs = Annotated[list[str], typer.Argument(help="Two or more run directories or event files (each one run).")]


@guarded
def compare(paths: Runs, json_output: Json = False, strict: Strict = False) -> None:
    """Config differences, final and best of every shared metric with the difference, evals by step, phase times."""
    from eventlog_cli._compare import compare as compare_data

    runs = load_runs(paths, [*LIGHT, "step_metrics", "eval_summary"], strict=strict)
    if len(runs) < 2:
        msg = f"compare needs at least two runs; {' '.join(paths)} holds one"
        raise CliError(msg, 2)
    data = compare_data(runs)
    if json_output:
        emit_json(data)
        return
    _print(data)


def _num(v: Any) -> str:
    return fmt_num(v) if v is not None else "-"


def _diff(v: float | None) -> str:
    return "" if v is None else f"{v:+.4g}"


def _print(data: dict[str, Any]) -> None:
    out = console()
    labels = [r["label"] for r in data["runs"]]
    t = new_table("run", "status", "duration", "steps", "from", title="runs", right=("duration", "steps"))
    for r in data["runs"]:
        t.add_row(
            text(r["label"]), text(r["status"]), text(fmt_duration(r["duration"])), text(_num(r["steps_done"])),
            text(r["source"]),
        )  # fmt: skip
    out.print(t)
    if data["config"]:
        t = new_table("key", *labels, "change", title="config differences")
        for row in data["config"]:
            cells = [text(orjson.dumps(row["values"][lb]).decode() if lb in row["values"] else "—") for lb in labels]
            t.add_row(text(row["key"]), *cells, text(row["status"]))
        out.print(t)
    else:
        out.print(text("config: no differences"))
    deltas = [f"Δ {i + 2}−1" for i in range(len(labels) - 1)]
    if data["metrics"]:
        t = new_table("metric", "", *labels, *deltas, title="metrics (Δ: difference from the first run)",
                      right=(*labels, *deltas))  # fmt: skip
        for m in data["metrics"]:
            finals = [text(_num(s.get("final"))) for s in m["runs"]]
            bests = [text(f"{_num(s.get('best'))} @{_num(s.get('best_step'))}") for s in m["runs"]]
            t.add_row(text(m["metric"]), text("final"), *finals, *(text(_diff(d)) for d in m["diff_final"]))
            t.add_row(text(""), text("best"), *bests, *(text(_diff(d)) for d in m["diff_best"]))
        out.print(t)
    if data["evals"]:
        t = new_table("eval metric", "step", *labels, title="evals by step", right=("step", *labels))
        for ev in data["evals"]:
            for i, row in enumerate(ev["rows"]):
                name = text(ev["metric"] if i == 0 else "")
                t.add_row(name, text(row["step"]), *(text(_num(v)) for v in row["values"]))
        out.print(t)
    if data["phases"]:
        t = new_table("phase", *labels, title="phase time (share of the run)", right=tuple(labels))
        for p in data["phases"]:
            cells = []
            for c in p["runs"]:
                share = f" ({100 * c['share']:.1f}%)" if c and c["share"] is not None else ""
                cells.append(text(f"{fmt_duration(c['seconds'])}{share}" if c else "-"))
            t.add_row(text(p["phase"]), *cells)
        out.print(t)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
