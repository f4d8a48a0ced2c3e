"""``eventlog replay``: the console view the run printed, from the same renderer; ``--follow`` tails."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from typing import Annotated, Any

import orjson
import typer

from eventlog._columns import columns_from_keys
from eventlog._console import paint, use_colour
from eventlog._evalfiles import saved_beside
from eventlog._render import Renderer
from eventlog_cli.commands._config import project_columns
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Events, Paths, Rank, Steps, Strict, split_names
from eventlog_cli.commands._read import read
from eventlog_cli.errors import UsageError
from eventlog_cli.query.select import regex, select_events
from eventlog_cli.read import resolve_paths


@guarded
def replay(
    paths: Paths = None,
    style: Annotated[str, typer.Option("--style", help="banner (the run's META LOG) or compact.")] = "banner",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also group tables and samples.")] = False,
    event: Events = None,
    phase: Annotated[str | None, typer.Option("--phase", help="Only events inside phases of this name.")] = None,
    steps: Steps = None,
    rank: Rank = None,
    grep: Annotated[str | None, typer.Option("--grep", help="Only lines matching this regex.")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep reading a growing file.")] = False,
    strict: Strict = False,
) -> None:
    """Show the console view the run printed, from the same renderer."""
    if style not in ("banner", "compact"):
        raise UsageError(f"--style {style!r}: expected banner or compact")
    cols = project_columns()
    beside: dict[str, Any] = {}  # the events file being shown: its eval_logs/ are named as the run named them
    renderer = Renderer(
        style,
        verbose=verbose,
        columns=columns_from_keys(cols) if cols else None,
        eval_saved=lambda ev: beside["saved"](ev) if "saved" in beside else None,
    )
    rx = regex(grep) if grep else None
    colour = use_colour(sys.stdout)
    loaded = read(paths, strict=strict)
    names = split_names(event)
    for rec, _ in select_events(loaded.records(), names, rank, steps, phase):
        name = loaded.files[rec.file]
        if name != "-" and beside.get("file") != name:
            beside.update(file=name, saved=saved_beside(name))
        _print(renderer, rec.event, rx, colour)
    if follow:
        files = resolve_paths(paths or [])
        if len(files) != 1 or files[0] == "-":
            raise UsageError("--follow needs exactly one file or a run directory with one events file")
        beside.update(file=files[0], saved=saved_beside(files[0]))
        for ev in _tail(files[0]):
            if (names and ev.get("event") not in names) or (rank is not None and ev.get("rank") != rank):
                continue
            _print(renderer, ev, rx, colour)


def _print(renderer: Renderer, ev: dict[str, Any], rx: re.Pattern[str] | None, colour: bool) -> None:
    lines = renderer.render(ev)
    if rx is not None:
        lines = [ln for ln in lines if rx.search(ln.text)]
    if lines:
        sys.stdout.write("\n".join(paint(ln, colour) for ln in lines) + "\n")
        sys.stdout.flush()


def _tail(path: str, poll: float = 0.5) -> Iterator[dict[str, Any]]:
    """Complete lines appended to ``path`` from now on; Ctrl-C ends it."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        pending = b""
        while True:
            chunk = f.read()
            if not chunk:
                time.sleep(poll)
                continue
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                try:
                    ev = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(ev, dict):
                    yield ev


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
