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
from eventlog._text import sanitize
from eventlog_cli.commands._config import project_columns
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Events, Paths, Rank, Steps, Strict, split_names
from eventlog_cli.commands._read import read
from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.query.select import Selector, check_events, check_phase, regex
from eventlog_cli.read import TOO_DEEP, Loaded, Record, loads_lenient, resolve_paths, too_deep


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
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="Keep reading: every file of the run, new ones too; waits for the run."),
    ] = False,
    until_end: Annotated[
        bool, typer.Option("--until-end", help="With --follow: stop when every file of the run has its run_end.")
    ] = False,
    strict: Strict = False,
) -> None:
    """Show the console view the run printed, from the same renderer.

    ``--follow`` goes on where the first read stopped, in every file of the run (a new rank
    file is picked up), with the same filters; a run that does not exist yet is waited for.
    """
    if style not in ("banner", "compact"):
        raise UsageError(f"--style {style!r}: expected banner or compact")
    if until_end and not follow:
        raise UsageError("--until-end needs --follow")
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
    if follow:
        if "-" in (paths or []):
            raise UsageError("--follow reads files, not stdin")
        _wait_for(paths or [])
    loaded = read(paths, strict=strict)
    names = split_names(event)
    check_events(names, loaded.present())
    if not follow:
        check_phase(phase, loaded.records(["phase_start"]))
    selector = Selector(names, rank, steps, phase)
    files = list(loaded.files)

    def show(rec: Record) -> None:
        if selector.keep(rec) is None:
            return
        name = files[rec.file]
        if name != "-" and beside.get("file") != name:
            beside.update(file=name, saved=saved_beside(name))
        _print(renderer, rec.event, rx, colour)

    for rec in loaded.stream():  # one event at a time: memory stays bounded at any size
        show(rec)
    if follow:
        tail = _Tail(paths or [], loaded, loaded.records(["run_start", "run_end"]))
        files = tail.files  # the same list, grown as new files appear
        for rec in tail.records(until_end):
            show(rec)


def _print(renderer: Renderer, ev: dict[str, Any], rx: re.Pattern[str] | None, colour: bool) -> None:
    lines = renderer.render(ev)
    if rx is not None:
        lines = [ln for ln in lines if rx.search(ln.text)]
    if lines:
        sys.stdout.write("\n".join(paint(ln, colour) for ln in lines) + "\n")
        sys.stdout.flush()


def _wait_for(paths: list[str], poll: float = 0.5) -> None:
    """Return once ``paths`` name event files (a run not started yet is waited for)."""
    told = False
    while True:
        try:
            resolve_paths(paths)
            return
        except DataError as exc:
            if not told:
                sys.stderr.write(f"eventlog: waiting: {exc}\n")
                told = True
        time.sleep(poll)


class _Tail:
    """Complete lines appended to the run's files after the first read, in run order."""

    def __init__(self, paths: list[str], loaded: Loaded, records: list[Record]) -> None:
        self.paths = paths
        self.files = list(loaded.files)
        done = _lines_read(loaded)
        self.lines = {f: done.get(i, 0) for i, f in enumerate(self.files)}
        self.offsets = {f: _offset_after(f, n) for f, n in self.lines.items()}
        self.state: dict[str, str] = {}  # "started" / "ended", from each file's run_start and run_end
        for rec in records:
            self._track(rec)

    def _track(self, rec: Record) -> None:
        kind = rec.event.get("event")
        if kind in ("run_start", "run_end"):
            self.state[self.files[rec.file]] = "started" if kind == "run_start" else "ended"

    def ended(self) -> bool:
        states = set(self.state.values())
        return "ended" in states and "started" not in states

    def records(self, until_end: bool, poll: float = 0.2) -> Iterator[Record]:
        while True:
            if until_end and self.ended():
                return
            try:
                for f in resolve_paths(self.paths):
                    if f not in self.offsets and f.endswith(".jsonl"):
                        self.files.append(f)
                        self.offsets[f], self.lines[f] = 0, 0
            except DataError:
                pass
            batch: list[Record] = []
            for i, f in enumerate(self.files):
                batch += self._read(i, f)
            batch.sort(key=Record.order)
            for rec in batch:
                self._track(rec)
                yield rec
            if not batch:
                time.sleep(poll)

    def _read(self, i: int, path: str) -> list[Record]:
        try:
            with open(path, "rb") as fh:
                fh.seek(self.offsets[path])
                chunk = fh.read()
        except OSError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        out = []
        for line in chunk[: end + 1].split(b"\n")[:-1]:
            self.lines[path] += 1
            try:
                ev = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                ev = loads_lenient(line)  # json.dumps' bare NaN / Infinity: read as the first read reads them
                if ev is None and line.strip():
                    _skipped(path, self.lines[path], f"not valid JSON ({str(exc).split(':')[0][:60]})")
                    continue
            if isinstance(ev, dict) and too_deep(line, ev):  # as the first read sets it aside
                _skipped(path, self.lines[path], TOO_DEEP)
            elif isinstance(ev, dict):
                out.append(Record(i, self.lines[path], ev))
            elif ev is not None:
                _skipped(path, self.lines[path], f"a JSON {type(ev).__name__}, not an object")
        self.offsets[path] += end + 1
        return out


def _skipped(path: str, line: int, reason: str) -> None:
    """A followed line that cannot be an event: named on stderr, never dropped silently."""
    sys.stderr.write(f"warning: {sanitize(path)}:{line}: {reason}; skipped\n")


def _lines_read(loaded: Loaded) -> dict[int, int]:
    """Per file index: how many whole lines the first read used (a torn last line is read again)."""
    done = loaded.last_lines()
    index = {f: i for i, f in enumerate(loaded.files)}
    for s in loaded.skipped:
        if not s.torn and s.path in index:
            done[index[s.path]] = max(done.get(index[s.path], 0), s.line)
    return done


def _offset_after(path: str, lines: int) -> int:
    """The byte offset just after the first ``lines`` newlines of ``path``."""
    if lines == 0:
        return 0
    pos, seen = 0, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count = chunk.count(b"\n")
            if seen + count >= lines:
                idx = -1
                for _ in range(lines - seen):
                    idx = chunk.index(b"\n", idx + 1)
                return pos + idx + 1
            seen += count
            pos += len(chunk)
    return pos


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
