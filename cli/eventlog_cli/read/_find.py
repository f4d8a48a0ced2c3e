"""Line selection by substring (the scan's **find** way): which lines of a window may be of the wanted types.

A line of type ``T`` holds ``"T"`` as any writer spells it (or the quoted ``contains`` text,
then a type name in the same line), or writes it with an escape and then holds a backslash:
lines with a backslash are kept too unless their envelope plainly names another type. The
line a crash cut short before a resumed run appended (the writer ends it with a newline, so
it comes just before a ``run_start``, or last in a window when that run_start opens the next)
is kept whatever needle it lost, unless it plainly names another type, so that it is reported.
Each needle is one pass over the window (the C library's ``memmem``), side by side on threads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from eventlog_cli.read._memmem import Find, side_by_side
from eventlog_cli.read._seqs import PREFIX
from eventlog_cli.read._why import loads_lenient

__all__ = ["find_lines", "no_cr"]

_THREADS_FROM = 1 << 20  # bytes of a window from which its searches run on threads of their own
_PLAIN_PREFIX = re.compile(PREFIX.removeprefix("^").encode())


def find_lines(wanted: list[str], contains: str | None, buf: Any, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of the lines in ``buf[start:end]`` that may be of the ``wanted`` types (and hold ``contains``)."""
    quoted = [orjson.dumps(t) for t in wanted]
    primary = [contains.encode()] if contains is not None else quoted
    require = quoted if contains is not None else None
    find, rfind = buf.find, buf.rfind

    def line_at(j: int) -> tuple[int, int]:
        k = rfind(b"\n", start, j)
        e = find(b"\n", j, end)
        return (start if k < 0 else k + 1), (end if e < 0 else e)

    def by(needle: bytes) -> Callable[[Find], dict[int, int]]:
        def lines(search: Find) -> dict[int, int]:
            found, i = {}, start
            while (j := search(needle, i, end)) >= 0:
                s, e = line_at(j)
                if require is None or any(find(r, s, e) >= 0 for r in require) or find(b"\\", s, e) >= 0:
                    found[s] = e
                i = e + 1
            return found

        return lines

    def escaped(search: Find) -> dict[int, int]:  # an escape may spell the type: kept unless plainly another type
        found, i = {}, start
        while (j := search(b"\\", i, end)) >= 0:
            s, e = line_at(j)
            m = _PLAIN_PREFIX.match(buf, s, e)
            if m is None or m.group(1).decode("utf-8", "replace") in wanted:
                found[s] = e
            i = e + 1
        return found

    def cut_short(s: int, e: int) -> bool:  # damaged, and not plainly of another type
        text = no_cr(buf[s:e])
        try:
            orjson.loads(text)
            return False
        except orjson.JSONDecodeError:
            m = _PLAIN_PREFIX.match(text)
            return loads_lenient(text) is None and (m is None or m.group(1).decode("utf-8", "replace") in wanted)

    def resumed(search: Find) -> dict[int, int]:  # the line before a run_start: a crash may have cut it short
        found, i = {}, start
        while (j := search(b'"run_start"', i, end)) >= 0:
            s, e = line_at(j)
            if s > start and cut_short(*(before := line_at(s - 1))):
                found[before[0]] = before[1]
            i = e + 1
        return found

    found: dict[int, int] = {}
    if end > start and cut_short(*(last := line_at(end - 1))):  # the line before a run_start in the next window
        found[last[0]] = last[1]
    searches = [*map(by, primary), escaped, resumed]  # a pass over the window each: side by side on a large one
    for part in side_by_side(buf, searches, threads=end - start >= _THREADS_FROM):
        for s, e in part.items():
            found.setdefault(s, e)
    return sorted(found.items())


def no_cr(text: bytes) -> bytes:
    return text[:-1] if text.endswith(b"\r") else text
