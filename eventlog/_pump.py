"""The pump: an event-agnostic queue, one background thread and a flush barrier.

The caller's thread only appends an item to a deque (and, past a high-water
mark, wakes the thread). The daemon thread wakes every ``interval`` seconds
(or earlier when the queue fills), drains everything queued in rounds, and
hands each round to ``deliver(batch, skipped)``: ``skipped`` is how many items
were dropped at :meth:`Pump.put` since the last round (or counted lost at
their place in the queue by :meth:`Pump.count_drop`), so a sink can leave a
visible gap. The pump never looks inside an item.

Only the pump thread drains the queue while it lives, so no item is ever held
in a frame that a signal handler or KeyboardInterrupt could abandon. Once it
has stopped, a late :meth:`Pump.put` (a thread that emitted while the run
finished) delivers its item itself, so every item put is delivered or counted.
:meth:`Pump.flush` is a barrier: it queues a token and polls until the thread
has delivered past it. Waking the thread is a byte on a pipe, and drop
counters are deques, so nothing on the caller's side takes a lock that a
signal handler on the same thread could already hold. The thread blocks the
asynchronous signals, so a signal sent to the process always lands on a thread
of the program's own (usually the main one), where it interrupts what that
thread is blocked in.

The wake pipe is closed only when the pump is garbage (or abandoned in a
forked child), never while a thread could still write to it: a closed
descriptor's number is reused by the next ``open``, and a late write would land
in someone else's file.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from eventlog._signals import start_masked
from eventlog._trouble import Reporter

__all__ = ["Pump"]

_BATCH = 128  # items per drain round (see _drain): one os.write each
_WAKE_AT = 256  # queued items that wake the thread early: the backlog a SIGKILL can lose stays short
_STOP = object()
_LOST = object()  # count_drop()'s place in the queue

Deliver = Callable[[list[Any], int], None]


class _Token:
    """A flush barrier's marker in the queue."""

    __slots__ = ()


