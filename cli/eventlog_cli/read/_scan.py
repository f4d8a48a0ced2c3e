"""The line scan: every file as (file, line number, text, event type), damaged lines set aside.

How (see PERF-NOTES.md): scan each file as lines with polars, keep only the lines that
may be of the types asked for, and find each line's type. Nothing else is decoded here.

The byte pre-filter may keep too much, never too little: a line of type ``T`` either holds
the quoted value ``"T"`` as written by any writer (any spacing, key order), or spells it
with an escape, and then holds a backslash. So a line is kept when it holds ``"T"``, has
no ``"event"`` key at all (damaged or foreign: kept so it is reported), or holds a
backslash and is not plainly of another type. A line's type comes from its prefix when the
envelope opens it (``{"v":1,"ts":...,"event":"T"`` or ``{"event":"T"``, any spacing; the
first keys are top-level, so this is exact); any other line is decoded by
``json_path_match``. Types are re-checked after decoding (``_loaded``).

Stdin and gzip files are read in line-aligned chunks (``_paths.chunks``): memory stays
bounded by the chunk size plus the lines kept.

With ``seqs``, every line's seq (whatever its type) is summed up in the same pass
(``_seqs.SeqRuns``): the lines themselves need not be kept for the seq check.

Damaged lines become :class:`Skipped` with their line numbers: a torn last line is
marked ``torn`` (the run is still writing, or was killed), anything else is damage.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from eventlog._text import sanitize
from eventlog_cli.errors import DataError
from eventlog_cli.read._paths import chunks, resolve_paths
from eventlog_cli.read._seqs import PREFIX, SeqRuns, seq_parts

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

__all__ = ["PREFIX", "Skipped", "empty", "loads_lenient", "scan"]


def empty() -> pl.DataFrame:
    """The lines frame of no files (built on use: polars is imported lazily)."""
    return pl.DataFrame(schema={"file": pl.UInt32, "n": pl.UInt32, "line": pl.String, "event": pl.String})


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line that was not used, and why."""

    path: str
    line: int  # 1-based
    reason: str
    torn: bool = False


def scan(
    paths: Sequence[str], types: Iterable[str] | None = None, contains: str | None = None, seqs: bool = False
) -> tuple[pl.DataFrame, list[str], list[Skipped], list[SeqRuns] | None]:
    """Read the files, keeping only the lines of ``types`` (all when None).

    Args:
        paths: files, run directories, globs or ``-`` (see ``resolve_paths``).
        types: event types to keep.
        contains: also keep only lines that may hold this literal text, e.g. a JSON-quoted
            key ``'"accuracy"'`` (a pre-filter: lines that hold an escape are kept too, as
            they may spell it differently; the caller re-checks after decoding).
        seqs: also sum up every line's ``seq`` (of any type), file by file, during the scan.

    Returns:
        The lines (``file`` index, 0-based ``n``, ``line``, ``event``), the file names
        (``stdin`` for ``-``), the skipped lines and, with ``seqs``, each file's :class:`SeqRuns`.

    Raises:
        DataError: a path does not exist or cannot be read.
    """
    files = resolve_paths(paths)
    wanted = sorted(set(types)) if types is not None else None
    frames: list[pl.DataFrame] = []
    skipped: list[Skipped] = []
    runs = [SeqRuns() for _ in files] if seqs else None
    for idx, path in enumerate(files):
        seq = runs[idx] if runs is not None else None
        try:
            parts = chunks(path)
            if parts is None:
                frames.append(_scan_file(path, idx, wanted, skipped, contains, seq))
            else:
                frames.extend(_scan_chunks(parts, path, idx, wanted, skipped, contains, seq))
        except OSError as exc:
            msg = f"{sanitize(path)}: cannot read ({exc.strerror or exc})"
            raise DataError(msg) from None
    names = ["stdin" if f == "-" else f for f in files]
    skipped = [Skipped("stdin" if s.path == "-" else s.path, s.line, s.reason, s.torn) for s in skipped]
    return (pl.concat(frames) if frames else empty()), names, skipped, runs


