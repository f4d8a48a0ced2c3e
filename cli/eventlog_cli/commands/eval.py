"""``eventlog eval``: every statistic of one eval; ``--json`` is the flat object of eval_step_XXXX.json."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from eventlog._evalfiles import flat_eval
from eventlog._text import fmt_duration, fmt_num, sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, Rank, Split, Strict, output_format
from eventlog_cli.commands._output import console, new_table, text
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.query.metrics import eval_at, only_split
from eventlog_cli.query.runs import latest_per_step, only_rank


@guarded
def eval_cmd(
    paths: Paths = None,
    step: Annotated[int | None, typer.Option("--step", help="The eval at this step (default: the last).")] = None,
    rank: Rank = None,
    split: Split = None,
    json_output: Json = False,
    csv_output: Csv = False,
    strict: Strict = False,
) -> None:
    """All statistics of one eval; --json prints the flat object the run saved as eval_logs/eval_step_XXXX.json.

    With evals of several splits at one step, the last one logged is shown (its split in the title); ``--split``.
    """
    fmt = output_format(json_output, csv_output)
    frame = only_split(only_rank(read(paths, ["eval_summary"], strict=strict).frame("eval_summary"), rank), split)
    data = eval_at(latest_per_step(frame), step)
    rows = [{"metric": k, "value": v} for k, v in data["metrics"].items()]
    rows += [{"metric": k, "value": data[k]} for k in ("total", "duration") if k in data]
    render(Result(rows, ["metric", "value"], data=flat_eval(data), view=lambda: _view(data)), fmt)


def _view(data: dict[str, Any]) -> None:
    title = f"eval at step {data['step']}" + (f" [{sanitize(data['split'])}]" if data.get("split") else "")
    t = new_table("metric", "value", title=title, right=("value",))
    for k, v in data["metrics"].items():
        t.add_row(text(k), text(fmt_num(v)))
    for k in ("total", "duration"):
        if k in data:
            t.add_row(text(k), text(fmt_duration(data[k]) if k == "duration" else fmt_num(data[k])))
    console().print(t)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
