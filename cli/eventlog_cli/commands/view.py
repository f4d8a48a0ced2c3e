"""replay, grep, filter: events one by one."""

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
from eventlog._render import Renderer
from eventlog_cli._errors import CliError, guarded
from eventlog_cli._load import Loaded, load, resolve_paths
from eventlog_cli._options import Events, Json, Paths, Rank, Steps, Strict, split_names
from eventlog_cli._output import emit_json, json_line
from eventlog_cli._query import annotate, in_steps, parse_steps, path_text
from eventlog_cli._where import compile_where
from eventlog_cli.commands._config import project_columns

_PRIVATE = ("_file", "_line", "_path", "_step")


def _public(ev: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ev.items() if k not in _PRIVATE}


def _select(
    loaded: Loaded, events: list[str] | None, rank: int | None, steps: str | None, phase: str | None = None
) -> list[dict[str, Any]]:
    bounds = parse_steps(steps)
    records = loaded.records()
    annotate(records)
    out = []
    for r in records:
        if events and r.get("event") not in events:
            continue
        if rank is not None and r.get("rank") != rank:
            continue
        if not in_steps(r.get("_step"), bounds):
            continue
        if (
            phase
            and phase not in [n for n, _ in r["_path"]]
            and not (r.get("event") in ("phase_start", "phase_end") and r.get("phase") == phase)
        ):
            continue
        out.append(r)
    return out


def _regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        msg = f"bad regular expression {pattern!r}: {exc}"
        raise CliError(msg, 2) from None


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
        raise CliError(f"--style {style!r}: expected banner or compact", 2)
    cols = project_columns()
    renderer = Renderer(style, verbose=verbose, columns=columns_from_keys(cols) if cols else None)
    rx = _regex(grep) if grep else None
    colour = use_colour(sys.stdout)
    loaded = load(paths or [])
    loaded.report(strict)
    names = split_names(event)
    for ev in _select(loaded, names, rank, steps, phase):
        _print(renderer, _public(ev), rx, colour)
    if follow:
        files = resolve_paths(paths or [])
        if len(files) != 1 or files[0] == "-":
            raise CliError("--follow needs exactly one file or a run directory with one events file", 2)
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


@guarded
def grep(
    pattern: Annotated[str, typer.Argument(help="A regular expression.")],
    paths: Paths = None,
    context: Annotated[int, typer.Option("--context", "-C", help="Show N events before and after.")] = 0,
    ignore_case: Annotated[bool, typer.Option("--ignore-case", "-i")] = False,
    event: Events = None,
    rank: Rank = None,
    json_output: Json = False,
    strict: Strict = False,
) -> None:
    """Events whose text or fields match, with the phase path and step they happened in."""
    rx = _regex(pattern, ignore_case)
    loaded = load(paths or [])
    loaded.report(strict)
    records = _select(loaded, split_names(event), rank, None)
    renderer = Renderer("compact", verbose=True)
    texts = [renderer.oneline(_public(r)) for r in records]
    hits = [
        i for i, r in enumerate(records) if rx.search(texts[i]) or rx.search(orjson.dumps(_public(r)).decode("utf-8"))
    ]
    if json_output:
        emit_json(
            [
                {"path": path_text(records[i]["_path"]), "step": records[i]["_step"], "event": _public(records[i])}
                for i in hits
            ]
        )
        return
    if not hits:
        raise typer.Exit(1)
    shown = -1
    for i in hits:
        lo, hi = max(0, i - context, shown + 1), min(len(records) - 1, i + context)
        if context and shown >= 0 and lo > shown + 1:
            sys.stdout.write("--\n")
        for j in range(lo, hi + 1):
            r = records[j]
            step = f" step {r['_step']}" if r["_step"] is not None else ""
            mark = ">" if j == i else " "
            sys.stdout.write(f"{mark} [{path_text(r['_path'])}{step}] {texts[j] or r.get('event')}\n")
        shown = hi


@guarded
def filter_(
    paths: Paths = None,
    event: Events = None,
    where: Annotated[
        str | None, typer.Option("--where", "-w", help="e.g. 'metrics.loss > 0.5 and step >= 10'.")
    ] = None,
    steps: Steps = None,
    rank: Rank = None,
    strict: Strict = False,
) -> None:
    """Matching events as JSONL on stdout (for pipes)."""
    pred = compile_where(where) if where else None
    loaded = load(paths or [], split_names(event))
    loaded.report(strict)
    out = sys.stdout.buffer
    for r in _select(loaded, split_names(event), rank, steps):
        ev = _public(r)
        if pred is None or pred(ev):
            out.write(json_line(ev))
    out.flush()


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
    app.command("grep")(grep)
    app.command("filter")(filter_)