def _scan_file(
    path: str, idx: int, wanted: list[str] | None, skipped: list[Skipped], contains: str | None, seq: SeqRuns | None
) -> pl.DataFrame:
    """A plain file, read by polars itself (``glob=False``: a name such as ``exp[1]`` is a name, not a pattern)."""
    torn = _torn_tail(path)
    if torn is not None:
        skipped.append(Skipped(path, torn[0] + 1, why(torn[1], True), True))
    cut = torn[0] if torn is not None else None
    try:
        lf = pl.scan_lines(path, row_index_name="n", glob=False)
        return _typed_lines(lf, idx, wanted, path, skipped, contains, cut=cut, seq=seq)
    except pl.exceptions.ComputeError:  # invalid UTF-8 somewhere: decode line by line
        with open(path, "rb") as f:
            data = f.read()
        lf = _python_lines(data, path, skipped)
        return _typed_lines(lf, idx, wanted, path, skipped, contains, cut=cut, seq=seq)


def _scan_chunks(
    parts: Iterator[bytes],
    path: str,
    idx: int,
    wanted: list[str] | None,
    skipped: list[Skipped],
    contains: str | None,
    seq: SeqRuns | None,
) -> Iterator[pl.DataFrame]:
    """Stdin or a gzip file, chunk by chunk: only the lines kept stay in memory."""
    offset = 0
    for data in parts:
        cut = None
        if not data.endswith(b"\n"):  # only the last chunk can end without a newline
            torn = _torn_text(data)
            if torn is not None:
                cut = offset + data.count(b"\n")
                skipped.append(Skipped(path, cut + 1, why(torn, True), True))
        try:
            lf = pl.scan_lines(data, row_index_name="n")
            df = _typed_lines(lf, idx, wanted, path, skipped, contains, offset, cut, seq)
        except pl.exceptions.ComputeError:
            lf = _python_lines(data, path, skipped, offset)
            df = _typed_lines(lf, idx, wanted, path, skipped, contains, cut=cut, seq=seq)
        offset += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        # The kept lines are views into this chunk's text: copy the few kept out so the chunk can be freed.
        yield df.with_columns(pl.col("line") + pl.lit("")) if wanted is not None else df


def _python_lines(data: bytes, path: str, skipped: list[Skipped], offset: int = 0) -> pl.LazyFrame:
    """The slow path for text that is not valid UTF-8: bad lines become blank and are reported."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    text = []
    for i, b in enumerate(lines):
        try:
            text.append(b.removesuffix(b"\r").decode("utf-8"))
        except UnicodeDecodeError as exc:
            skipped.append(Skipped(path, offset + i + 1, f"invalid UTF-8 at byte {exc.start}"))
            text.append("")
    return pl.LazyFrame({"n": pl.Series(range(offset, offset + len(text)), dtype=pl.UInt32), "line": text})


def _torn_tail(path: str) -> tuple[int, str] | None:
    """(0-based index, text) of an incomplete last line of a plain file, or None when it ends cleanly."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        if size == 0:
            return None
        f.seek(max(0, size - (1 << 20)))
        data = f.read()
    if not data or data.endswith(b"\n"):
        return None
    text = _torn_text(data)
    if text is None:
        return None
    return pl.scan_lines(path, glob=False).select(pl.len()).collect().item() - 1, text


def _torn_text(data: bytes) -> str | None:
    """The text of the last line of ``data`` (which does not end with a newline) if it is not valid JSON."""
    tail = data.rsplit(b"\n", 1)[-1]
    try:
        orjson.loads(tail.strip().lstrip(b"\xef\xbb\xbf") or b"{}")
        return None
    except orjson.JSONDecodeError:
        return tail.decode("utf-8", "replace")


