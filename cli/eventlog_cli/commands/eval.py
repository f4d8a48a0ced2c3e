"""``eventlog eval``: every statistic of one eval step; ``--json`` is the flat object of eval_step_XXXX.json.

Several splits evaluated at the step are each shown, never one for all: ``--json`` is then
the list of their flat objects, ``--csv`` has a ``split`` column.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from eventlog._evalfiles import flat_eval
from eventlog._text import fmt_duration, fmt_num, sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, Rank, Split, Strict, output_format
from eventlog_cli.commands._output import new_table, print_table, text
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.errors import DataError
from eventlog_cli.query.metrics import evals_at, only_split, split_label
from eventlog_cli.query.runs import RunIds, default_rank, latest_per_step, only_rank


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

    Evals of several splits at the step are each shown (``accuracy [val]``, ``accuracy [test]``;
    ``--json``: a list of their flat objects; ``--csv``: a ``split`` column); ``--split`` picks one.
    """
    fmt = output_format(json_output, csv_output)
    loaded = read(paths, ["eval_summary"], strict=strict)
    frame = loaded.frame("eval_summary")
    frame = RunIds.of(loaded.files, (), frame).relabel(frame)  # two directories' "demo" runs are two runs
    ranks = sorted({r for r in frame["rank"].to_list() if r is not None}) if "rank" in frame.columns else []
    if rank is None and len(ranks) > 1:  # each rank logged its evals: one rank's, never a mix of them
        rank = default_rank(ranks)
        sys.stderr.write(f"note: evals of ranks {', '.join(map(str, ranks))}; showing rank {rank} (--rank N)\n")
    frame = only_split(only_rank(frame, rank), split)
    runs = frame["run"].unique(maintain_order=True).to_list() if frame.height else []
    if len(runs) > 1:
        named = ", ".join(sanitize(r) for r in runs)
        raise DataError(f"eval shows one run's eval; these files hold {len(runs)} runs ({named}): give one run's path")
    evals = evals_at(latest_per_step(frame), step)
    several = len(evals) > 1
    rows = [({"split": e.get("split")} if several else {}) | r for e in evals for r in _rows(e)]
    columns = ["split", "metric", "value"] if several else ["metric", "value"]
    data = [flat_eval(e) for e in evals] if several else flat_eval(evals[0])
    render(Result(rows, columns, data=data, view=lambda: _view(evals)), fmt)


def _rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One eval's statistics as metric/value rows: each metric, then total and duration."""
    rows = [{"metric": k, "value": v} for k, v in data["metrics"].items()]
    return rows + [{"metric": k, "value": data[k]} for k in ("total", "duration") if k in data]


def _view(evals: list[dict[str, Any]]) -> None:
    one = evals[0] if len(evals) == 1 else {}  # several splits: each row names its split
    title = f"eval at step {evals[0]['step']}" + (f" [{sanitize(one['split'])}]" if one.get("split") else "")
    t = new_table("metric", "value", title=title, right=("value",))
    for e in evals:
        for r in _rows(e):
            k, v = r["metric"], r["value"]
            name = split_label(k, e.get("split")) if len(evals) > 1 else k
            t.add_row(text(name), text(fmt_duration(v) if k == "duration" else fmt_num(v)))
    print_table(t)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
