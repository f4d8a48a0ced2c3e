"""The JSONL file sink: stamp ``seq`` into encoded lines, append them whole, never raise.

It runs on the pump's thread. The caller encoded each event already (see
:func:`encode_line`), with the placeholder ``"seq":-1``; the sink numbers the
lines in the order they were queued, so ``seq`` is gap-free and increasing in
file order whatever threads or signal handlers emitted them (a gap is left
only for events dropped before it, which are counted). Each chunk of whole
lines is written with a single ``os.write`` on an ``O_APPEND`` file
descriptor, looping on short writes; after a failed write the next one starts
on a fresh line, so lines never fuse.

The descriptor is closed only when the sink is garbage (or abandoned in a
forked child): a thread that emits while the run finishes, or a writer thread
stuck on a stalled disk, may still write to it, and a closed number is reused
by the next ``open`` (the next run's file). A file deleted while the run writes
it is noticed at the next round and created again, with a report.
"""

from __future__ import annotations

import contextlib
import errno
import os
import weakref
from typing import Any, Literal

import orjson

from eventlog._trouble import Reporter

__all__ = ["FSYNC_POLICIES", "SEQ_PLACEHOLDER", "FsyncPolicy", "JsonlSink", "encode_line"]

FSYNC_POLICIES = ("never", "batch", "close")
FsyncPolicy = Literal["never", "batch", "close"]
_CHUNK = 1 << 20  # bytes of whole lines per os.write
SEQ_PLACEHOLDER = -1  # the seq an event is encoded with; the sink writes the real one in its place
_MARK = b'"seq":-1'  # the first one in a line is the envelope's: inside a JSON string every '"' is escaped


def encode_line(ev: dict[str, Any]) -> bytes:
    """``ev`` (envelope first, ``seq`` set to the placeholder) as the line the sink numbers.

    Raises:
        TypeError: orjson refuses a value (``orjson.JSONEncodeError``).
    """
    ev["seq"] = SEQ_PLACEHOLDER
    return orjson.dumps(ev)


class JsonlSink:
    """Append event dicts to one JSONL file.

    Args:
        path: the file; opened at once (so an unwritable path fails here).
        fsync: ``never``, after every ``batch``, or on ``close``.
        seq_start: first sequence number (a resumed process continues).
        report: where problems go (once per kind).
    """

    def __init__(self, path: str, *, fsync: FsyncPolicy = "close", seq_start: int = 0, report: Reporter) -> None:
        self.path = path
        self.fd = _open(path)
        self._close_fd = weakref.finalize(self, _close, self.fd)
        self._close_fd.atexit = False  # at exit a daemon writer may still be mid-write
        self._fsync = fsync
        self._seq = seq_start
        self._fragment = False
        self._report = report
        self.dropped = 0  # events lost here: encoding or I/O errors
        self.written = 0

    def write(self, batch: list[bytes], skipped: int) -> None:
        """Number and append one round of encoded lines; ``skipped`` were dropped before it (a seq gap)."""
        seq = self._seq + skipped
        self._seq = seq + len(batch)
        self._check_still_there()
        mark, stamp = _MARK, b'"seq":%d'.__mod__
        lines = [line.replace(mark, stamp(n), 1) for line, n in zip(batch, range(seq, self._seq), strict=True)]
        if sum(map(len, lines)) + len(lines) <= _CHUNK:
            self._write_lines(lines)
        else:
            parts: list[bytes] = []
            size = 0
            for line in lines:
                parts.append(line)
                size += len(line) + 1
                if size >= _CHUNK:
                    self._write_lines(parts)
                    parts, size = [], 0
            if parts:
                self._write_lines(parts)
        if self._fsync == "batch":
            self._try_fsync()

    def _write_lines(self, parts: list[bytes]) -> None:
        lead = self._fragment
        data = (b"\n" if lead else b"") + b"\n".join(parts) + b"\n"
        view = memoryview(data)
        done = 0
        try:
            while done < len(data):
                done += os.write(self.fd, view[done:])
        except OSError as exc:
            complete = data.count(b"\n", 0, done) - (1 if lead and done > 0 else 0)
            if done > 0:
                self._fragment = data[done - 1] != 0x0A
            self.written += max(0, complete)
            self.dropped += len(parts) - max(0, complete)
            self._report("io", f"event(s) dropped: writing {self.path} failed: {exc}")
            return
        self._fragment = False
        self.written += len(parts)

    def _check_still_there(self) -> None:
        """A file deleted under us (``rm`` of a live run) is created again, with a report."""
        try:
            if os.fstat(self.fd).st_nlink > 0:
                return
            new = _open(self.path)
        except OSError as exc:
            why = f"{self.path} was deleted while the run was writing it, and cannot be created again: {exc}"
            self._report("deleted", why)
            return
        try:
            os.dup2(new, self.fd, inheritable=False)  # same number: a concurrent fsync never sees a stranger's file
        finally:
            os.close(new)
        self._fragment = False
        self._report(
            "deleted",
            f"{self.path} was deleted while the run was writing it; the events from here on go to a new {self.path}",
            "Events written before the deletion are lost with the deleted file.",
        )

    def _try_fsync(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EROFS):  # devices and pipes cannot be synced
                self._report("fsync", f"fsync of {self.path} failed: {exc}")

    def close(self) -> None:
        """fsync per policy; the descriptor stays open until the sink is garbage (see the module doc)."""
        if self._fsync != "never":
            self._try_fsync()

    def abandon(self) -> None:
        """Close the file without syncing (a forked child's inherited copy: no thread writes to it)."""
        self._close_fd()


def _open(path: str) -> int:
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
