"""Signals and eventlog's own threads: keep signals off our threads, and make sure SIGTERM's handler runs.

Two problems of Python signal handlers with a background thread:

* The kernel gives a signal sent to the process to any thread that does not
  block it. Taken by one of our threads, it interrupts nothing on the main
  thread, which stays blocked in whatever it waits for. So our threads start
  with the asynchronous signals blocked (:func:`start_masked`).
* A Python handler runs only when the main thread next executes bytecode. A
  signal that lands just before the main thread blocks in a lock (a Pool
  worker waiting for a task when ``Pool.terminate()`` sends SIGTERM) is
  noted at C level and then never acted on: the process ignores SIGTERM
  forever. So :class:`Watchdog` reads the signal wakeup fd on a thread of its
  own, and when SIGTERM's handler has not run shortly after the signal
  arrived, sends SIGTERM to the main thread again (``pthread_kill``), which
  interrupts the blocking call so that the handler runs.

This module knows nothing of runs; ``_hooks`` uses it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable

__all__ = ["ASYNC_SIGNALS", "Watchdog", "start_masked"]

ASYNC_SIGNALS = frozenset(
    {
        signal.SIGTERM,
        signal.SIGINT,
        signal.SIGHUP,
        signal.SIGQUIT,
        signal.SIGUSR1,
        signal.SIGUSR2,
        signal.SIGALRM,
        signal.SIGCHLD,
        signal.SIGWINCH,
        signal.SIGCONT,
        signal.SIGTSTP,
    }
)
_GRACE = 0.25  # seconds the main thread has to run the handler before the signal is sent again
_RESENDS = 40


def start_masked(thread: threading.Thread) -> None:
    """Start ``thread`` with the asynchronous signals blocked (a new thread inherits the mask)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, ASYNC_SIGNALS)
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class Watchdog:
    """Re-send ``signum`` to the main thread until its Python handler has run (see the module doc).

    Call :meth:`handled` first thing in the handler. Only on the main thread,
    and only when nobody else uses the signal wakeup fd (asyncio does; then
    there is no watchdog). ``ours`` says whether the handler is still ours:
    one installed after it (a framework's) is never sent the signal again.
    """

    def __init__(self, signum: int, ours: Callable[[], bool] = lambda: True) -> None:
        self.signum = signum
        self._ours = ours
        self._runs = 0  # handler runs so far
        self._own = 0  # signals we sent ourselves, whose wakeup bytes are not news
        self._r, self._w = os.pipe()
        os.set_blocking(self._w, False)
        self.active = False
        try:
            previous = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        except (ValueError, OSError):
            previous = -2
        if previous != -1:  # someone else's (asyncio), or not the main thread: leave it to them
            if previous >= 0:
                signal.set_wakeup_fd(previous)
            self._close()
            return
        self.active = True
        self._main = threading.main_thread().ident or 0
        start_masked(threading.Thread(target=self._watch, name="eventlog-signals", daemon=True))

    def handled(self) -> None:
        """The handler runs (call it first thing in the handler)."""
        self._runs += 1

    def detach(self) -> None:
        """In a forked child: stop using the parent's pipe (the thread did not survive the fork)."""
        if self.active:
            self.active = False
            with contextlib.suppress(ValueError, OSError):
                if signal.set_wakeup_fd(-1) != self._w:
                    signal.set_wakeup_fd(-1)
        self._close()

    def _close(self) -> None:
        for fd in (self._r, self._w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _watch(self) -> None:
        confirmed = 0  # handler runs accounted for
        mark = bytes([self.signum])
        while True:
            try:
                data = os.read(self._r, 64)
            except OSError:
                return
            if not data:
                return
            news = data.count(mark)
            own = min(news, self._own)
            self._own -= own
            if news == own:
                continue
            for _ in range(_RESENDS):
                time.sleep(_GRACE)
                if self._runs > confirmed or not self.active or not self._ours():
                    break
                self._own += 1
                with contextlib.suppress(OSError, ValueError):
                    signal.pthread_kill(self._main, self.signum)  # interrupts the blocking call: the handler runs
            confirmed = self._runs
