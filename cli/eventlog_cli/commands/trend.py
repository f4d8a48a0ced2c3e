"""``eventlog trend``: one metric across evals or steps, runs side by side, the best marked."""

from __future__ import annotations

import math
import sys
from typing import Annotated, Any

import orjson
import typer

from eventlog._text import fmt_num, sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import (
    Csv,
    HigherBetter,
    Json,
    LowerBetter,
    Paths,
    Rank,
    Split,
    Strict,
    output_format,
)
from eventlog_cli.commands._output import console, print_rows, text
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.query.metrics import (
    SOURCES,
    direction,
    eval_alias,
    metric_key,
    only_split,
    resolve_metric,
    split_label,
    splits_of,
    trend,
    unknown_metric,
)
from eventlog_cli.query.runs import RunIds, latest_per_step, only_rank, source_of
from eventlog_cli.read import load

_SPARK = "▁▂▃▄▅▆▇█"
COLUMNS = ["run", "step", "value", "change", "best"]


@guarded
def trend_cmd(
    metric: Annotated[str, typer.Argument(help="accuracy, eval.accuracy, step.loss ...")],
    paths: Paths = None,
    higher_better: HigherBetter = False,
    lower_better: LowerBetter = False,
    rank: Rank = None,
    split: Split = None,
    plot: Annotated[
        bool, typer.Option("--plot", help="A chart in the terminal (the sparkline when stdout is not a terminal).")
    ] = False,
    json_output: Json = False,
    csv_output: Csv = False,
    strict: Strict = False,
) -> None:
    """A metric across evals or steps, one or several runs side by side, with the best marked.

    Runs are told apart by where they came from (their directory when run names collide);
    ranks that logged the same values are one series, ranks that differ one series each.
    A repeated step (a resumed run) shows its later value. "best" needs a direction: a
    known name (accuracy, reward, loss...) or ``--higher-better`` / ``--lower-better``.
    Evals of several splits (val, test, HF's named eval sets) are one series each
    (``accuracy [val]``); ``--split NAME`` keeps one.
    """
    fmt = output_format(json_output, csv_output)
    if higher_better and lower_better:
        raise UsageError("--higher-better and --lower-better: choose one")
    # Only lines that hold the key can answer: a literal pre-filter skips the rest before any parsing.
    contains = orjson.dumps(metric_key(metric)).decode()  # the quoted key, whatever follows it
    loaded = read(paths, list(SOURCES.values()), strict=strict, contains=contains)
    try:
        source, name, frame = resolve_metric(loaded, metric)
    except DataError:  # name the metrics that exist: read again without the pre-filter
        everything = read(paths, list(SOURCES.values()))
        try:
            source, name, frame = resolve_metric(everything, metric)
        except DataError:
            alias = eval_alias(metric)  # val_loss as logged, recorded as the val split's loss: that series
            if alias is None:
                raise
            try:
                source, name, frame = resolve_metric(everything, f"eval.{alias[0]}")
            except DataError:
                raise unknown_metric(metric, everything) from None
            if split is None and alias[1] in splits_of(frame):
                split = alias[1]
            sys.stderr.write(f"note: {sanitize(metric)} is recorded as eval.{sanitize(name)} of split {alias[1]}\n")
    if split is not None and source != "eval":
        msg = f"--split selects evals; {source}.{name} is a step metric"
        raise UsageError(msg)
    given = list(dict.fromkeys(map(source_of, loaded.files)))
    lacking = _lacking(loaded.files, given, frame)
    if lacking:  # a run without the metric: said, never dropped from the answer without a word
        where = ", ".join(map(sanitize, lacking))
        sys.stderr.write(f"note: no {source}.{sanitize(name)} in {where}; the trend shows the other runs\n")
    frame = only_split(frame, split)
    frame = latest_per_step(only_rank(_run_ids(loaded.files, lacking, frame).relabel(frame), rank))
    declared = True if higher_better else False if lower_better else None
    rows = trend(frame, name, direction(name, declared))
    data = {"metric": name, "source": source, "rows": rows}
    chart = plot and is_terminal()
    series = [k for k in ("rank", "split") if any(k in r for r in rows)]  # what tells a series' rows apart
    columns = [COLUMNS[0], *series, *COLUMNS[1:]]
    several = len(given) > 1  # several runs asked for: each series is named by its run, even if one is left
    render(Result(rows, columns, data=data, view=lambda: _view(rows, source, name, chart, several)), fmt)


