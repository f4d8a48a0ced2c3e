"""The background writer: encode with orjson, append whole lines, never raise.

The caller's thread only appends a dict to a deque (and, past a high-water
mark, wakes the writer). The ``eventlog-writer`` daemon thread wakes every
``flush_interval`` seconds (or earlier when the queue fills), drains
everything queued, assigns ``seq`` in file order, encodes, and writes each
chunk of whole lines with a single ``os.write`` on an ``O_APPEND`` file
descriptor, looping on short writes.

Draining is serialised by one re-entrant lock, so :meth:`Writer.flush` can
drain on the caller's thread as a barrier (at exit, in a signal handler, or
after the thread is gone) without an event hand-off that could deadlock.
"""

from __future__ import annotations

import errno
import os
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
        self._high = max(1, queue_size // 4)
        self._block = on_full == "block"
        self._q: deque[Any] = deque()
        self._wake = threading.Event()
        self._drain_lock = threading.RLock()
        self._drop_lock = threading.Lock()
        self._seq = seq_start
        self._fragment = False
        self._closed = False
        self._reported: set[str] = set()
        self._unsequenced_drops = 0
        self.written = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="eventlog-writer", daemon=True)
        self._thread.start()

    # --- caller side --------------------------------------------------------

    def put(self, ev: dict[str, Any]) -> None:
        """Queue one event (a dict whose ``seq`` key the writer fills in)."""
        q = self._q
        if len(q) >= self._high:
            self._wake.set()
            if len(q) >= self._max and not self._make_room():
                return
        q.append(ev)

    def _make_room(self) -> bool:
        if self._closed:
            self._count_drop(1, "the log was closed", sequenced=False)
            return False
        if self._block and threading.current_thread() is not self._thread:
            while len(self._q) >= self._max and self._thread.is_alive():
                self._wake.set()
                time.sleep(0.0005)
            if not self._thread.is_alive():
                self.flush()
            return True
        self._count_drop(1, f"the queue was full ({self._max} events; on_full='drop')", sequenced=False)
        return False

    def flush(self) -> None:
        """Write everything queued so far before returning (a barrier)."""
        with self._drain_lock:
            self._drain()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, stop the thread, fsync per policy, close the file."""
        if self._closed:
            return
        self._closed = True
        self._q.append(_STOP)
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self.flush()
        if self._fsync != "never":
            self._try_fsync()
        try:
            os.close(self._fd)
        except OSError:
            pass

    def abandon(self) -> None:
        """Forget this writer in a forked child: no writes, no duplicated backlog."""
        self._closed = True
        self._q = deque()
        try:
            os.close(self._fd)
        except OSError:
            pass

    # --- writer thread ------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                with self._drain_lock:
                    stop = self._drain()
            except BaseException as exc:  # never die silently: report, keep going
                self._report("writer", f"the writer thread hit {exc!r}; it keeps running")
                stop = False
            if stop:
                return

    def _drain(self) -> bool:
        q = self._q
        batch: list[dict[str, Any]] = []
        stop = False
        while q:
            item = q.popleft()
            if item is _STOP:
                stop = True
            else:
                batch.append(item)
        if batch:
            self._encode_and_write(batch)
            if self._fsync == "batch":
                self._try_fsync()
        return stop

    def _encode_and_write(self, batch: list[dict[str, Any]]) -> None:
        dumps = orjson.dumps
        parts: list[bytes] = []
        size = 0
        with self._drop_lock:
            self._seq += self._unsequenced_drops  # leave a visible gap for dropped events
            self._unsequenced_drops = 0
        for ev in batch:
            if ev.get("event") == "run_end" and "events_dropped" in ev:
                ev["events_dropped"] = self.dropped
            ev["seq"] = self._seq
            self._seq += 1
            try:
                line = dumps(ev)
            except (TypeError, ValueError) as exc:  # emit() normalises; this is a last line of defence
                self._count_drop(1, f"an event could not be encoded ({exc})", sequenced=True)
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
            self._count_drop(len(parts) - max(0, complete), f"writing {self.path} failed: {exc}", sequenced=True)
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

    def _count_drop(self, n: int, why: str, *, sequenced: bool) -> None:
        with self._drop_lock:
            self.dropped += n
            if not sequenced:
                self._unsequenced_drops += n
        self._report(why.split(":")[0], f"{n} event(s) dropped: {why}")

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
