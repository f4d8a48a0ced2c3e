"""``eventlog grep``: events whose text or fields match, with the phase path and step they happened in."""

from __future__ import annotations

import sys
from collections import deque
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
from eventlog_cli.query.select import Selector, check_events, regex
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
    names = split_names(event)
    loaded = read(paths, strict=strict)
    check_events(names, loaded.present())
    renderer = Renderer("compact", verbose=True)
    sel = Selector(names, rank)
    several = rank is None and len(loaded.ranks(names or None)) > 1  # several ranks: each line says whose it is
    lines = _Lines(context, several)
    rows = []
    for rec in loaded.stream():  # one event at a time: memory stays bounded at any size
        if (ctx := sel.keep(rec)) is None:
            continue
        text = renderer.oneline(rec.event)
        hit = rx.search(text) is not None or rx.search(dumps(rec.event).decode()) is not None
        if fmt != "table":
            if hit:
                rows.append({"path": path_text(ctx.path), "step": ctx.step, "event": rec.event})
        else:
            lines.add(rec, ctx, text, hit)
    if fmt == "table":
        if not lines.hits:
            raise NoMatchError
        return
    render(Result(rows, ["path", "step", "event"]), fmt)


class _Lines:
    """The terminal view, printed as the events stream past: each match (``>``) with ``context`` events before
    and after it, ``--`` between runs of lines that are not next to each other."""

    def __init__(self, context: int, ranks: bool) -> None:
        self.context, self.ranks = context, ranks
        self.before: deque[tuple[int, Record, Context, str]] = deque(maxlen=context)
        self.after = 0  # events still to show after the last match
        self.index = -1
        self.shown = -1  # index of the last event shown
        self.hits = 0

    def add(self, rec: Record, ctx: Context, text: str, hit: bool) -> None:
        self.index += 1
        if hit:
            self.hits += 1
            while self.before:
                self._write(*self.before.popleft(), " ")
            self._write(self.index, rec, ctx, text, ">")
            self.after = self.context
        elif self.after:
            self._write(self.index, rec, ctx, text, " ")
            self.after -= 1
        elif self.context:
            self.before.append((self.index, rec, ctx, text))

    def _write(self, i: int, rec: Record, ctx: Context, text: str, mark: str) -> None:
        if self.context and self.shown >= 0 and i > self.shown + 1:
            sys.stdout.write("--\n")
        self.shown = i
        step = f" step {ctx.step}" if ctx.step is not None else ""
        who = f"rank {sanitize(rec.event.get('rank'))}: " if self.ranks else ""
        sys.stdout.write(f"{mark} [{who}{path_text(ctx.path)}{step}] {text or rec.event.get('event')}\n")


def register(app: typer.Typer) -> None:
    app.command("grep")(grep)
