"""``eventlog report``: one self-contained HTML file with the charts of one or several runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from eventlog._text import sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Paths, Rank, Strict
from eventlog_cli.commands._read import read_runs
from eventlog_cli.errors import DataError
from eventlog_cli.query.rundata import TYPES


@guarded
def report(
    paths: Paths = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write the HTML (default: report.html).")
    ] = None,
    samples: Annotated[int, typer.Option("--samples", min=0, help="At most N samples per run (wrong first).")] = 200,
    rank: Rank = None,
    strict: Strict = False,
) -> None:
    """An HTML report (works offline): config, phase timeline, eval trends, step metrics, groups, warnings, samples.

    Several runs are overlaid; each path is one run (runs with the same id are labelled by their directory).
    Every rank has its own timeline lane; the metric and eval charts are the lowest rank's (a note says so);
    ``--rank N`` keeps one rank.
    """
    from eventlog_cli.commands._html import render_report

    runs = read_runs(paths, TYPES, strict=strict, rank=rank)
    for run in runs if rank is None else ():
        ranks = sorted({r for f in (run.steps, run.evals) if "rank" in f.columns for r in f["rank"].drop_nulls()})
        if len(ranks) > 1:
            listed = ", ".join(map(str, ranks))
            sys.stderr.write(
                f"note: {sanitize(run.label)}: ranks {listed} logged metrics; the charts show rank {ranks[0]}'s, "
                "the timeline every rank (--rank N for another)\n"
            )
    page = render_report(runs, samples)
    target = out or Path("report.html")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
    except OSError as exc:
        msg = f"{target}: cannot write the report ({exc.strerror or exc}); pass another --out"
        raise DataError(msg) from None
    sys.stdout.write(f"{target}\n")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
