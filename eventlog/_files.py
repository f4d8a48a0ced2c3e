"""Which file a process writes, and the advisory lock that makes it the only writer.

Rank 0 writes ``<dir>/events.jsonl``, rank N ``<dir>/events.rank<N>.jsonl``.
A second process of the same rank (a forked or spawned worker) finds the lock
taken and writes ``events.rank<N>.pid<PID>.jsonl``, so each file has one
writer and one ``seq`` sequence. A resumed run appends; nothing is ever
truncated, and :func:`next_seq` continues the file's sequence.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path

from eventlog.exceptions import ConfigError

__all__ = ["RunFile", "next_seq", "open_run_file"]


@dataclass
class RunFile:
    """The events file of this process and the descriptor holding its lock (None: not locked)."""

    path: Path
    lock_fd: int | None = None

    def release(self) -> None:
        """Let go of the lock (finish, or a forked child that inherited it)."""
        if self.lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.lock_fd)
            self.lock_fd = None


def open_run_file(directory: Path, rank: int, pid: int) -> RunFile:
    """Create the run directory, choose this process's file and lock it.

    Raises:
        ConfigError: the directory or the file cannot be written.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create run directory {directory}: {exc.strerror}; pass a writable dir to init()"
        raise ConfigError(msg) from None
    base = "events.jsonl" if rank == 0 else f"events.rank{rank}.jsonl"
    path = directory / base
    ok, fd = _lock(path)
    if not ok:
        path = directory / f"events.rank{rank}.pid{pid}.jsonl"
        _, fd = _lock(path)
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        msg = f"cannot write {path}: {exc.strerror}; pass a writable dir to init()"
        raise ConfigError(msg) from None
    return RunFile(path, fd)


def _lock(path: Path) -> tuple[bool, int | None]:
    """Take the file's advisory lock: (False, None) when another live process has it."""
    try:
        fd = os.open(f"{path}.lock", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return True, None  # cannot lock (read-only dir is caught right after): write anyway
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False, None
    return True, fd


def next_seq(path: Path) -> int:
    """A resumed run continues the file's seq: one after the last complete line's."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size == 0:
                return 0
            f.seek(max(0, size - (1 << 16)))
            tail = f.read()
    except OSError:
        return 0
    for line in reversed(tail.split(b"\n")):
        m = re.search(rb',"seq":(\d+)', line)
        if m and line.endswith(b"}"):
            return int(m.group(1)) + 1
    return 0
