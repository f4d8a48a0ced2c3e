"""Which file a process writes, and the advisory lock that makes it the only writer.

Rank 0 writes ``<dir>/events.jsonl``, rank N ``<dir>/events.rank<N>.jsonl``.
A second process of the same rank (a forked or spawned worker) finds the lock
taken and writes ``events.rank<N>.pid<PID>.jsonl``, so each file has one
writer and one ``seq`` sequence. A DataLoader worker writes its slot's file,
``events.rank<N>.worker<W>.jsonl``, reused in every epoch. Each process removes
its lock file at finish. A resumed run appends; nothing is ever
truncated: :func:`end_torn_line` ends a last line a crash left incomplete, and
:func:`next_seq` continues the file's sequence.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from eventlog._text import sanitize
from eventlog.exceptions import ConfigError

__all__ = ["RunFile", "end_torn_line", "next_seq", "open_run_file", "remove_stale_locks"]


_SLOTS = 8  # names a DataLoader worker slot tries (two loaders at once share worker ids) before its pid's


@dataclass
class RunFile:
    """The events file of this process and the descriptor holding its lock (None: not locked).

    ``primary``: the rank's own file (``events.jsonl``, ``events.rankN.jsonl``), written by the
    rank's main process.
    """

    path: Path
    lock_fd: int | None = None
    primary: bool = False

    def release(self) -> None:
        """Let go of the lock, leaving the lock file (a forked child that inherited it: the parent still holds it)."""
        if self.lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.lock_fd)
            self.lock_fd = None

    def close(self) -> None:
        """At finish: remove the lock file, then let go of the lock; the rank's main process also removes
        the lock files that processes which died without finishing left in the directory."""
        if self.lock_fd is not None:
            lock = Path(f"{self.path}.lock")
            if _same_file(self.lock_fd, lock):  # still ours: no one else can hold it meanwhile
                with contextlib.suppress(OSError):
                    lock.unlink()
            self.release()
        if self.primary:
            remove_stale_locks(self.path.parent)


def open_run_file(directory: Path, rank: int, pid: int, worker: int | None = None) -> RunFile:
    """Create the run directory, choose this process's file and lock it.

    Rank 0 writes ``events.jsonl``, rank N ``events.rankN.jsonl``. DataLoader worker W of
    rank N writes ``events.rankN.workerW.jsonl``, the same file in every epoch (with two
    loaders at once, ``events.rankN.workerW-2.jsonl`` ...). A process that finds its name
    locked by another writes ``events.rankN.pidPID.jsonl``.

    Raises:
        ConfigError: the directory or the file cannot be written.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create run directory {directory}: {exc.strerror}; pass a writable dir to init()"
        raise ConfigError(msg) from None
    if worker is None:
        names = ["events.jsonl" if rank == 0 else f"events.rank{rank}.jsonl"]
    else:
        names = [f"events.rank{rank}.worker{worker}{'' if n == 1 else f'-{n}'}.jsonl" for n in range(1, _SLOTS + 1)]
    names.append(f"events.rank{rank}.pid{pid}.jsonl")
    for i, name in enumerate(names):
        path = directory / name
        ok, fd = _lock(path)
        if ok or i == len(names) - 1:
            break
    run_file = RunFile(path, fd, primary=worker is None and i == 0)
    try:
        _check_writable(path)
    except ConfigError:
        run_file.release()
        raise
    return run_file


def remove_stale_locks(directory: Path) -> None:
    """Remove the lock files no live process holds (left by a process killed before its finish)."""
    with contextlib.suppress(OSError):
        for lock in directory.glob("events*.jsonl.lock"):
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if _same_file(fd, lock):
                    lock.unlink()
            except OSError:
                pass  # held: its process is alive
            finally:
                os.close(fd)


