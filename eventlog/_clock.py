"""The clock the library reads: wall time for ``ts``, a monotonic clock for durations, elapsed and ETA.

By default it is the :mod:`time` module. Tests inject their own with
:func:`use` (an object with ``time()`` and ``monotonic()``), and advance it
explicitly, so what they pin does not depend on how often the code reads it.
A run keeps the clock it started with.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "current", "use"]


class Clock(Protocol):
    """What eventlog reads: ``time()`` (UNIX seconds) and ``monotonic()`` (seconds, for differences)."""

    def time(self) -> float: ...
    def monotonic(self) -> float: ...


_current: Clock = time


def current() -> Clock:
    """The clock a run started now would read."""
    return _current


def use(clock: Clock | None) -> Clock:
    """Read ``clock`` from the next run on (None: the real one); return the previous clock."""
    global _current
    previous, _current = _current, clock if clock is not None else time
    return previous
