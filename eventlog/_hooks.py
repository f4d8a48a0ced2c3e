"""Process hooks: atexit, uncaught exceptions, SIGTERM/SIGINT, at-fork and the multiprocessing finalizer.

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
_waiting: tuple[Any, ...] | None = None  # signal hooks asked for on another thread, for the main thread
_watchdog: Watchdog | None = None  # makes sure our SIGTERM handler runs (see _signals)
_on_term: Callable[[int], bool] | None = None  # ends the run inside the handler
_on_chain: Callable[[int], None] | None = None  # records the signal before it is handed on
_previous: dict[int, Any] = {}  # the handler each signal had before ours: the one we hand it to
_handling: set[int] = set()  # signals whose handler is running (on the main thread)
_FORK_BLOCKED = frozenset({signal.SIGTERM, signal.SIGINT})  # blocked across a fork (see _before_fork)
_fork_hooked = False  # the at-fork hooks of the signal handling are registered
_fork_mask: set[int | signal.Signals] | None = None  # the forking thread's mask before _before_fork (forks are serial)


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


def install_sigterm(on_term: Callable[[int], bool], on_chain: Callable[[int], None], mode: str = "auto") -> None:
    """Take SIGTERM and SIGINT as ``mode`` says (see :func:`_wanted`); idempotent.

    On a signal the handler either *chains* (``on_chain(signum)`` records and
    flushes, then the handler found at install time runs, and the process goes
    on unless that handler ends it) or, when no one else handles the signal,
    *ends the run*: ``on_term(signum)``, and when it returns True, die of the
    signal as the process would have without us. ``on_term`` returns False when
    it cannot finish inside the handler (it interrupted the finish already under
    way on this thread); that finish then calls :func:`die_of` when it is done.

    The handler also chains (and never ends the process) when it is no longer
    the process's handler but is called by the one installed after it
    (Lightning's ``fit()`` wraps the handler it finds). Only the main thread can
    install a handler: asked on another thread, the request waits for
    :func:`sigterm_waiting` on the main thread (the next ``emit()`` there).
    """
    global _waiting, _on_term, _on_chain
    if threading.current_thread() is not threading.main_thread():
        _waiting = (on_term, on_chain, mode)
        return
    _waiting = None
    _on_term, _on_chain = on_term, on_chain
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            current = signal.getsignal(signum)
            if current is _handle or not _wanted(signum, current, mode):
                continue
            _previous[signum] = current
            signal.signal(signum, _handle)
            if signum == signal.SIGTERM:
                _start_watchdog()
        except (ValueError, OSError):
            pass


def _wanted(signum: int, current: Any, mode: str) -> bool:
    """Whether to take ``signum`` from ``current``: always in ``chain`` mode; in ``auto`` mode SIGTERM unless
    ignored, SIGINT only from a handler of the program's own (Python's KeyboardInterrupt path records it)."""
    if mode == "chain":
        return True
    if signum == signal.SIGTERM:
        return current is not signal.SIG_IGN
    return callable(current) and current is not signal.default_int_handler


def _handle(signum: int, frame: Any) -> None:
    """The handler of SIGTERM and SIGINT (see :func:`install_sigterm`). It takes no lock.

    Re-entered for the same signal while it hands the signal on, it returns at once: the
    handler it called had wrapped ours (a second ``init()`` during Lightning's ``fit()``
    takes Lightning's handler, which calls ours, as the previous one).
    """
    if _watchdog is not None and signum == _watchdog.signum:
        _watchdog.handled()
    if signum in _handling:
        return
    _handling.add(signum)
    try:
        _dispatch(signum, frame)
    finally:
        _handling.discard(signum)


def _dispatch(signum: int, frame: Any) -> None:
    previous = _previous.get(signum, signal.SIG_DFL)
    called_by_another = signal.getsignal(signum) is not _handle
    if callable(previous) or previous is signal.SIG_IGN or called_by_another or _on_term is None:
        if _on_chain is not None:
            _on_chain(signum)
        if callable(previous):
            previous(signum, frame)
        return
    die = True
    try:
        die = _on_term(signum)
    finally:
        if die:
            die_of(signum)


def _ours() -> bool:
    """Whether SIGTERM's handler is still ours (the watchdog re-sends only to our handler)."""
    return signal.getsignal(signal.SIGTERM) is _handle


def _start_watchdog() -> None:
    global _watchdog, _fork_hooked
    if not _fork_hooked:
        _fork_hooked = True
        os.register_at_fork(before=_before_fork, after_in_parent=_unblock, after_in_child=_watchdog_after_fork)
    if _watchdog is not None and _watchdog.active:
        return
    _watchdog = Watchdog(signal.SIGTERM, _ours)


def _before_fork() -> None:
    """Block SIGTERM and SIGINT in the forking thread until the child has a wakeup fd of its own.

    Unblocked, a signal sent to a child that has just been forked (``Pool.terminate()``
    on a busy machine reaches a worker that has not run yet) is written to the
    parent's wakeup pipe, which the child still shares: the parent's watchdog
    would take it for its own and re-send it to the parent. Or it lands before
    CPython clears the child's pending signals and is lost: the child ignores it
    forever. Blocked, it waits in the kernel and is delivered to the child once
    :func:`_watchdog_after_fork` is done (to the parent once the fork returns).
    """
    global _fork_mask
    with contextlib.suppress(ValueError, OSError):
        _fork_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _FORK_BLOCKED)


def _unblock() -> None:
    """After a fork, in the parent and (last thing) in the child: the forking thread's mask as it was."""
    global _fork_mask
    mask, _fork_mask = _fork_mask, None
    if mask is not None:
        with contextlib.suppress(ValueError, OSError):
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _watchdog_after_fork() -> None:
    """In a forked child that keeps our handler: a watchdog of its own (the parent's pipe is not ours)."""
    global _watchdog
    try:
        if _watchdog is None:
            return
        _watchdog.detach()
        _watchdog = None
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None):
                _watchdog = Watchdog(signal.SIGTERM, _ours)
    finally:
        _unblock()  # a signal that came meanwhile is delivered now, to the child's own handler and pipe


def sigterm_waiting() -> None:
    """On the main thread: install the signal hooks that a run started on another thread asked for."""
    if _waiting is not None and threading.current_thread() is threading.main_thread():
        install_sigterm(*_waiting)


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