def _check_writable(path: Path) -> None:
    """Create ``path`` if needed and check this process can append to it, without blocking.

    A FIFO named ``events.jsonl`` that no process reads would stall ``init()`` (and the
    writer) forever: a ConfigError. One that a reader holds open is written to as a stream.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO no process is reading
            msg = (
                f"{path} is a FIFO that no process reads; remove it, open a reader first, or pass another dir to init()"
            )
            raise ConfigError(msg) from None
        msg = f"cannot write {path}: {exc.strerror}; pass a writable dir to init()"
        raise ConfigError(msg) from None
    os.close(fd)


def _lock(path: Path) -> tuple[bool, int | None]:
    """Take the file's advisory lock: (False, None) when another live process has it.

    A lock file is removed by its holder at finish, so the file locked here may
    have just been unlinked: the lock counts only if it is still the file at
    that name, else this tries again with the new one.
    """
    lock = f"{path}.lock"
    for _ in range(10):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return True, None  # cannot lock (read-only dir is caught right after): write anyway
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False, None
        if _same_file(fd, Path(lock)):
            return True, fd
        os.close(fd)
    return True, None


def _same_file(fd: int, path: Path) -> bool:
    """Whether the open ``fd`` is the file now at ``path``."""
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


_SEQ_MAX = 2**63 - 1  # seq is an int64 like every int field
_SEQ = re.compile(rb'[{,]\s*"seq"\s*:\s*(\d+)')
_WHOLE = 1 << 20  # a last line up to this size is decoded to find its seq
_BLOCK = 1 << 16
_LOOK_BACK = 1000  # complete lines examined for a seq before giving up


def next_seq(path: Path) -> int:
    """A resumed run continues the file's seq: one after the last complete line's (0 for a new file).

    The last line can be of any length (it is found by reading back in blocks).
    A last seq of 2**63-1 or more cannot be continued within int64: seq
    restarts at 0, with a note on stderr.
    """
    if not path.is_file():  # a FIFO read by another process: no lines to continue (and opening it could block)
        return 0
    try:
        with open(path, "rb") as f:
            for start, end in _lines_backwards(f):
                last = _line_seq(f, start, end)
                if last is not None:
                    if last >= _SEQ_MAX:
                        _note(f"{path}: its last seq is {last}, the largest int64; this run's seq restarts at 0")
                        return 0
                    return last + 1
    except OSError:
        return 0
    return 0


def _line_seq(f: BinaryIO, start: int, end: int) -> int | None:
    """The top-level ``seq`` of the line at [start, end), or None when it has none (or is not a whole object).

    Any JSON writer's spacing is understood (``"seq":4`` as written here, ``"seq": 4`` by
    ``json.dumps``). A line up to ``_WHOLE`` bytes is decoded, so a ``seq`` key nested in
    the payload is never taken for the envelope's; a longer one, or one a strict decoder
    refuses (``json.dumps`` writes a bare ``NaN``), is searched in its first 4096 bytes.
    """
    f.seek(max(start, end - 2))
    if not f.read(2).rstrip(b"\r").endswith(b"}"):  # not a whole object (CRLF allowed)
        return None
    f.seek(start)
    if end - start <= _WHOLE:
        text = f.read(end - start)
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            seq = obj.get("seq")
            return seq if type(seq) is int and seq >= 0 else None
        head = text[:4096]
    else:
        head = f.read(4096)
    m = _SEQ.search(head)
    return int(m.group(1)) if m else None


def end_torn_line(path: Path) -> None:
    """Before a resumed run appends: a last line without its newline (a crash mid-write) is ended.

    Otherwise the new ``run_start`` would be glued onto the fragment and lost
    with it. The fragment stays on a line of its own, which readers skip and
    name; a note on stderr says so. Only the process holding the file's lock
    calls this, so no other writer is appending meanwhile.
    """
    if not path.is_file():  # a FIFO: nothing to end
        return
    try:
        with open(path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return
            torn = size - _last_newline(f, size) - 1
            f.seek(0, os.SEEK_END)
            f.write(b"\n")
    except OSError as exc:
        _note(f"{path}: cannot end its incomplete last line ({exc.strerror}); the first line of this run may be lost")
        return
    _note(
        f"{path}: the last line was incomplete ({torn} bytes, a crash mid-write?); it is ended with a newline so "
        "that this run starts on a line of its own (readers skip that line and name it)"
    )


def _last_newline(f: BinaryIO, end: int) -> int:
    """The offset of the last newline before ``end``, or -1."""
    pos = end
    while pos > 0:
        start = max(0, pos - _BLOCK)
        f.seek(start)
        i = f.read(pos - start).rfind(b"\n")
        if i >= 0:
            return start + i
        pos = start
    return -1


def _lines_backwards(f: BinaryIO) -> Iterator[tuple[int, int]]:
    """(start, end) of the file's complete lines, last first, at most ``_LOOK_BACK`` (end excludes the newline)."""
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - 1))
    end = size - 1 if f.read(1) == b"\n" else _last_newline(f, size)  # a torn last line is not a line
    for _ in range(_LOOK_BACK):
        if end <= 0:
            return
        start = _last_newline(f, end) + 1
        if end > start:
            yield start, end
        end = start - 1


def _note(text: str) -> None:
    with contextlib.suppress(Exception):
        sys.stderr.write(f"eventlog: note: {sanitize(text)}\n")
