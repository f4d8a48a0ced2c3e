"""The line scan: every file as (file, line number, text, event type), damaged lines set aside.

How (see PERF-NOTES.md): scan each file as lines with polars, keep only the lines whose
text holds ``"event":"<type>"`` for the types asked for (plus lines with no
``"event":"`` at all, which are damaged or from another writer), and find each line's
type from its prefix. Nothing is decoded here.

Damaged lines become :class:`Skipped` with their line numbers: a torn last line is
marked ``torn`` (the run is still writing, or was killed), anything else is damage.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from eventlog_cli.errors import DataError
from eventlog_cli.read._paths import raw_bytes, resolve_paths

__all__ = ["EMPTY", "Skipped", "scan"]

_PREFIX = r'^\{"v":\d+,"ts":[^,]*,"event":"([^"\\]*)"'
EMPTY = pl.DataFrame(schema={"file": pl.UInt32, "n": pl.UInt32, "line": pl.String, "event": pl.String})


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line that was not used, and why."""

    path: str
    line: int  # 1-based
    reason: str
    torn: bool = False


def scan(
    paths: Sequence[str], types: Iterable[str] | None = None, contains: str | None = None
) -> tuple[pl.DataFrame, list[str], list[Skipped]]:
    """Read the files, keeping only the lines of ``types`` (all when None).

    Args:
        paths: files, run directories, globs or ``-`` (see ``resolve_paths``).
        types: event types to keep.
        contains: also keep only lines holding this literal text (a cheap pre-filter,
            e.g. ``'"accuracy":'`` when one metric is asked for).

    Returns:
        The lines (``file`` index, 0-based ``n``, ``line``, ``event``), the file names
        (``stdin`` for ``-``) and the skipped lines.

    Raises:
        DataError: a path does not exist or cannot be read.
    """
    files = resolve_paths(paths)
    wanted = sorted(set(types)) if types is not None else None
    frames: list[pl.DataFrame] = []
    skipped: list[Skipped] = []
    for idx, path in enumerate(files):
        try:
            raw = raw_bytes(path)
            torn = _torn_tail(path, raw)
            if torn is not None:
                skipped.append(Skipped(path, torn[0] + 1, why(torn[1], True), True))
            src: Any = raw if raw is not None else path
            try:
                df = _typed_lines(pl.scan_lines(src, row_index_name="n"), idx, wanted, path, skipped, contains)
            except pl.exceptions.ComputeError:  # invalid UTF-8 somewhere: decode line by line
                df = _typed_lines(_python_lines(path, raw, skipped), idx, wanted, path, skipped, contains)
            if torn is not None:
                df = df.filter(pl.col("n") != torn[0])
            frames.append(df)
        except OSError as exc:
            msg = f"{path}: cannot read ({exc.strerror or exc})"
            raise DataError(msg) from None
    names = ["stdin" if f == "-" else f for f in files]
    skipped = [Skipped("stdin" if s.path == "-" else s.path, s.line, s.reason, s.torn) for s in skipped]
    return (pl.concat(frames) if frames else EMPTY), names, skipped


def _python_lines(path: str, raw: bytes | None, skipped: list[Skipped]) -> pl.LazyFrame:
    """The slow path for files that are not valid UTF-8: bad lines become blank and are reported."""
    data = raw if raw is not None else Path(path).read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    text = []
    for i, b in enumerate(lines):
        try:
            text.append(b.decode("utf-8"))
        except UnicodeDecodeError as exc:
            skipped.append(Skipped(path, i + 1, f"invalid UTF-8 at byte {exc.start}"))
            text.append("")
    return pl.LazyFrame({"n": pl.Series(range(len(text)), dtype=pl.UInt32), "line": text})


def _torn_tail(path: str, raw: bytes | None) -> tuple[int, str] | None:
    """(0-based index, text) of an incomplete last line, or None when the file ends cleanly."""
    if raw is not None:
        data = raw
    else:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size == 0:
                return None
            f.seek(max(0, size - (1 << 20)))
            data = f.read()
    if not data or data.endswith(b"\n"):
        return None
    tail = data.rsplit(b"\n", 1)[-1]
    try:
        orjson.loads(tail.strip().lstrip(b"\xef\xbb\xbf") or b"{}")
        return None
    except orjson.JSONDecodeError:
        pass
    if raw is not None:
        index = data.count(b"\n")
    else:
        index = pl.scan_lines(path).select(pl.len()).collect().item() - 1
    return index, tail.decode("utf-8", "replace")


def _typed_lines(
    lf: pl.LazyFrame,
    idx: int,
    wanted: list[str] | None,
    path: str,
    skipped: list[Skipped],
    contains: str | None = None,
) -> pl.DataFrame:
    line = pl.col("line")
    if wanted is not None:  # select before touching the text: nothing else is copied
        marks = [f'"event":"{t}"' for t in wanted]
        typed = line.str.contains_any(marks)
        if contains is not None:
            typed = typed & line.str.contains(contains, literal=True)
        # Lines without "event":" are damaged or foreign: always kept, so they are reported.
        lf = lf.filter(typed | ~line.str.contains('"event":"', literal=True))
    # scan_lines already drops the \r of CRLF; a BOM can only open line 0; blank lines are skipped silently.
    df = (
        lf.with_columns(pl.when(pl.col("n") == 0).then(line.str.strip_prefix("\ufeff")).otherwise(line).alias("line"))
        .filter(line.str.len_bytes() > 0)
        .with_columns(
            pl.lit(idx, dtype=pl.UInt32).alias("file"),
            pl.col("n").cast(pl.UInt32),
            line.str.extract(_PREFIX).alias("event"),
        )
        .collect()
    )
    missing = df.filter(pl.col("event").is_null())
    if missing.height:
        fixed = missing.with_columns(pl.col("line").str.json_path_match("$.event").alias("event"))
        df = pl.concat([df.filter(pl.col("event").is_not_null()), fixed]).sort("n")
        seen = {(s.path, s.line) for s in skipped}
        for n, text in fixed.filter(pl.col("event").is_null()).select("n", "line").iter_rows():
            if (path, n + 1) not in seen:
                skipped.append(Skipped(path, n + 1, why(text, False)))
    df = df.filter(pl.col("event").is_not_null())
    if wanted is not None:
        df = df.filter(pl.col("event").is_in(wanted))
    return df.select("file", "n", "line", "event")


def short(exc: Exception) -> str:
    """The first words of a JSON decoding error."""
    return str(exc).split(":")[0][:60]


def why(text: str, torn: bool) -> str:
    """Why a line without a readable event type was skipped."""
    if torn:
        return "the last line is incomplete (the run is still writing, or was killed)"
    if "\x00" in text:
        return "NUL bytes"
    try:
        v = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return f"not valid JSON ({short(exc)})"
    if not isinstance(v, dict):
        return f"a JSON {'array' if isinstance(v, list) else 'scalar'}, not an object"
    return 'no "event" field'