def _run_ids(files: list[str], lacking: list[str], frame: Any) -> RunIds:
    """The run labels of the series, told apart from the runs without the metric (their run_start names them)."""
    ids = RunIds.of(files, (), frame)
    if not lacking:
        return ids
    others = [f for f in files if source_of(f) in lacking]
    starts = load(others, ["run_start"]).records(["run_start"])
    pairs = [*frame.select("file", "run").unique(maintain_order=True).iter_rows()]
    pairs += [(len(files) + r.file, r.event.get("run")) for r in starts]
    return RunIds([*files, *others], pairs)


def _lacking(files: list[str], given: list[str], frame: Any) -> list[str]:
    """The directories (runs) given whose files have no row of the metric."""
    if len(given) < 2 or "file" not in frame.columns:
        return []
    have = {source_of(files[i]) for i in frame["file"].unique().to_list()}
    return [s for s in given if s not in have]


def is_terminal() -> bool:
    return sys.stdout.isatty()


def _series(r: dict[str, Any], several_runs: bool, name: str) -> str:
    """The label of a row's series: the run, the rank when ranks differ, the split when evals have several."""
    parts = [str(r["run"])] if several_runs or ("rank" not in r and "split" not in r) else []
    if "rank" in r:
        parts.append(f"rank {r['rank']}")
    if "split" in r:
        return split_label(" ".join(parts) or name, r["split"])
    return " ".join(parts)


def _view(rows: list[dict[str, Any]], source: str, name: str, chart: bool = False, several: bool = False) -> None:
    several = several or len({r["run"] for r in rows}) > 1
    rows = [{**r, "run": _series(r, several, name)} for r in rows]
    runs = list(dict.fromkeys(r["run"] for r in rows))
    if chart:
        _chart(rows, runs, source, name)
        return
    if len(runs) > 1:
        _side_by_side(rows, runs, source, name)
        return
    out = console()
    for run in runs:
        part = [r for r in rows if r["run"] == run]
        cells = [
            (
                "-" if r["step"] is None else r["step"],  # no step, as table and the several-runs view show it
                fmt_num(r["value"]),
                "" if r["change"] is None else f"{r['change']:+.4g}",
                "★" if r["best"] else "",
            )
            for r in part
        ]
        heads = ("step", sanitize(name), "change", "best")
        print_rows(heads, cells, title=f"{sanitize(run)}: {source}.{sanitize(name)}", right=heads[:3], out=out)
        points = f"{len(part)} point{'s' if len(part) != 1 else ''}"
        out.print(text(f"  {sparkline([r['value'] for r in part])}  ({points})"))


def _chart(rows: list[dict[str, Any]], runs: list[str], source: str, name: str) -> None:
    """The table(s), then a plotext chart with a line per run in place of the sparklines."""
    from eventlog_cli.commands._termplot import terminal_chart

    out = console()
    lines = [(run, [r["step"] for r in rows if r["run"] == run], [r["value"] for r in rows if r["run"] == run])
             for run in runs]  # fmt: skip
    best = ", ".join(
        f"{sanitize(r['run'])} {fmt_num(r['value'])} @{'-' if r['step'] is None else r['step']}"
        for r in rows
        if r["best"]
    )
    height = max(12, min(24, out.height - 4)) if out.is_terminal else 20
    sys.stdout.write(terminal_chart(lines, f"{source}.{name}", width=min(out.width, 120), height=height,
                                    colour=out.is_terminal and not out.no_color) + "\n")  # fmt: skip
    out.print(text(f"best: {best}" if best else "best: -"))


def _side_by_side(rows: list[dict[str, Any]], runs: list[str], source: str, name: str) -> None:
    """Several runs: one row per step, one column per run, the best of each run starred."""
    by = {(r["run"], r["step"]): r for r in rows}
    steps = sorted({r["step"] for r in rows}, key=lambda s: (s is None, isinstance(s, str), s))  # no step: last
    heads = [sanitize(r) for r in runs]
    cells = []
    for s in steps:
        row = ["-" if s is None else s]
        for run in runs:
            r = by.get((run, s))
            row.append("" if r is None else fmt_num(r["value"]) + (" ★" if r["best"] else "  "))
        cells.append(row)
    out = console()
    print_rows(["step", *heads], cells, title=f"{source}.{sanitize(name)}", right=("step", *heads), out=out)
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


def register(app: typer.Typer) -> None:
    app.command("trend")(trend_cmd)
