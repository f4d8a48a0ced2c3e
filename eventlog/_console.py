"""The console sink: rendered lines to a stream, coloured only on a terminal.

It runs on the caller's thread, before the event is queued for the file. A
failure while rendering or printing is reported once on stderr and never
stops training.

It never waits for a lock (a design change of issue 9). A signal handler runs
on the main thread in the middle of whatever that thread was doing, possibly
inside our own write to a slow stdout, holding the console lock and the
stream's buffer lock: a handler that emits (``finish()`` on SIGTERM, a user's
SIGUSR1 handler) must not wait for either. So :meth:`Console.show` only
*tries* the lock. When it is taken, a copy of the event is queued, and the
holder (another thread, or the frame the handler interrupted) prints it once
its own write returns; whoever releases the lock looks at the queue again, so
no line is stranded. Lines keep their emit order.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
from collections import deque
from collections.abc import Mapping
from typing import IO, Any

from eventlog._render import Line, Renderer
from eventlog._text import sanitize
from eventlog._trouble import Reporter

__all__ = ["Console", "use_colour"]

_ANSI = {
    "rule": "\x1b[2m",
    "phase": "\x1b[1;36m",
    "ok": "\x1b[32m",
    "warn": "\x1b[33m",
    "error": "\x1b[1;31m",
    "dim": "\x1b[2m",
}
_RESET = "\x1b[0m"


def use_colour(stream: IO[str], env: Mapping[str, str] | None = None) -> bool:
    """Colour when FORCE_COLOR is set, never when NO_COLOR is set, else only on a terminal that is not
    ``TERM=dumb`` (an Emacs shell buffer shows the raw codes)."""
    if env is None:
        env = os.environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    if env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def paint(line: Line, colour: bool) -> str:
    """The line's text, wrapped in ANSI colour codes when ``colour``."""
    code = _ANSI.get(line.style) if colour else None
    return f"{code}{line.text}{_RESET}" if code else line.text


class Console:
    """Print events on rank 0 through a :class:`Renderer`.

    Writes go through ``tqdm.write`` while tqdm bars are active, so bars are
    cleared and redrawn around our lines instead of being broken.
    """

    def __init__(
        self,
        renderer: Renderer,
        stream: IO[str] | None = None,
        *,
        colour: bool | None = None,
        events: frozenset[str] | None = None,
    ) -> None:
        self.renderer = renderer
        self._stream = stream
        self._colour = colour
        self._events = events
        self._lock = threading.Lock()  # only ever tried, never waited for (see the module doc)
        self._pending: deque[dict[str, Any]] = deque()  # events to print once the holder lets go
        self._report = Reporter()

    @property
    def stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stdout

    def show(self, ev: dict[str, Any]) -> None:
        """Render and print one event, now or as soon as the lock's holder lets go; never raises, never waits."""
        if self._events is not None and ev.get("event") not in self._events:
            return
        lock, pending = self._lock, self._pending
        if lock.acquire(blocking=False):
            try:
                while pending:  # queued earlier, while someone else held the lock
                    self._show(pending.popleft())
                self._show(ev)
            finally:
                lock.release()
        else:
            pending.append(copy.deepcopy(ev))  # a copy: emit() keeps the caller's own maps and lists
        while pending and lock.acquire(blocking=False):  # queued while the lock was held
            try:
                while pending:
                    self._show(pending.popleft())
            finally:
                lock.release()

    def _show(self, ev: dict[str, Any]) -> None:
        try:
            lines = self.renderer.render(ev)
            if lines:
                self._write(lines)
        except Exception as exc:  # a broken renderer or stdout must not stop training, nor pass unseen
            self._report(
                "console",
                f"the console could not show a {sanitize(ev.get('event', '?'))!s} event: {exc!r}",
                "Training continues and the event is in the file; further console errors are not printed.",
            )

    def _write(self, lines: list[Line]) -> None:
        stream = self.stream
        colour = use_colour(stream) if self._colour is None else self._colour
        text = "\n".join(paint(line, colour) for line in lines)
        tqdm_mod = sys.modules.get("tqdm")
        bar_cls = getattr(tqdm_mod, "tqdm", None)
        if bar_cls is not None and getattr(bar_cls, "_instances", None):
            bar_cls.write(text, file=stream)
        else:
            stream.write(text + "\n")
        # tqdm.write does not flush: into a file, our lines would wait in the buffer for as long as a bar is
        # open (a whole training loop) and be lost with a killed process
        stream.flush()
