"""Which files to read: files, run directories, globs, ``-`` for stdin, or the newest run; how to read each.

A directory holding no event file itself, only run directories (``runs/``), is an error that
names a few of them and the glob that passes them all (``runs/*``).

Entries of a run directory that cannot be read as a file (a FIFO, a directory, a dangling
symlink or a symlink loop named ``*.jsonl``) are skipped with a note on stderr, never
opened: opening a FIFO would wait for a writer forever. Every path shown on stderr goes
through ``sanitize`` (a file name may hold control characters).

A pipe named on the command line (``<(zcat run.jsonl.gz)``) is read like stdin. Stdin, pipes
and gzip files (recognised by their first bytes, whatever their name) are read as a
stream of line-aligned chunks (:func:`chunks`), so memory stays bounded by the chunk size
plus the lines kept; plain files are read by polars itself.
"""

from __future__ import annotations

import glob
import io
import os
import stat
import sys
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from eventlog._text import sanitize
from eventlog_cli.errors import DataError

__all__ = ["CHUNK", "chunks", "resolve_paths"]

CHUNK = 2 << 20  # bytes of text per chunk read from a stream (stdin, gzip)
_GZIP = b"\x1f\x8b"
_SUFFIXES = (".jsonl", ".jsonl.gz")


def resolve_paths(paths: Sequence[str]) -> list[str]:
    """Files for the given paths (files, run directories, globs, ``-``); the newest run when none.

    A glob may match run directories (``'runs/*'``): each is read as a run directory.

    Raises:
        DataError: a path does not exist, a directory has no events, a glob matches nothing.
    """
    if not paths:
        newest = _newest_run(Path("runs"))
        sys.stderr.write(f"using {sanitize(newest)} (the newest run under ./runs)\n")
        paths = [str(newest)]
    files: list[str] = []
    for p in paths:
        if p == "-":
            files.append("-")
            continue
        path = Path(p)
        if path.is_dir():
            files.extend(_run_files(path))
        elif path.is_file() or _is_pipe(path):  # named on the command line: a pipe is read as a stream
            files.append(str(path))
        elif any(c in p for c in "*?["):
            matched = sorted(glob.glob(p))
            if not matched:
                raise DataError(f"{sanitize(p)}: the pattern matches no file")
            before = len(files)
            for m in matched:
                if Path(m).is_dir():
                    files.extend(_run_files(Path(m), quiet_if_empty=True))
                elif _readable(Path(m)):
                    files.append(m)
            if len(files) == before:
                raise DataError(f"{sanitize(p)}: the pattern matches no .jsonl file or run directory")
        elif path.is_symlink() or path.exists():
            raise DataError(f"{sanitize(p)}: {_odd(path)}; pass a run directory or a .jsonl file")
        else:
            raise DataError(f"{sanitize(p)}: no such file or directory")
    return files


def _run_files(d: Path, quiet_if_empty: bool = False) -> list[str]:
    """The event files of one run directory, odd entries skipped with a note."""
    try:
        entries = sorted(d.iterdir())
    except OSError as exc:
        raise DataError(f"{sanitize(d)}: cannot list ({exc.strerror or exc})") from None
    found = [x for x in entries if x.name.endswith(_SUFFIXES) and _readable(x)]
    if not found and not quiet_if_empty:
        raise DataError(f"{sanitize(d)}: no *.jsonl files in this directory; {_hint(d)}")
    return [str(x) for x in found]


_HINT_DEPTH = 3  # levels below a directory searched for run directories
_HINT_LOOKS = 2000  # directories listed at most (a home directory passed by mistake stays quick)
_HINT_SHOWN = 3


def _hint(d: Path) -> str:
    """How to read ``d``'s runs: the run directories below it (a few named) and the glob that passes them."""
    runs, more = _runs_below(d)
    if not runs:
        return "pass a run directory or a .jsonl file"
    depth = len(runs[0].relative_to(d).parts)
    shown = ", ".join(sanitize(r) for r in runs[:_HINT_SHOWN])
    rest = len(runs) - _HINT_SHOWN
    shown += f" and {rest}{'+' if more else ''} more" if rest > 0 else (" and more" if more else "")
    if len(runs) == 1 and not more:
        return f"the run directory is below it: {shown}; pass it instead"
    return f"the run directories are below it: {shown}; pass them instead, e.g. {sanitize(d.joinpath(*['*'] * depth))}"


