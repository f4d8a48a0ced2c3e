"""``eventlog watch``: a live terminal view of a run, from its growing files."""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from eventlog._text import sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Rank
from eventlog_cli.errors import UsageError
from eventlog_cli.query.watch import Tail, WatchState, find_files


def _newest(root: Path) -> Path | None:
    runs = [d for d in root.iterdir() if d.is_dir() and any(d.glob("*.jsonl"))] if root.is_dir() else []
    return max(runs, key=lambda d: max(f.stat().st_mtime for f in d.glob("*.jsonl"))) if runs else None


class Watcher:
    """Reads what was appended to the run's files since the last poll and feeds the state."""

    def __init__(self, target: Path | None, state: WatchState) -> None:
        self.given = target
        self.state = state
        self.tails: dict[Path, Tail] = {}

    @property
    def target(self) -> Path | None:
        return self.given if self.given is not None else _newest(Path("runs"))

    def label(self) -> str:
        t = self.target
        return str(t) if t is not None else "the newest run under ./runs"

    def poll(self, now: float) -> None:
        target = self.target
        for f in find_files(target) if target is not None else []:
            self.tails.setdefault(f, Tail(f))
        for f, tail in self.tails.items():
            more = True
            while more:
                lines, more = tail.read()
                for line in lines:
                    self.state.feed_line(line, str(f), now)
        self.state.tick(now)


@contextlib.contextmanager
def _keys() -> Iterator[Callable[[float], str | None]]:
    """A function waiting up to N seconds for a key (None on timeout); keys only when stdin is a terminal."""
    if not sys.stdin.isatty():
        yield lambda timeout: time.sleep(timeout)  # type: ignore[func-returns-value]
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def key(timeout: float) -> str | None:
        ready, _, _ = select.select([fd], [], [], timeout)
        return os.read(fd, 1).decode(errors="replace") if ready else None

    try:
        yield key
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@guarded
def watch(
    path: Annotated[
        str | None, typer.Argument(help="A run directory or events file (default: the newest run under ./runs).")
    ] = None,
    rows: Annotated[int, typer.Option("--rows", min=1, help="Step rows shown.")] = 8,
    stall: Annotated[float, typer.Option("--stall", min=1, help="Warn when no event came for this many seconds.")] = 30,
    refresh: Annotated[float, typer.Option("--refresh", min=0.05, help="Seconds between refreshes.")] = 0.25,
    once: Annotated[bool, typer.Option("--once", help="Print one frame and exit (for scripts).")] = False,
    rank: Rank = None,
) -> None:
    """A live view of a run: phase and progress with ETA, last steps, sparklines, warnings, final status.

    Waits for a run that does not exist yet; reads only what was appended; q or Ctrl-C quits.
    When stdout is not a terminal, the frame is printed once the run has ended (or on Ctrl-C).
    Phases, steps and metrics are rank 0's; ``--rank N`` for another.
    """
    from rich.console import Console  # rich on use only: `eventlog --help` stays light
    from rich.live import Live

    from eventlog_cli.commands._watchview import render

    packed = path is not None and Path(path).is_dir() and not find_files(Path(path)) and any(Path(path).glob("*.gz"))
    if path == "-" or (path or "").endswith(".gz") or packed:
        msg = f"watch follows a plain .jsonl file as it grows, not stdin or gzip ({sanitize(path)}); use replay on it"
        raise UsageError(msg)
    state = WatchState(rows=rows, stall_after=stall, rank=0 if rank is None else rank)
    watcher = Watcher(Path(path) if path else None, state)
    console = Console(highlight=False, markup=False, emoji=False)
    if once:
        watcher.poll(time.time())
        console.print(render(state, watcher.label(), width=console.width))
        return
    if not console.is_terminal:  # a pipe or a file shows no live frames: the last one, when the run ends
        sys.stderr.write("note: stdout is not a terminal: the frame is printed when the run ends or on Ctrl-C\n")
        watcher.poll(time.time())
        try:
            while state.ended is None or state.still_running():  # a killed run never ends: Ctrl-C prints it
                time.sleep(refresh)
                watcher.poll(time.time())
        except KeyboardInterrupt:
            pass
        console.print(render(state, watcher.label(), width=console.width))
        return
    with _keys() as key, Live(console=console, refresh_per_second=8, auto_refresh=False) as live:
        while True:
            watcher.poll(time.time())
            live.update(render(state, watcher.label(), width=console.width), refresh=True)
            if key(refresh) in ("q", "Q"):
                break


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)
