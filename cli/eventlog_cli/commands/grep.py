"""``eventlog grep``: events whose text or fields match, with the phase path and step they happened in."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from eventlog._render import Renderer
from eventlog._text import sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Events, Json, Paths, Rank, Strict, output_format, split_names
from eventlog_cli.commands._output import dumps
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.errors import NoMatchError
from eventlog_cli.query.phases import Context, path_text
from eventlog_cli.query.select import check_events, regex, select_events
from eventlog_cli.read import Record


@guarded
def grep(
    pattern: Annotated[str, typer.Argument(help="A regular expression.")],
    paths: Paths = None,
    context: Annotated[int, typer.Option("--context", "-C", min=0, help="Show N events before and after.")] = 0,
    ignore_case: Annotated[bool, typer.Option("--ignore-case", "-i")] = False,
    event: Events = None,
    rank: Rank = None,
    json_output: Json = False,
    csv_output: Csv = False,
    strict: Strict = False,
) -> None:
    """Events whose text or fields match, with the phase path and step they happened in.

    ``--json`` and ``--csv`` give one row per match: path, step and the event whole.
    """
    fmt = output_format(json_output, csv_output)
    rx = regex(pattern, ignore_case)
    records = read(paths, strict=strict).records()
    check_events(split_names(event), records)
    picked = select_events(records, split_names(event), rank)
    renderer = Renderer("compact", verbose=True)
    texts = [renderer.oneline(rec.event) for rec, _ in picked]
    hits = [i for i, (rec, _) in enumerate(picked) if rx.search(texts[i]) or rx.search(dumps(rec.event).decode())]
    if fmt == "table" and not hits:
        raise NoMatchError
    rows = [
        {"path": path_text(picked[i][1].path), "step": picked[i][1].step, "event": picked[i][0].event} for i in hits
    ]
    render(Result(rows, ["path", "step", "event"], view=lambda: _view(picked, texts, hits, context)), fmt)


def _view(picked: list[tuple[Record, Context]], texts: list[str], hits: list[int], context: int) -> None:
    ranks = len({rec.event.get("rank") for rec, _ in picked}) > 1  # several ranks: each line says whose it is
    shown = -1
    for i in hits:
        lo, hi = max(0, i - context, shown + 1), min(len(picked) - 1, i + context)
        if context and shown >= 0 and lo > shown + 1:
            sys.stdout.write("--\n")
        for j in range(lo, hi + 1):
            rec, ctx = picked[j]
            step = f" step {ctx.step}" if ctx.step is not None else ""
            mark = ">" if j == i else " "
            who = f"rank {sanitize(rec.event.get('rank'))}: " if ranks else ""
            sys.stdout.write(f"{mark} [{who}{path_text(ctx.path)}{step}] {texts[j] or rec.event.get('event')}\n")
        shown = hi


def register(app: typer.Typer) -> None:
    app.command("grep")(grep)
