"""Where the selected lines are: byte offsets into the file itself (plain files) or into a spool (streams).

The scan keeps no line text: a plain file is read again, window by window through a
mapping released every :data:`WINDOW` bytes, when the lines are decoded; the kept lines of
stdin, a pipe or a gzip file are copied to an unnamed temporary file (the spool) as they
stream past. Memory is the index (five numbers a kept line) plus one window.

Line numbers of a plain file are found on demand (:meth:`FileLines.numbers`): counting the
newlines of a whole file costs as much as selecting its lines, and most questions never
need them. Stream lines are numbered as they pass.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

__all__ = ["WINDOW", "FileLines", "count_newlines"]

WINDOW = 16 << 20  # bytes mapped at a time
_SPOOL_WINDOW = 4 << 20  # the spool's lines are read once, in order: a smaller window, a lower peak
_PIECE = 16 << 20  # bytes copied at a time to count newlines (mmap has no count() before 3.13)


def count_newlines(buf: mmap.mmap | bytes, start: int, end: int) -> int:
    """Newlines in ``buf[start:end]`` (in pieces: a mapping's slice is a copy)."""
    if isinstance(buf, bytes):
        return buf.count(b"\n", start, end)
    n = 0
    for a in range(start, end, _PIECE):
        n += buf[a : min(end, a + _PIECE)].count(b"\n")
    return n


class FileLines:
    """The kept lines of one file: offset, length, 0-based line number (-1: not counted yet), type code."""

    def __init__(self, path: str, streamed: bool) -> None:
        self.path = path
        self.spool: IO[bytes] | None = tempfile.TemporaryFile() if streamed else None  # noqa: SIM115
        self._spooled = 0
        self.offs = array("q")
        self.lens = array("q")
        self.ns = array("q")
        self.codes = array("H")

    def __len__(self) -> int:
        return len(self.offs)

    def add(self, off: int, length: int, n: int, code: int) -> None:
        self.offs.append(off)
        self.lens.append(length)
        self.ns.append(n)
        self.codes.append(code)

    def add_text(self, text: bytes, n: int, code: int) -> None:
        """A streamed line: its text goes to the spool."""
        assert self.spool is not None
        self.spool.write(text)
        self.add(self._spooled, len(text), n, code)
        self._spooled += len(text)

    def rows(self, codes: set[int] | None) -> Sequence[int]:
        """Indices of the kept lines of these type codes (all when None: a range, not a list of every index), in
        file order."""
        if codes is None:
            return range(len(self.offs))
        return [i for i, c in enumerate(self.codes) if c in codes]

    def texts(self, rows: Sequence[int]) -> Iterator[tuple[int, bytes]]:
        """(row, text) of each row, reading window by window (rows in file order)."""
        for chunk, texts in self.chunks(rows):
            yield from zip(chunk, texts, strict=True)

    def chunks(self, rows: Sequence[int]) -> Iterator[tuple[Sequence[int], list[bytes]]]:
        """The rows (in file order) in runs that lie in one mapped window, each with their texts."""
        if not rows:
            return
        if self.spool is not None:
            self.spool.flush()
            fd = os.dup(self.spool.fileno())
        else:
            fd = os.open(self.path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            window = WINDOW if self.spool is None else _SPOOL_WINDOW
            offs, lens = self.offs, self.lens
            dense = len(rows) > 1000  # many lines a window: map its pages at once (a fault per line costs more)
            flags = mmap.MAP_SHARED | (getattr(mmap, "MAP_POPULATE", 0) if dense else 0)
            i, n = 0, len(rows)
            while i < n:
                a = offs[rows[i]]
                base = a - a % mmap.ALLOCATIONGRANULARITY
                hi = min(size, max(base + window, a + lens[rows[i]]))
                if hi <= base or a + lens[rows[i]] > size:  # the file shrank since the scan
                    return
                j = i
                while j < n and offs[rows[j]] + lens[rows[j]] <= hi:  # the run of rows inside [base, hi)
                    j += 1
                chunk = rows[i:j]
                with mmap.mmap(fd, hi - base, flags=flags, prot=mmap.PROT_READ, offset=base) as mm:
                    texts = [mm[offs[r] - base : offs[r] - base + lens[r]] for r in chunk]
                yield chunk, texts
                i = j
        finally:
            os.close(fd)

    def numbers(self, rows: Sequence[int]) -> list[int]:
        """0-based line numbers of ``rows`` (in file order), counting the file's newlines once if needed."""
        self.number(rows)
        ns = self.ns
        return [ns[r] for r in rows]

    def number(self, rows: Sequence[int]) -> None:
        """Find the line numbers of ``rows`` (in file order) that are not known yet; ``ns`` then holds them."""
        ns, offs = self.ns, self.offs
        todo = array("q", (r for r in rows if ns[r] < 0))  # 8 bytes a row: a million rows are 8 MB, not 36
        for r, n in zip(todo, self.count_lines(offs[r] for r in todo), strict=True):
            ns[r] = n

    def count_lines(self, offsets: Iterable[int]) -> Iterator[int]:
        """0-based line numbers of the lines starting at ``offsets`` (ascending) in the plain file."""
        it = iter(offsets)
        off = next(it, None)
        if off is None:
            return
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            n, pos = 0, 0
            while off is not None:
                if min(off, size) <= pos:  # no newline between: the count so far
                    yield n
                    off = next(it, None)
                    continue
                base = pos - pos % mmap.ALLOCATIONGRANULARITY  # one window mapped at a time, for every offset in
                hi = min(size, base + WINDOW)  # it (a mapping per offset cost 20 us a line); its pages are released
                with mmap.mmap(f.fileno(), hi - base, prot=mmap.PROT_READ, offset=base) as mm:
                    while off is not None and (end := min(off, size)) <= hi:
                        n += count_newlines(mm, pos - base, end - base)
                        pos = end
                        yield n
                        off = next(it, None)
                    if off is not None:  # the next offset lies past this window
                        n += count_newlines(mm, pos - base, hi - base)
                        pos = hi

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
