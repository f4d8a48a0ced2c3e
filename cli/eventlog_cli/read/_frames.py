"""Lines → polars frames: the typed fast path (one ``json_decode`` per type) and the forgiving path.

The fast path builds an explicit dtype from the schema (through ``_dtypes``) and the
metric keys actually present; no schema is guessed from the first rows. Types with
free-form fields, and values of an unexpected type, go through :func:`frame_from_records`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from eventlog._values import as_number
from eventlog_cli.read._dtypes import READERS, reader_of
from eventlog_cli.read._record import Record

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

__all__ = [
    "ENVELOPE_DTYPES",
    "STRING",
    "decode_typed",
    "frame_from_records",
    "is_free",
    "key_of",
    "object_keys",
    "to_columns",
    "to_float",
    "to_numbers",
]

STRING = r'"(?:[^"\\]|\\.)*"'  # one JSON string, escapes included
ENVELOPE_DTYPES: dict[str, str] = {
    "v": "Int64",
    "ts": "Float64",
    "event": "String",
    "run": "String",
    "rank": "Int64",
    "seq": "Int64",
}
"""Envelope field → the name of its polars dtype (named, as polars is imported on first use)."""


_I64 = (-(2**63), 2**63 - 1)


def to_float(e: pl.Expr) -> pl.Expr:
    """Numbers decoded as text ("0.5", "NaN", "Infinity") → Float64."""
    return e.cast(pl.String).cast(pl.Float64, strict=False)


def is_free(et: Any) -> bool:
    """Whether a type must take the Python path (unknown, open, or a field with no dtype)."""
    return et is None or et.extra is not None or any(READERS[reader_of(f)].dtype is None for f in et.fields)


def map_fields(et: Any) -> list[str]:
    """Names of the fields read as maps of numbers (``metrics``, ``timing``)."""
    return [f.name for f in et.fields if reader_of(f) == "float_map"]


def decode_typed(df: pl.DataFrame, et: Any, keys: Mapping[str, Sequence[str]]) -> pl.DataFrame:
    """Decode the lines of one type with the dtype built from its schema.

    Raises:
        polars.exceptions.PolarsError: a value of an unexpected type (the caller falls back).
    """
    fields: dict[str, pl.DataType] = {k: getattr(pl, v)() for k, v in ENVELOPE_DTYPES.items()}
    for f in et.fields:
        make = READERS[reader_of(f)].dtype
        if make is not None:
            fields[f.name] = make(keys.get(f.name, []))
    # Whole numbers are read as Int128 (Int64 would read 2**63 and beyond as null, silently), then
    # narrowed back to Int64 when every value fits: a step of 2**64-1 is shown as itself.
    wide = [k for k, t in fields.items() if t == pl.Int64]
    fields.update({k: pl.Int128() for k in wide})
    decoded = df.select("file", "n", pl.col("line").str.json_decode(pl.Struct(fields)).alias("ev")).unnest("ev")
    if decoded.height:
        bounds = decoded.select(pl.col(wide).min().name.suffix(".lo"), pl.col(wide).max().name.suffix(".hi")).row(0)
        lo, hi = bounds[: len(wide)], bounds[len(wide) :]
        fits = [
            k
            for k, a, b in zip(wide, lo, hi, strict=True)
            if (a is None or a >= _I64[0]) and (b is None or b <= _I64[1])
        ]
        decoded = decoded.with_columns(pl.col(fits).cast(pl.Int64))
    else:
        decoded = decoded.with_columns(pl.col(wide).cast(pl.Int64))
    exprs: list[pl.Expr | pl.Series] = []
    values = [f.name for f in et.fields if READERS[reader_of(f)].to_float == "value" and f.name in decoded.columns]
    if values:  # epoch, duration...: Int64 where every value is written as an integer, else Float64
        exprs += to_numbers(decoded.select(values), df["line"]).get_columns()
    for f in et.fields:
        how = READERS[reader_of(f)].to_float
        if how == "list" and f.name in decoded.columns:
            exprs.append(pl.col(f.name).list.eval(to_float(pl.element())).alias(f.name))
    return decoded.with_columns(exprs) if exprs else decoded


def object_keys(lines: pl.Series, name: str) -> list[str]:
    """Every key of the flat object ``name`` across all lines, in first-seen order.

    Any spelling: spaces around ``:``, braces or escaped quotes in key names, keys in
    ``\\uXXXX`` escapes. A line whose object the pattern cannot read (a nested value, say)
    is decoded with orjson.
    """
    quoted = re.escape(orjson.dumps(name).decode())
    body = lines.str.extract(rf"{quoted}\s*:\s*\{{((?:[^{{}}\"]|{STRING})*)\}}")
    found = body.str.extract_all(rf"{STRING}\s*:").explode().drop_nulls().unique(maintain_order=True).to_list()
    out = [key_of(m) for m in found]
    maybe = lines.str.contains(orjson.dumps(name).decode(), literal=True) | lines.str.contains("\\", literal=True)
    odd = lines.filter(body.is_null() & maybe)
    for text in odd.to_list():  # the pattern could not read it: decode properly
        try:
            obj = orjson.loads(text).get(name)
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if isinstance(obj, dict):
            out.extend(str(k) for k in obj)
    return list(dict.fromkeys(out))


def key_of(match: str) -> str:
    """The key of a match ``"name" :`` (escapes decoded)."""
    text = match[: match.rindex('"') + 1]
    return orjson.loads(text) if "\\" in text else text[1:-1]


_WHOLE = r"^-?[0-9]+$"


def to_numbers(text: pl.DataFrame, lines: pl.Series) -> pl.DataFrame:
    """Decoded number text (``prefix.key`` columns, or fields) → Int64 where the data are integers, else Float64.

    A column is Int64 when it has a value and every value is written as a JSON integer
    (``224``, not ``224.0``, ``2.24e2`` or ``"NaN"``), as the forgiving path's frame has it:
    polars prints ``224.0`` as ``224``, so the lines themselves are checked for a float
    spelling of the key, for the few columns whose text looks whole.
    """
    if text.width == 0:
        return text
    whole = text.select((pl.all().is_null() | pl.all().str.contains(_WHOLE)).all() & pl.all().is_not_null().any())
    candidates = [c for c, ok in zip(text.columns, whole.row(0), strict=True) if ok]
    ints = []
    for c in candidates:
        key = re.escape(orjson.dumps(c.split(".", 1)[-1]).decode())  # metrics.NAME, or a field: epoch
        if not lines.str.contains(rf"{key}\s*:\s*-?[0-9]+[.eE]").any():
            ints.append(c)
    exprs = [
        (pl.col(c).cast(pl.Int64, strict=False) if c in ints else to_float(pl.col(c))).alias(c) for c in text.columns
    ]
    out = text.select(exprs)
    lost = [c for c in ints if out[c].null_count() != text[c].null_count()]  # beyond int64: stays a float
    return out.with_columns(to_float(pl.lit(text[c])).alias(c) for c in lost) if lost else out


def to_columns(struct: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """The fields of a decoded map (one column per key) renamed ``prefix.key``, in one pass (linear in keys)."""
    out = struct.unnest(struct.columns[0])
    out.columns = [f"{prefix}.{k}" for k in out.columns]
    return out


def frame_from_records(records: Sequence[Record], note: Callable[[str], None] | None = None) -> pl.DataFrame:
    """The slow, forgiving path: flatten events in Python (unknown types, odd values).

    A metric value that is not a number becomes null and is passed to ``note``
    with its line, never dropped silently. Like the typed path, the frame has the
    ``file`` and 0-based ``n`` of each event (runs are told apart by file).
    """
    rows = []
    odd: dict[str, list[int]] = {}
    for rec in records:
        row: dict[str, Any] = {}
        for k, v in rec.event.items():
            if isinstance(v, dict) and k in ("metrics", "timing"):
                for mk, mv in v.items():
                    row[f"{k}.{mk}"] = x = as_number(mv)
                    if x is None and mv is not None:
                        odd.setdefault(f"{k}.{mk}", []).append(rec.line)
            elif isinstance(v, (dict, list)):
                row[k] = orjson.dumps(v).decode()
            else:
                row[k] = v
        rows.append(row)
    for col, where in odd.items():
        if note is not None:
            shown = ", ".join(str(n) for n in where[:5]) + (" ..." if len(where) > 5 else "")
            note(f"{col}: {len(where)} value(s) are not numbers (line {shown}); shown as empty")
    if not rows:
        return pl.DataFrame()
    cols = list(dict.fromkeys(k for r in rows for k in r))
    series = []
    for c in cols:
        vals = [r.get(c) for r in rows]
        try:
            s = pl.Series(c, vals, strict=False)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            s = pl.Series(c, [None if v is None else str(v) for v in vals], dtype=pl.String)
        series.append(s)
    located = [
        pl.Series("file", [r.file for r in records], dtype=pl.UInt32),
        pl.Series("n", [r.line - 1 for r in records], dtype=pl.UInt32),
    ]
    return pl.DataFrame([*located, *(x for x in series if x.name not in ("file", "n"))])
