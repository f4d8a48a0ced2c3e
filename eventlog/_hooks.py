"""Process hooks: atexit, uncaught exceptions, SIGTERM, at-fork and the multiprocessing finalizer.

Each hook calls a callable it is given and knows nothing of runs, so the run
state (``_run``) depends on this module and not the other way round. Each kind
of hook is installed once per process.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from eventlog._signals import Watchdog

__all__ = ["die_of", "install_process_hooks", "install_sigterm", "register_mp_finalizer", "sigterm_waiting"]

_installed = False
_waiting: Callable[[], bool] | None = None  # a SIGTERM hook asked for on another thread, for the main thread
_watchdog: Watchdog | None = None  # makes sure our SIGTERM handler runs (see _signals)


def install_process_hooks(
    *,
    at_exit: Callable[[], None],
    on_uncaught: Callable[[type[BaseException], BaseException], None],
    after_fork: Callable[[], None],
) -> None:
    """Install, once per process: ``at_exit`` at interpreter exit, ``on_uncaught`` before the
    previous ``sys.excepthook``, ``after_fork`` in every forked child."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(_guarded(at_exit))
    previous = sys.excepthook

    def hook(tp: type[BaseException], value: BaseException, tb: Any) -> None:
        on_uncaught(tp, value)
        previous(tp, value, tb)

    sys.excepthook = hook
    os.register_at_fork(after_in_child=after_fork)


def install_sigterm(on_term: Callable[[], bool]) -> None:
    """On SIGTERM call ``on_term``; when it returns True, die of SIGTERM as the process would have without us.

    ``on_term`` returns False when it cannot finish inside the handler (it
    interrupted the finish already under way on this thread); that finish then
    calls :func:`die_of` when it is done. Only the main thread can install a
    handler: asked on another thread, the request waits for
    :func:`sigterm_waiting` on the main thread (the next ``emit()`` there). Only
    when nobody else handles SIGTERM.
    """
    global _waiting
    if threading.current_thread() is not threading.main_thread():
        _waiting = on_term
        return
    _waiting = None

    def handler(signum: int, frame: Any) -> None:
        if _watchdog is not None:
            _watchdog.handled()
        die = True
        try:
            die = on_term()
        finally:
            if die:
                die_of(signum)

    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, handler)
            _start_watchdog()
    except (ValueError, OSError):
        pass


def _start_watchdog() -> None:
    global _watchdog
    if _watchdog is None:
        os.register_at_fork(after_in_child=_watchdog_after_fork)
    elif _watchdog.active:
        return
    _watchdog = Watchdog(signal.SIGTERM)


def _watchdog_after_fork() -> None:
    """In a forked child that keeps our handler: a watchdog of its own (the parent's pipe is not ours)."""
    global _watchdog
    if _watchdog is None:
        return
    _watchdog.detach()
    _watchdog = None
    with contextlib.suppress(ValueError, OSError):
        if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None):
            _watchdog = Watchdog(signal.SIGTERM)


def sigterm_waiting() -> None:
    """On the main thread: install the SIGTERM hook that a run started on another thread asked for."""
    if _waiting is not None and threading.current_thread() is threading.main_thread():
        install_sigterm(_waiting)


def die_of(signum: int) -> None:
    """End the process by ``signum`` with its default action (the exit status a scheduler expects)."""
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def register_mp_finalizer(fn: Callable[[], None]) -> None:
    """multiprocessing children leave through os._exit: call ``fn`` in its exit finalizers."""
    mp = sys.modules.get("multiprocessing")
    if mp is None:
        return
    try:
        from multiprocessing import util

        if mp.current_process().name != "MainProcess":
            util.Finalize(None, _guarded(fn), exitpriority=100)
    except Exception:
        pass


def _guarded(fn: Callable[[], None]) -> Callable[[], None]:
    """An exit hook that prints its traceback instead of raising (exit must go on)."""

    def call() -> None:
        try:
            fn()
        except Exception:
            traceback.print_exc()

    return call
