"""Process hooks: atexit, uncaught exceptions, SIGTERM, at-fork and the multiprocessing finalizer.

Each hook calls a callable it is given and knows nothing of runs, so the run
state (``_run``) depends on this module and not the other way round. Each kind
of hook is installed once per process.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["install_process_hooks", "install_sigterm", "register_mp_finalizer"]

_installed = False


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


def install_sigterm(on_term: Callable[[], None]) -> None:
    """On SIGTERM call ``on_term``, then die of SIGTERM as the process would have without us.

    Only from the main thread, and only when nobody else handles SIGTERM.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: Any) -> None:
        try:
            on_term()
        finally:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):
        pass


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
