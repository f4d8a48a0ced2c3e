"""``eventlog filter``: matching events as JSONL on stdout, exactly as written (for pipes)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from eventlog_cli._where import where_fields
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Events, Paths, Rank, Steps, Strict, split_names
from eventlog_cli.commands._output import json_line
from eventlog_cli.commands._read import read
from eventlog_cli.errors import DataError
from eventlog_cli.query import compile_where
from eventlog_cli.query.select import Selector, check_events, check_where_keys


@guarded
def filter_(
    paths: Paths = None,
    event: Events = None,
    where: Annotated[
        str | None,
        typer.Option(
            "--where", "-w", help="""e.g. 'metrics.loss > 0.5 and step >= 10' or 'metrics["train/loss"] < 1'."""
        ),
    ] = None,
    steps: Steps = None,
    rank: Rank = None,
    strict: Strict = False,
) -> None:
    """Matching events as JSONL on stdout (for pipes)."""
    pred = compile_where(where) if where else None
    names = split_names(event)
    loaded = read(paths, names, strict=strict)
    try:
        check_events(names, loaded.present())
    except DataError:  # name the types the files do have: read them all (only on this error path)
        check_events(names, read(paths).present())
    if where:
        check_where_keys(where_fields(where), loaded.all_keys)
    out = sys.stdout.buffer
    sel = Selector(names, rank, steps)
    for rec in loaded.stream():  # one event at a time: memory stays bounded at any size
        if sel.keep(rec) is not None and (pred is None or pred(rec.event)):
            out.write(json_line(rec.event))
    out.flush()


def register(app: typer.Typer) -> None:
    app.command("filter")(filter_)
