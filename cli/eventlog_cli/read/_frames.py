"""What the frames of a type are made of, and the forgiving path.

The typed path (``_decode``) builds msgspec structs from the schema and the metric keys
actually present; no schema is guessed from the first rows. Types with free-form fields,
and values of an unexpected type, go through :func:`frame_from_records`.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import orjson

from eventlog._constants import NONFINITE, decode_nonfinite
from eventlog._values import as_number
from eventlog_cli.read._dtypes import READERS, reader_of
from eventlog_cli.read._record import Record

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

__all__ = ["ENVELOPE_DTYPES", "SHADOWED", "frame_from_records", "is_free", "map_fields"]

ENVELOPE_DTYPES: dict[str, str] = {
    "v": "Int64",
    "ts": "Float64",
    "event": "String",
    "run": "String",
    "rank": "Int64",
    "seq": "Int64",
}
"""Envelope field → the name of its polars dtype (named, as polars is imported on first use)."""


SHADOWED = {"file": "payload.file", "n": "payload.n"}
"""A payload field named like a frame's own ``file``/``n`` columns → its column (``export`` gives it its name back)."""

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_ENVELOPE_NUMBERS = frozenset(k for k, dtype in ENVELOPE_DTYPES.items() if dtype != "String")


def _envelope_number(v: Any, dtype: str) -> Any:
    """An envelope value as its dtype says (a whole number for Int64), or None when it is not one."""
    x = as_number(v)
    if x is None or dtype != "Int64":
        return x
    if type(v) is int:
        return v
    return int(x) if math.isfinite(x) and float(x).is_integer() else None


def is_free(et: Any) -> bool:
    """Whether a type must take the Python path (unknown, open, or a field with no dtype)."""
    return et is None or et.extra is not None or any(READERS[reader_of(f)].dtype is None for f in et.fields)


def map_fields(et: Any) -> list[str]:
    """Names of the fields read as maps of numbers (``metrics``, ``timing``)."""
    return [f.name for f in et.fields if reader_of(f) == "float_map"]


def _spelled_numbers(vals: list[Any]) -> list[Any]:
    """A column of numbers where some are spelled ``"NaN"``/``"Infinity"`` (how the library writes a non-finite
    float in a free-form field) as numbers, so it is a Float64 column, not text; any other column unchanged."""
    spelled = real = False
    for v in vals:
        t = type(v)
        if t is str and v in NONFINITE:
            spelled = True
        elif t is int or t is float:
            real = True
        elif v is not None:
            return vals
    return [decode_nonfinite(v) for v in vals] if spelled and real else vals


def frame_from_records(
    records: Iterable[Record], note: Callable[[str, list[tuple[int, int]], int], None] | None = None
) -> pl.DataFrame:
    """The slow, forgiving path: flatten events in Python (unknown types, odd values).

    A metric value that is not a number becomes null and is passed to ``note`` (the column, the
    (file, line) of its first five, how many), never dropped silently. Like the typed path, the frame has the
    ``file`` and 0-based ``n`` of each event (runs are told apart by file); payload fields
    of those names are kept as ``payload.file`` and ``payload.n`` (:data:`SHADOWED`).
    ``records`` may be a stream (``Loaded.stream``): each event is flattened into columns as it
    comes and not kept, so memory is the columns, not the events.
    """
    cols: dict[str, list[Any]] = {}
    files, lines = array("I"), array("I")
    odd: dict[str, list[tuple[int, int]]] = {}
    count = 0
    for rec in records:
        row: dict[str, Any] = {}
        for k, v in rec.event.items():
            if isinstance(v, dict) and k in ("metrics", "timing"):
                for mk, mv in v.items():  # an int64 stays an int (2**53+1 exact), as on the typed path
                    row[f"{k}.{mk}"] = x = mv if type(mv) is int and _INT64_MIN <= mv <= _INT64_MAX else as_number(mv)
                    if x is None and mv is not None:
                        odd.setdefault(f"{k}.{mk}", []).append((rec.file, rec.line))
            elif k in _ENVELOPE_NUMBERS:  # keeps its dtype: a rank "0" or a ts "x" is noted, not a text column
                row[k] = x = _envelope_number(v, ENVELOPE_DTYPES[k])
                if x is None and v is not None:
                    odd.setdefault(k, []).append((rec.file, rec.line))
            elif k == "step" and type(v) is not int and type(v) is not float:  # a step "13" or true: no step
                row[k] = None  # (as text it made every step text, sorted 1, 10, 11, 2, ...)
                if v is not None:
                    odd.setdefault(k, []).append((rec.file, rec.line))
            elif isinstance(v, (dict, list)):
                row[SHADOWED.get(k, k)] = orjson.dumps(v).decode()
            else:
                row[SHADOWED.get(k, k)] = v
        for k, v in row.items():
            col = cols.get(k)
            if col is None:
                col = cols[k] = [None] * count  # a column first seen here: empty in the rows before
            col.append(v)
        count += 1
        for col in cols.values():
            if len(col) < count:  # a column this event does not have
                col.append(None)
        files.append(rec.file)
        lines.append(rec.line - 1)
    for name, where in odd.items():
        if note is not None:
            note(name, where[:5], len(where))
    if not count:
        return pl.DataFrame()
    series = []
    for c, given in cols.items():
        vals = _spelled_numbers(given)
        try:
            s = pl.Series(c, vals, strict=False)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            s = pl.Series(c, [None if v is None else str(v) for v in vals], dtype=pl.String)
        series.append(s)
    located = [pl.Series("file", files, dtype=pl.UInt32), pl.Series("n", lines, dtype=pl.UInt32)]
    return pl.DataFrame([*located, *series])
