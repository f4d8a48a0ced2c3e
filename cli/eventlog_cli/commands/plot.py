"""``eventlog plot``: metrics of one or more runs as a PNG, SVG or PDF file."""

from __future__ import annotations

import glob
import sys
from pathlib import Path
from typing import Annotated

import typer

from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Rank, Strict
from eventlog_cli.commands._read import read_runs
from eventlog_cli.errors import UsageError
from eventlog_cli.query.metrics import direction, split_label
from eventlog_cli.query.series import Series, column_series, eval_series, find_metric, series_name

Args = Annotated[list[str], typer.Argument(help="METRIC... then RUN... (run directories or event files).")]


def split_args(args: list[str]) -> tuple[list[str], list[str]]:
    """``loss kl runs/a runs/b`` → (metrics, runs): the trailing arguments that name files are runs."""
    k = len(args)
    while k > 0 and (_exists(args[k - 1]) or args[k - 1] == "-" or glob.glob(args[k - 1])):
        k -= 1
    return args[:k], args[k:]


def _exists(arg: str) -> bool:
    try:
        return Path(arg).exists()
    except OSError:  # a name longer than a file name can be (a 300-character metric): not a path
        return False


@guarded
def plot(
    args: Args,
    out: Annotated[Path, typer.Option("--out", "-o", help="The image file: .png, .svg or .pdf.")],
    smooth: Annotated[
        float, typer.Option("--smooth", min=0.0, max=0.999, help="EMA weight as in TensorBoard (0: off).")
    ] = 0.0,
    log: Annotated[bool, typer.Option("--log", help="Logarithmic y axis.")] = False,
    rank: Rank = None,
    strict: Strict = False,
) -> None:
    """Metrics as an image file, one panel per metric and a line per run (the best value starred).

    Each run's lowest rank is drawn; ``--rank N`` for another.
    """
    from eventlog_cli.commands._plotfile import write_plot

    metrics, paths = split_args(args)
    if not metrics:
        raise UsageError("name at least one metric before the runs, e.g. eventlog plot accuracy loss runs/a")
    runs = read_runs(paths, ["run_start", "step_metrics", "eval_summary"], strict=strict, rank=rank)
    frames = [{"eval": r.evals, "step": r.steps} for r in runs]
    panels = []
    for metric in metrics:
        source, col = find_metric(frames, metric)
        lines: list[tuple[str, Series]] = []
        for r, f in zip(runs, frames, strict=True):
            if source == "eval":  # a line per split (val, test), never one zig-zag through both
                splits = eval_series(f["eval"]).get(col[8:], [])
                lines += [(split_label(r.label, (s.name or None) if len(splits) > 1 else None), s) for s in splits]
            elif col in f[source].columns:
                lines.append((r.label, column_series(f[source], col, 2000, direction(series_name(col)))))
        title = f"{source}.{col.split('.', 1)[1]}" if col.startswith("metrics.") else f"step.timing/{col[7:]}"
        panels.append((title, lines))
    write_plot(panels, out, smoothing=smooth, log=log)
    sys.stdout.write(f"{out}\n")


def register(app: typer.Typer) -> None:
    app.command("plot")(plot)
