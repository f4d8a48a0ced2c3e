"""Lines of one type → columns: typed msgspec structs built from the schema, then polars frames.

msgspec decodes a line into a struct of just the fields asked for (the envelope, the schema's
fields, the wanted keys of ``metrics``/``timing``) and skips the rest without building it: on
the bench's 65k step_metrics lines, 0.10 s against 0.39 s for polars ``json_decode`` with an
explicit dtype and 0.36 s for ``orjson.loads`` of whole lines (bench/generate.py, 1M events).
Values of an unexpected type raise ``msgspec.ValidationError``: the caller falls back to
the forgiving path (``_frames.frame_from_records``).

Numbers follow the typed path's rules: a column whose values are all written as JSON integers
is Int64 (``224`` stays ``224`` in ``--json``/``--csv``, as the forgiving path has it; beyond
int64 it is a float), any other mix of ints and floats is Float64, ``"NaN"``/``"Infinity"``
and numeric text are their float; anything else in a map of numbers is null and counted as
"not a number" (the caller names the lines).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Optional, Union

from eventlog_cli.read._dtypes import reader_of
from eventlog_cli.read._frames import ENVELOPE_DTYPES

if TYPE_CHECKING:
    import msgspec
    import polars as pl
else:
    from eventlog_cli._lazy import msgspec
    from eventlog_cli._lazy import polars as pl

__all__ = ["BAD", "Decoder", "keys_decoder", "known_keys", "number"]

_Num = Union[int, float, str, None]  # noqa: UP007 (msgspec reads typing unions; an int stays an int)
_TYPES: dict[str, Any] = {
    "int": Optional[int],  # noqa: UP045
    "float": _Num,
    "str": Optional[str],  # noqa: UP045
    "bool": Optional[bool],  # noqa: UP045
    "int_list": Optional[list[int]],  # noqa: UP045
    "str_list": Optional[list[str]],  # noqa: UP045
    "float_list": Optional[list[_Num]],  # noqa: UP045
}
_ENVELOPE: dict[str, Any] = {
    "v": Optional[int],  # noqa: UP045
    "ts": Optional[float],  # noqa: UP045
    "event": Optional[str],  # noqa: UP045
    "run": Optional[str],  # noqa: UP045
    "rank": Optional[int],  # noqa: UP045
    "seq": Optional[int],  # noqa: UP045
}
_ODD = re.compile(r'["\\\x00-\x1f]')  # characters msgspec refuses in a field's JSON name
BAD = object()  # a value present that is not a number


def number(x: Any) -> Any:
    """A decoded JSON value as a float; None for null; :data:`BAD` for anything that is not a number."""
    if x is None or type(x) is float:
        return x
    if isinstance(x, bool):
        return BAD
    if isinstance(x, int):
        try:
            return float(x)
        except OverflowError:  # beyond a float: its infinity (copysign would overflow converting it too)
            return math.inf if x > 0 else -math.inf
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return BAD
    return BAD


def _struct(name: str, fields: Sequence[tuple[str, Any]]) -> Any:
    """A struct whose JSON names are ``fields`` (any text) and whose attributes are ``f0``, ``f1``...

    Not tracked by the garbage collector (``gc=False``: its values are numbers, text and lists, never a
    cycle back to it): a frame's tens of thousands of structs would otherwise make each collection
    walk them all (the columns took twice as long).
    """
    return msgspec.defstruct(
        name,
        [(f"f{i}", t, None) for i, (_, t) in enumerate(fields)],
        rename={f"f{i}": k for i, (k, _) in enumerate(fields)},
        gc=False,
    )


class Decoder:
    """Decodes the lines of one event type into column chunks (envelope, fields, ``map.key`` numbers)."""

    def __init__(self, et: Any, keys: Mapping[str, Sequence[str]]) -> None:
        self.scalars: list[tuple[str, str]] = [(k, "envelope") for k in ENVELOPE_DTYPES]
        self.maps: list[tuple[str, list[str], bool]] = []  # name, keys, decoded as a dict
        fields: list[tuple[str, Any]] = list(_ENVELOPE.items())
        for f in et.fields:
            reader = reader_of(f)
            if reader == "float_map":
                ks = list(dict.fromkeys(keys.get(f.name, [])))
                whole = any(_ODD.search(k) for k in ks)  # msgspec cannot name a field so: the whole object
                self.maps.append((f.name, ks, whole))
                inner = dict[str, Any] if whole else _struct(f"{f.name}_map", [(k, Any) for k in ks])
                fields.append((f.name, Optional[inner]))  # noqa: UP045
            else:
                self.scalars.append((f.name, reader))
                fields.append((f.name, _TYPES[reader]))
        self.names = [n for n, _ in fields]
        self.decoder = msgspec.json.Decoder(_struct("Line", fields))

    def decode(self, texts: Sequence[bytes]) -> list[Any]:
        """The structs of these lines. Raises msgspec.ValidationError / DecodeError (the caller falls back)."""
        dec = self.decoder.decode
        return [dec(t) for t in texts]

    def columns(self, objs: Sequence[Any], file: Sequence[int]) -> tuple[pl.DataFrame, dict[str, list[int]]]:
        """A frame of the decoded structs and, per ``map.key`` column, the rows whose value is not a number."""
        index = {n: i for i, n in enumerate(self.names)}
        names = [n for n, _ in self.scalars] + [n for n, _, _ in self.maps]
        fields = _transpose(objs, [f"f{index[n]}" for n in names])
        cols: list[pl.Series] = [pl.Series("file", file, dtype=pl.UInt32)]
        for (name, reader), vals in zip(self.scalars, fields, strict=False):
            cols.append(_series(name, ENVELOPE_DTYPES.get(name) if reader == "envelope" else reader, vals))
        bad: dict[str, list[int]] = {}
        for (name, ks, whole), maps in zip(self.maps, fields[len(self.scalars) :], strict=True):
            if not ks:
                continue
            if whole:
                present = [{} if m is None else m for m in maps]
                values = [[m.get(k) for m in present] for k in ks]
            else:
                values = _transpose(maps, [f"f{j}" for j in range(len(ks))])
            for k, vals in zip(ks, values, strict=True):
                col, rows = _numbers(f"{name}.{k}", vals)
                if rows:
                    bad[f"{name}.{k}"] = rows
                cols.append(col)
        return pl.DataFrame(cols), bad


def _transpose(objs: Sequence[Any], attrs: list[str]) -> list[list[Any]]:
    """The values of ``attrs`` of every object (None when the object is None), one list per attribute.

    A column at a time (``map`` of one getter: no tuple per object, a third of the time of a row-wise
    zip on the bench's step lines).
    """
    if None not in objs:
        return [list(map(attrgetter(a), objs)) for a in attrs]
    return [[None if o is None else get(o) for o in objs] for get in map(attrgetter, attrs)]


_FLOATS = frozenset({float, type(None)})  # type sets: one C-level pass over a column instead of a generator
_INTS = frozenset({int, type(None)})
_MIXED = frozenset({float, int, type(None)})


def _whole(name: str, vals: list[Any]) -> pl.Series | None:
    """An Int64 column when every present value is a JSON integer (and one is present, and all fit), else None."""
    if not _INTS.issuperset(map(type, vals)) or vals.count(None) == len(vals):
        return None
    try:
        return pl.Series(name, vals, dtype=pl.Int64)
    except (OverflowError, TypeError, ValueError, pl.exceptions.PolarsError):  # beyond int64: a float
        return None


def _numbers(name: str, vals: list[Any]) -> tuple[pl.Series, list[int]]:
    """A column of numbers (Int64 when all are integers, else Float64) and the rows whose value is not a number."""
    types = set(map(type, vals))
    if _FLOATS.issuperset(types):
        return pl.Series(name, vals, dtype=pl.Float64), []
    if (ints := _whole(name, vals)) is not None:
        return ints, []
    if _MIXED.issuperset(types):  # ints among floats: each int as its float (one beyond 64 bits: below)
        with contextlib.suppress(OverflowError, TypeError, ValueError, pl.exceptions.PolarsError):
            return pl.Series(name, vals, dtype=pl.Float64), []
    nums = [v if v.__class__ is float else number(v) for v in vals]  # "NaN" and numeric text: their float
    rows = [i for i, v in enumerate(nums) if v is BAD]
    return pl.Series(name, [None if v is BAD else v for v in nums], dtype=pl.Float64), rows


def _series(name: str, kind: str | None, vals: list[Any]) -> pl.Series:
    """One column of scalars or lists, typed as the reader says (whole numbers: Int64, wider when needed)."""
    if kind in ("int", "Int64"):
        for dtype in (pl.Int64, pl.Int128):
            try:
                return pl.Series(name, vals, dtype=dtype)
            except (OverflowError, TypeError, ValueError, pl.exceptions.PolarsError):
                continue
        return pl.Series(name, [None if v is None else str(v) for v in vals], dtype=pl.String)
    if kind in ("float", "Float64"):
        if kind == "float" and (ints := _whole(name, vals)) is not None:  # epoch, duration written as integers
            return ints
        if _FLOATS.issuperset(map(type, vals)):
            return pl.Series(name, vals, dtype=pl.Float64)
        return pl.Series(name, [None if (x := number(v)) is BAD else x for v in vals], dtype=pl.Float64)
    if kind == "float_list":
        out = [None if v is None else [None if (x := number(e)) is BAD else x for e in v] for v in vals]
        return pl.Series(name, out, dtype=pl.List(pl.Float64))
    if kind == "int_list":
        return pl.Series(name, vals, dtype=pl.List(pl.Int64))
    if kind == "str_list":
        return pl.Series(name, vals, dtype=pl.List(pl.String))
    if kind == "bool":
        return pl.Series(name, vals, dtype=pl.Boolean)
    return pl.Series(name, vals, dtype=pl.String)


def keys_decoder(field: str) -> Any:
    """A decoder of one top-level object field (its keys are what is wanted; values are skipped over)."""
    return msgspec.json.Decoder(_struct("Keys", [(field, Optional[dict[str, Any]])]))  # noqa: UP045


def known_keys(maps: Sequence[tuple[str, Sequence[str]]]) -> Any:
    """``decode``: a line's ``event`` and maps, accepting only maps whose keys are among the given ones.

    Such a line brings no new key, so its maps are never built: 3.1 against 5.0 µs for a line of
    20 numbers decoded with its maps as dicts (the scan's check of the bench's step_metrics lines).
    A map with another key, or that is not an object, raises ``msgspec.ValidationError``. None
    when a key cannot name a struct field.
    """
    fields: list[tuple[str, Any, Any]] = [("event", Any, None)]
    for name, ks in maps:
        if any(_ODD.search(k) for k in ks):
            return None
        inner = msgspec.defstruct(
            f"{name}_keys",
            [(f"f{i}", Any, None) for i in range(len(ks))],
            rename={f"f{i}": k for i, k in enumerate(ks)},
            forbid_unknown_fields=True,
            gc=False,
        )
        fields.append((name, Optional[inner], None))  # noqa: UP045
    return msgspec.json.Decoder(msgspec.defstruct("Known", fields, gc=False)).decode
