"""The background writer: a :class:`~eventlog._pump.Pump` feeding a :class:`~eventlog._jsonl.JsonlSink`.

The caller encodes (``emit()`` through ``_schema.encode``, or :meth:`Writer.put`)
and queues bytes; the ``eventlog-writer`` thread only numbers, joins and
writes them. The pump knows nothing of events; the sink knows nothing of
threads. The writer joins them and adds up what was lost on either side
(:attr:`Writer.dropped`), which ``finish()`` reads after a flush and puts in
``run_end`` before anyone sees that event.
"""

from __future__ import annotations

from typing import Any, Literal

from eventlog._jsonl import FSYNC_POLICIES, SEQ_PLACEHOLDER, FsyncPolicy, JsonlSink, encode_line
from eventlog._pump import Pump
from eventlog._trouble import Reporter

__all__ = ["FSYNC_POLICIES", "FULL_POLICIES", "SEQ_PLACEHOLDER", "Writer"]

FULL_POLICIES = ("block", "drop")
FullPolicy = Literal["block", "drop"]


class Writer:
    """Append events to one JSONL file from a background thread (``eventlog-writer``).

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
        self._report = report = Reporter()
        self.path = path
        self.sink = JsonlSink(path, fsync=fsync, seq_start=seq_start, report=report)
        self.pump = Pump(
            self.sink.write, interval=flush_interval, queue_size=queue_size, block=on_full == "block", report=report
        )
        self.put_line = self.pump.put  # the hot path (a line from encode_line's placeholder): no extra call layer

    def put(self, ev: dict[str, Any]) -> None:
        """Encode ``ev`` (envelope first) and queue it; an event orjson refuses is counted and reported."""
        try:
            line = encode_line(ev)
        except (TypeError, ValueError) as exc:
            self.refused(exc)
            return
        self.pump.put(line)

    def refused(self, exc: Exception) -> None:
        """An event that could not be encoded: dropped, counted (a seq gap), reported once."""
        self.pump.count_drop()
        self._report("encode", f"an event could not be encoded ({exc}); dropped")

    @property
    def dropped(self) -> int:
        """Events lost so far (full queue with on_full='drop', encoding or I/O errors)."""
        return self.pump.dropped + self.sink.dropped

    @property
    def written(self) -> int:
        """Events written to the file so far."""
        return self.sink.written

    def flush(self, timeout: float = 10.0) -> None:
        """Return once everything queued before the call is written (or ``timeout`` passed)."""
        self.pump.flush(timeout, self.path)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, stop the thread, fsync per policy.

        The descriptors stay open until the writer is garbage: a thread stuck on a
        stalled disk, or one that emitted while the run finished, may still write.
        """
        if self.pump.closed:
            return
        self.pump.close(timeout)
        self.sink.close()

    def abandon(self) -> None:
        """Forget this writer in a forked child: no writes, no duplicated backlog."""
        self.pump.abandon()
        self.sink.abandon()

    def __repr__(self) -> str:
        return f"Writer({self.path!r})"
