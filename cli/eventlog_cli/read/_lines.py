"""The every-line way of the scan: polars reads a window as lines and keeps those that may be of the types.

Used when there are no types (every line is kept), many types, or every line's seq is summed
up. A line is kept when it holds one of the quoted type names (``contains_any``), has no
``"event"`` key at all (damaged or foreign: kept so that it is reported), or holds a
backslash and its envelope prefix does not plainly name another type. The scan then checks
each kept line whole (``_scan._Scan.keep``). A small window without seqs is selected the
same way line by line in Python (``_small``): a command on a small run imports no polars to
scan it (tests/test_scan_paths.py holds the two ways to the same answer).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson

from eventlog_cli.read._record import Skipped
from eventlog_cli.read._seqs import PREFIX, SeqRuns, seq_parts

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

__all__ = ["SMALL", "every_line"]

_PREFIX = re.compile(PREFIX)  # what polars' str.contains(PREFIX) finds, for the small windows


SMALL = 4 << 20  # bytes of a window read line by line in Python: below this, importing polars costs more


def every_line(
    data: bytes, idx: int, state: Any, path: str, first: int, seq: SeqRuns | None
) -> list[tuple[int, int, bytes]]:
    """Every line of a window that may be of the wanted types: (``n``, offset in the window, text)."""
    if seq is None and len(data) <= SMALL:
        return _small(data, state, path, first)
    return [(n, off, line.encode()) for n, off, line in _frame(data, idx, state, path, first, seq).iter_rows()]


def _small(data: bytes, state: Any, path: str, first: int) -> list[tuple[int, int, bytes]]:
    """:func:`_frame`'s selection line by line in Python, for a small window (no polars to import)."""
    quoted = [orjson.dumps(t) for t in state.wanted] if state.wanted is not None else None
    contains = state.contains.encode() if state.contains is not None else None
    out: list[tuple[int, int, bytes]] = []
    pos = 0
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for i, line in enumerate(lines):
        off, pos = pos, pos + len(line) + 1
        line = line.removesuffix(b"\r")
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:  # as _python_lines: reported whatever its type, then left out
                state.skipped.append(Skipped(path, first + i + 1, f"invalid UTF-8 at byte {exc.start}"))
                continue
        if not line:
            continue
        if quoted is not None:
            escaped = b"\\" in line
            typed = any(q in line for q in quoted) and (contains is None or contains in line or escaped)
            foreign = b'"event"' not in line
            if not (typed or foreign or (escaped and _PREFIX.match(line.decode("utf-8")) is None)):
                continue
        out.append((first + i, off, line))
    return out


def _frame(data: bytes, idx: int, state: Any, path: str, first: int, seq: SeqRuns | None) -> pl.DataFrame:
    """Every line of a window that may be of the wanted types (``n``, ``off`` in the window, ``line``)."""
    if b"\r" not in data:
        try:
            lf = pl.scan_lines(data, row_index_name="n").with_columns(
                (pl.col("line").str.len_bytes() + 1).cum_sum().alias("off")
            )
            lf = lf.with_columns(pl.col("off") - pl.col("line").str.len_bytes() - 1)
            return _typed_lines(lf, idx, state.wanted, path, state.skipped, state.contains, first, seq)
        except pl.exceptions.ComputeError:  # invalid UTF-8 somewhere: line by line
            pass
    lf = _python_lines(data, path, state.skipped, first)
    return _typed_lines(lf, idx, state.wanted, path, state.skipped, state.contains, 0, seq)


def _python_lines(data: bytes, path: str, skipped: list[Skipped], offset: int = 0) -> pl.LazyFrame:
    """The slow path for text that is not valid UTF-8 or has CRLF ends: bad lines become blank and are reported."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    text, offs = [], []
    pos = 0
    for i, b in enumerate(lines):
        offs.append(pos)
        pos += len(b) + 1
        try:
            text.append(b.removesuffix(b"\r").decode("utf-8"))
        except UnicodeDecodeError as exc:
            skipped.append(Skipped(path, offset + i + 1, f"invalid UTF-8 at byte {exc.start}"))
            text.append("")
    return pl.LazyFrame(
        {
            "n": pl.Series(range(offset, offset + len(text)), dtype=pl.UInt32),
            "line": text,
            "off": pl.Series(offs, dtype=pl.Int64),
        }
    )


def _typed_lines(
    lf: pl.LazyFrame,
    idx: int,
    wanted: list[str] | None,
    path: str,
    skipped: list[Skipped],
    contains: str | None = None,
    offset: int = 0,
    seq: SeqRuns | None = None,
) -> pl.DataFrame:
    """The lines of ``wanted`` types (``n``, ``off``, ``line``); ``seq``: every line's seq summed up."""
    line = pl.col("line")
    if offset:
        lf = lf.with_columns(pl.col("n") + offset)
    counted = seq_parts(lf) if seq is not None else None  # every line's seq, before the type filter
    if wanted is not None:  # select before touching the text: nothing else is copied
        escaped = line.str.contains("\\", literal=True)
        typed = line.str.contains_any([orjson.dumps(t).decode() for t in wanted])
        if contains is not None:
            typed = typed & (line.str.contains(contains, literal=True) | escaped)
        foreign = ~line.str.contains('"event"', literal=True)  # damaged or foreign: kept, so they are reported
        lf = lf.filter(typed | foreign | (escaped & ~line.str.contains(PREFIX)))
    kept = lf.filter(line.str.len_bytes() > 0).select(pl.col("n").cast(pl.Int64), pl.col("off").cast(pl.Int64), "line")
    if counted is None:
        return kept.collect()
    df, count, runs = pl.collect_all([kept, *counted])  # one pass over the text for all three
    seq.add(count.item(), runs)  # type: ignore[union-attr]
    return df