def _runs_below(d: Path) -> tuple[list[Path], bool]:
    """The run directories (holding a ``*.jsonl`` file) at the first level below ``d`` that has any,
    searched breadth first; whether the search stopped before listing every directory."""
    level, looked = [d], 0
    for _ in range(_HINT_DEPTH):
        runs: list[Path] = []
        below: list[Path] = []
        for parent in level:
            try:
                subs = sorted(x for x in parent.iterdir() if x.is_dir())
            except OSError:
                continue
            for sub in subs:
                if looked >= _HINT_LOOKS:
                    return runs, True
                looked += 1
                try:
                    has_events = any(x.name.endswith(_SUFFIXES) for x in sub.iterdir())
                except OSError:
                    continue
                (runs if has_events else below).append(sub)
        if runs:
            return runs, False
        level = below
    return [], False


def _readable(path: Path) -> bool:
    """Whether ``path`` is a regular file (through symlinks); anything else gets a note."""
    why = _odd(path)
    if not why:
        return True
    sys.stderr.write(f"note: {sanitize(path)}: {why}; skipped\n")
    return False


def _odd(path: Path) -> str:
    """Why ``path`` cannot be read as an event file ("" when it is a regular file)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == getattr(os, "ELOOP", 40):
            return "a symlink loop"
        if path.is_symlink():
            return "a dangling symlink"
        return f"cannot read ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "a FIFO, not a file"
    return "not a regular file"


def _is_pipe(path: Path) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False


def _newest_run(root: Path) -> Path:
    runs = [d for d in root.iterdir() if d.is_dir() and any(d.glob("*.jsonl*"))] if root.is_dir() else []
    if not runs:
        msg = "no path given and no run under ./runs; pass a run directory or a .jsonl file"
        raise DataError(msg)

    def mtime(d: Path) -> float:
        times = []
        for f in d.glob("*.jsonl*"):
            try:
                times.append(f.stat().st_mtime)
            except OSError:  # a dangling symlink or a loop: not a candidate
                continue
        return max(times, default=0.0)

    return max(runs, key=mtime)


def chunks(path: str) -> Iterator[bytes] | None:
    """Line-aligned chunks of text for stdin and gzip files; None means polars can read the path itself.

    Every chunk but the last ends with a newline; the last holds a torn tail if there is one.

    Raises:
        DataError: a gzip stream is damaged (raised while iterating).
        OSError: the file cannot be opened.
    """
    if path == "-":
        return _stream_chunks(sys.stdin.buffer, "stdin")
    if _is_pipe(Path(path)):  # <(zcat run.jsonl.gz): its first bytes can be read only once
        return _stream_chunks(open(path, "rb"), path)  # closed by the generator
    with open(path, "rb") as f:
        if f.read(2) != _GZIP:
            return None
    return _stream_chunks(open(path, "rb"), path)  # closed by the generator


def _stream_chunks(raw: BinaryIO, name: str) -> Iterator[bytes]:
    head = raw.read(2)
    src: Any = _Prepend(head, raw)
    blocks = _gunzip(src, name) if head == _GZIP else iter(lambda: src.read(CHUNK), b"")
    rest = b""
    try:
        for block in blocks:
            data = rest + block if rest else block
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            rest = data[cut + 1 :]
            yield data[: cut + 1]
        if rest:
            yield rest
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def _gunzip(src: Any, name: str) -> Iterator[bytes]:
    """The decompressed bytes of a gzip stream (members one after another), as they come.

    A stream that ends inside a member (a run gzipped while it was written, a copy cut short)
    gives what it holds, with a note; the scan then finds its torn last line as in a plain file.

    Raises:
        DataError: the stream is damaged (not only short).
    """
    d = zlib.decompressobj(wbits=31)
    started = False  # a member has begun and not ended
    pending = b""
    while True:
        if not pending:
            pending = src.read(CHUNK)
            if not pending:
                break
        if not started:
            pending = pending.lstrip(b"\x00")  # NUL padding after a member is allowed
            if not pending:
                continue
        try:
            out = d.decompress(pending, CHUNK)  # at most CHUNK bytes out per call: memory stays bounded
        except zlib.error as exc:
            msg = f"{sanitize(name)}: cannot decompress ({exc}); is it a gzip file?"
            raise DataError(msg) from None
        started = True
        pending = d.unconsumed_tail
        if out:
            yield out
        if d.eof:  # the next member, if any, starts in what is left
            pending = d.unused_data + pending
            d = zlib.decompressobj(wbits=31)
            started = False
    if started:
        sys.stderr.write(f"note: {sanitize(name)}: the gzip stream ends early (cut short); read what it holds\n")


class _Prepend(io.RawIOBase):
    """A stream that gives ``head`` first, then the rest of ``raw`` (after sniffing the first bytes)."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self.head, self.raw = head, raw

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.raw.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            out, self.head = self.head + self.raw.read(), b""
            return out
        if self.head:
            out, self.head = self.head[:size], self.head[size:]
            return out
        return self.raw.read(size)