class Pump:
    """Move items from any thread to ``deliver`` on one background thread.

    Args:
        deliver: called on the pump thread with each round of items and the
            number dropped at put() since the last round.
        interval: longest time an item waits in memory, in seconds.
        queue_size: items held before the full-queue policy applies.
        block: when full, block the caller until there is room (else drop).
        report: where problems go (once per kind).
        name: the thread's name.
    """

    def __init__(
        self,
        deliver: Deliver,
        *,
        interval: float = 0.2,
        queue_size: int = 10_000,
        block: bool = True,
        report: Reporter | None = None,
        name: str = "eventlog-writer",
    ) -> None:
        self._deliver = deliver
        self._interval = interval
        self._max = max(1, queue_size)
        self._high = max(1, min(queue_size // 4, _WAKE_AT))
        self._block = block
        self._report = report or Reporter()
        self._q: deque[Any] = deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._drain_lock = threading.Lock()  # pump thread, or the caller once the thread is gone
        self._done: set[object] = set()  # flush tokens delivered past
        self._woken = False
        self.closed = False
        self._final = False  # the thread has stopped: put() delivers on its own thread
        self._close_fds = weakref.finalize(self, _close_fds, self._wake_r, self._wake_w)
        self._close_fds.atexit = False  # at exit a daemon writer may still be mid-write
        self._put_drops: deque[int] = deque()  # one entry per item dropped at put()
        self._put_drops_seen = 0
        self._lost: deque[int] = deque()  # one entry per count_drop()
        self._lost_pending = 0  # lost items met in the queue, not yet handed to deliver as skipped
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        start_masked(self.thread)  # a signal sent to the process never lands on this thread

    # --- caller side --------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Items dropped at put() so far (full queue with block=False, or put after close), or counted lost."""
        return len(self._put_drops) + len(self._lost)

    def put(self, item: Any) -> None:
        """Queue one item; from here on only the pump thread touches it."""
        q = self._q
        if len(q) >= self._high:
            self._wake()
            if len(q) >= self._max and not self._make_room():
                return
        q.append(item)
        if self._final:  # the thread is gone: nobody else will deliver it
            self._drain_here()

    def count_drop(self) -> None:
        """Count an item the caller lost before it could be put; ``deliver`` sees the gap at its place."""
        self._lost.append(1)
        self._q.append(_LOST)  # outside the bound: one per lost item, which is rare (an encoding error)
        if self._final:
            self._drain_here()

    def _wake(self) -> None:
        if self._woken:  # one byte per cycle is enough
            return
        self._woken = True
        try:
            os.write(self._wake_w, b"x")
        except OSError:  # pipe full (a wake is pending anyway) or closed
            pass

    def _make_room(self) -> bool:
        if self._block and not self.closed and threading.current_thread() is not self.thread:
            while len(self._q) >= self._max and self.thread.is_alive():
                self._wake()
                time.sleep(0.0005)
            return True
        why = "the log was closed" if self.closed else f"the queue was full ({self._max} events; on_full='drop')"
        self._put_drops.append(1)
        self._report("full", f"event(s) dropped: {why}")
        return False

    def flush(self, timeout: float, what: str) -> None:
        """Return once everything queued before the call is delivered (or ``timeout`` passed)."""
        if threading.current_thread() is self.thread:
            self._drain()
            return
        token = _Token()
        self._q.append(token)
        self._wake()
        deadline = time.monotonic() + timeout
        while token not in self._done:
            if not self.thread.is_alive():
                self._drain_here()
                break
            if time.monotonic() > deadline:
                self._report("stuck", f"flush of {what} timed out after {timeout:.0f} s; events stay queued")
                break
            time.sleep(0.0005)
        self._done.discard(token)

    def _drain_here(self) -> None:
        """Drain on the calling thread: only once the pump thread has ended."""
        if self._drain_lock.acquire(timeout=1.0):
            try:
                self._drain()
            finally:
                self._drain_lock.release()

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued and stop the thread."""
        if self.closed:
            return
        self.closed = True
        self._q.append(_STOP)
        self._wake()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)
        if not self.thread.is_alive():
            self._drain_here()
        # A thread still alive here is stuck in deliver (a stalled disk): it delivers
        # the rest when it comes back. Nothing is closed under it.

    def abandon(self) -> None:
        """Forget everything in a forked child: no delivery, no duplicated backlog."""
        self.closed = True
        self._q = deque()
        self._close_fds()

    # --- pump thread --------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                select.select([self._wake_r], [], [], self._interval)
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 4096)
                self._woken = False
                with self._drain_lock:
                    stop = self._drain()
                    if stop:  # from here on put() delivers; drain what came before it knew
                        self._final = True
                        self._drain()
            except Exception as exc:  # never die silently: report, keep going
                self._report("writer", f"the writer thread hit {exc!r}; it keeps running")
                stop = False
            if stop:
                return

    def _drain(self) -> bool:
        """Deliver everything queued, in rounds of at most ``_BATCH`` items.

        Each round takes a snapshot of the queue's length: a caller appending
        meanwhile cannot grow a round.
        """
        q = self._q
        stop = False
        while q:
            batch: list[Any] = []
            tokens: list[object] = []
            for _ in range(min(len(q), _BATCH)):
                item = q.popleft()
                if item is _STOP:
                    stop = True
                elif item is _LOST:  # the gap goes exactly here
                    if batch:
                        self._deliver_round(batch)
                        batch = []
                    self._lost_pending += 1
                elif type(item) is _Token:
                    tokens.append(item)
                else:
                    batch.append(item)
            if batch:
                self._deliver_round(batch)
            self._done.update(tokens)
        return stop

    def _deliver_round(self, batch: list[Any]) -> None:
        total = len(self._put_drops)
        skipped, self._put_drops_seen = total - self._put_drops_seen + self._lost_pending, total
        self._lost_pending = 0
        self._deliver(batch, skipped)


def _close_fds(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