def _typed_lines(
    lf: pl.LazyFrame,
    idx: int,
    wanted: list[str] | None,
    path: str,
    skipped: list[Skipped],
    contains: str | None = None,
    offset: int = 0,
    cut: int | None = None,
    seq: SeqRuns | None = None,
) -> pl.DataFrame:
    """The lines of ``wanted`` types (with ``event``); ``cut``: a torn line left out; ``seq``: summed up."""
    line = pl.col("line")
    if offset:
        lf = lf.with_columns(pl.col("n") + offset)
    if cut is not None:
        lf = lf.filter(pl.col("n") != cut)
    counted = seq_parts(lf) if seq is not None else None  # every line's seq, before the type filter
    if wanted is not None:  # select before touching the text: nothing else is copied
        escaped = line.str.contains("\\", literal=True)
        typed = line.str.contains_any([orjson.dumps(t).decode() for t in wanted])
        if contains is not None:
            typed = typed & (line.str.contains(contains, literal=True) | escaped)
        foreign = ~line.str.contains('"event"', literal=True)  # damaged or foreign: kept, so they are reported
        lf = lf.filter(typed | foreign | (escaped & ~line.str.contains(PREFIX)))
    # scan_lines already drops the \r of CRLF; a BOM can only open line 0; blank lines are skipped silently.
    kept = (
        lf.with_columns(pl.when(pl.col("n") == 0).then(line.str.strip_prefix("\ufeff")).otherwise(line).alias("line"))
        .filter(line.str.len_bytes() > 0)
        .with_columns(
            pl.lit(idx, dtype=pl.UInt32).alias("file"),
            pl.col("n").cast(pl.UInt32),
            line.str.extract(PREFIX).alias("event"),
        )
    )
    if counted is None:
        df = kept.collect()
    else:  # one pass over the text for both
        df, count, runs = pl.collect_all([kept, *counted])
        seq.add(count.item(), runs)  # type: ignore[union-attr]
    missing = df.filter(pl.col("event").is_null())
    if missing.height:  # not opened by the envelope: decode the top-level "event" properly
        fixed = missing.with_columns(pl.col("line").str.json_path_match("$.event").alias("event"))
        if fixed["event"].null_count():  # json.dumps' bare NaN defeats json_path_match: decode those leniently
            fixed = fixed.with_columns(
                pl.when(pl.col("event").is_null())
                .then(pl.col("line").map_elements(_lenient_event, return_dtype=pl.String))
                .otherwise(pl.col("event"))
                .alias("event")
            )
        df = pl.concat([df.filter(pl.col("event").is_not_null()), fixed]).sort("n")
        seen = {(s.path, s.line) for s in skipped}
        for n, text in fixed.filter(pl.col("event").is_null()).select("n", "line").iter_rows():
            if (path, n + 1) not in seen:
                skipped.append(Skipped(path, n + 1, why(text, False)))
    df = df.filter(pl.col("event").is_not_null())
    if wanted is not None:
        df = df.filter(pl.col("event").is_in(wanted))
    return df.select("file", "n", "line", "event")


_NON_STANDARD = ("NaN", "Infinity")


def loads_lenient(text: str | bytes) -> Any:
    """A line orjson refused, decoded as Python's ``json`` reads it when it holds NaN or Infinity; else None.

    ``json.dumps`` writes a float NaN or ±inf as the bare tokens ``NaN``, ``Infinity`` and
    ``-Infinity`` (not JSON, but what any Python writer without eventlog produces): the
    value is kept as that float rather than the whole line lost.
    """
    probe = text if isinstance(text, str) else text.decode("utf-8", "replace")
    if not any(t in probe for t in _NON_STANDARD):
        return None
    try:
        return json.loads(probe)
    except ValueError:
        return None


def _lenient_event(text: str) -> str | None:
    obj = loads_lenient(text)
    event = obj.get("event") if isinstance(obj, dict) else None
    return event if isinstance(event, str) else None


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
