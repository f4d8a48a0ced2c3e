"""The background writer: encode with orjson, append whole lines, never raise.

The caller's thread only appends a dict to a deque (and, past a high-water
mark, wakes the writer). The ``eventlog-writer`` daemon thread wakes every
``flush_interval`` seconds (or earlier when the queue fills), drains
everything queued, assigns ``seq`` in file order, encodes, and writes each
chunk of whole lines with a single ``os.write`` on an ``O_APPEND`` file
descriptor, looping on short writes.

Only the writer thread drains the queue while it lives, so no event is ever
held in a frame that a signal handler or KeyboardInterrupt could abandon.
:meth:`Writer.flush` is a barrier: it queues a token and polls until the
writer has written past it. Waking the writer is a byte on a pipe, and drop
counters are deques, so nothing on the caller's side takes a lock that a
signal handler on the same thread could already hold.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import sys
import threading
import time
from collections import deque
from typing import Any, Literal

import orjson

__all__ = ["FSYNC_POLICIES", "FULL_POLICIES", "Writer"]

FSYNC_POLICIES = ("never", "batch", "close")
FULL_POLICIES = ("block", "drop")
FsyncPolicy = Literal["never", "batch", "close"]
FullPolicy = Literal["block", "drop"]
_CHUNK = 1 << 20  # bytes of whole lines per os.write
_BATCH = 128  # events per drain round (see _drain); bench/emit.py: 73k -> 107k events/s end to end
_WAKE_AT = 256  # queued events that wake the writer early: small batches are encoded while still in cache
_STOP = object()


class Writer:
    """Append events to one JSONL file from a background thread.

    Args:
        path: the file; opened at once (so an unwritable path fails here).
        flush_interval: longest time an event waits in memory, in seconds.
        fsync: ``never``, after every ``batch``, or on ``close``.
        queue_size: events held before the full-queue policy applies.
        on_full: ``block`` the caller until there is room, or ``drop`` the event.
        seq_start: first sequence number (a resumed process continues).
    """

    def __init__(
        self,
        path: str,
        *,
        flush_interval: float = 0.2,
        fsync: FsyncPolicy = "close",
        queue_size: int = 10_000,
        on_full: FullPolicy = "block",
        seq_start: int = 0,
    ) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self._interval = flush_interval
        self._fsync = fsync
        self._max = max(1, queue_size)
        self._high = max(1, min(queue_size // 4, _WAKE_AT))
        self._block = on_full == "block"
        self._q: deque[Any] = deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._drain_lock = threading.Lock()  # writer thread, or the caller once the thread is gone
        self._done: set[object] = set()  # flush tokens written past
        self._seq = seq_start
        self._fragment = False
        self._woken = False
        self._closed = False
        self._reported: set[str] = set()
        self._put_drops: deque[int] = deque()  # one entry per event dropped before it had a seq
        self._put_drops_seen = 0
        self._writer_drops = 0
        self.written = 0
        self._thread = threading.Thread(target=self._run, name="eventlog-writer", daemon=True)
        self._thread.start()

    # --- caller side --------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Events lost so far (full queue with on_full='drop', I/O errors)."""
        return len(self._put_drops) + self._writer_drops

    def put(self, ev: dict[str, Any]) -> None:
        """Queue one event (a dict whose ``seq`` key the writer fills in)."""
        q = self._q
        if len(q) >= self._high:
            self._wake()
            if len(q) >= self._max and not self._make_room():
                return
        q.append(ev)

    def _wake(self) -> None:
        if self._woken:  # one byte per writer cycle is enough
            return
        self._woken = True
        try:
            os.write(self._wake_w, b"x")
        except OSError:  # pipe full (a wake is pending anyway) or closed
            pass

    def _make_room(self) -> bool:
        if self._block and not self._closed and threading.current_thread() is not self._thread:
            while len(self._q) >= self._max and self._thread.is_alive():
                self._wake()
                time.sleep(0.0005)
            return True
        why = "the log was closed" if self._closed else f"the queue was full ({self._max} events; on_full='drop')"
        self._put_drops.append(1)
        self._report("full", f"event(s) dropped: {why}")
        return False

    def flush(self, timeout: float = 10.0) -> None:
        """Return once everything queued before the call is written (or ``timeout`` passed)."""
        if threading.current_thread() is self._thread:
            self._drain()
            return
        token = object()
        self._q.append(token)
        self._wake()
        deadline = time.monotonic() + timeout
        while token not in self._done:
            if not self._thread.is_alive():
                self._drain_here()
                break
            if time.monotonic() > deadline:
                self._report("stuck", f"flush of {self.path} timed out after {timeout:.0f} s; events stay queued")
                break
            time.sleep(0.0005)
        self._done.discard(token)

    def _drain_here(self) -> None:
        """Drain on the calling thread: only once the writer thread has ended."""
        if self._drain_lock.acquire(timeout=1.0):
            try:
                self._drain()
            finally:
                self._drain_lock.release()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, stop the thread, fsync per policy, close the file."""
        if self._closed:
            return
        self._closed = True
        self._q.append(_STOP)
        self._wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        if not self._thread.is_alive():
            self._drain_here()
        if self._fsync != "never":
            self._try_fsync()
        for fd in (self._fd, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def abandon(self) -> None:
        """Forget this writer in a forked child: no writes, no duplicated backlog."""
        self._closed = True
        self._q = deque()
        for fd in (self._fd, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    # --- writer thread ------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                select.select([self._wake_r], [], [], self._interval)
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 4096)
                self._woken = False
                with self._drain_lock:
                    stop = self._drain()
            except Exception as exc:  # never die silently: report, keep going
                self._report("writer", f"the writer thread hit {exc!r}; it keeps running")
                stop = False
            if stop:
                return

    def _drain(self) -> bool:
        """Write everything queued, in rounds of at most ``_BATCH`` events.

        Each round takes a snapshot of the queue's length: a caller appending
        meanwhile cannot grow a round, so its events are encoded while they are
        still in the CPU cache.
        """
        q = self._q
        stop = False
        while q:
            batch: list[dict[str, Any]] = []
            tokens: list[object] = []
            for _ in range(min(len(q), _BATCH)):
                item = q.popleft()
                if type(item) is dict:
                    batch.append(item)
                elif item is _STOP:
                    stop = True
                else:
                    tokens.append(item)
            if batch:
                self._encode_and_write(batch)
                if self._fsync == "batch":
                    self._try_fsync()
            self._done.update(tokens)
        return stop

    def _encode_and_write(self, batch: list[dict[str, Any]]) -> None:
        dumps = orjson.dumps
        parts: list[bytes] = []
        size = 0
        total = len(self._put_drops)
        self._seq += total - self._put_drops_seen  # leave a visible gap for events dropped at put()
        self._put_drops_seen = total
        for ev in batch:
            if ev.get("event") == "run_end" and "events_dropped" in ev:
                ev["events_dropped"] = self.dropped
            ev["seq"] = self._seq
            self._seq += 1
            ts = ev.get("ts")
            if type(ts) is float:
                ev["ts"] = round(ts * 1e6) / 1e6  # microseconds, off the caller's thread (round(x, 6) is 10x slower)
            try:
                line = dumps(ev)
            except (TypeError, ValueError) as exc:  # emit() normalises; this is a last line of defence
                self._writer_drops += 1
                self._report("encode", f"an event could not be encoded ({exc}); dropped")
                continue
            parts.append(line)
            size += len(line) + 1
            if size >= _CHUNK:
                self._write_lines(parts)
                parts, size = [], 0
        if parts:
            self._write_lines(parts)

    def _write_lines(self, parts: list[bytes]) -> None:
        lead = self._fragment
        data = (b"\n" if lead else b"") + b"\n".join(parts) + b"\n"
        view = memoryview(data)
        done = 0
        try:
            while done < len(data):
                done += os.write(self._fd, view[done:])
        except OSError as exc:
            complete = data.count(b"\n", 0, done) - (1 if lead and done > 0 else 0)
            if done > 0:
                self._fragment = data[done - 1] != 0x0A
            self.written += max(0, complete)
            self._writer_drops += len(parts) - max(0, complete)
            self._report("io", f"event(s) dropped: writing {self.path} failed: {exc}")
            return
        self._fragment = False
        self.written += len(parts)

    def _try_fsync(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EROFS):  # devices and pipes cannot be synced
                self._report("fsync", f"fsync of {self.path} failed: {exc}")

    # --- trouble ------------------------------------------------------------

    def _report(self, key: str, text: str) -> None:
        """Report a problem once per kind on stderr, never raising."""
        if key in self._reported:
            return
        self._reported.add(key)
        try:
            sys.stderr.write(
                "--- eventlog: problem ---\n"
                f"{text}\n"
                "Further problems of this kind are counted, not printed; run_end records events_dropped.\n"
                "--- end of eventlog problem ---\n"
            )
            sys.stderr.flush()
        except Exception:
            pass
