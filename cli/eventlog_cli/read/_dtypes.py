"""Field kind → polars dtype, in one table keyed by the field's reader name.

The library gives every field kind a reader name (``int``, ``float``, ``str``, ``bool``,
``json``, ``float_map``, ``int_list``, ``str_list``, ``float_list``, ``float_lists``).
:func:`reader_of` is the one place that finds a field's reader; the loader only
looks readers up in :data:`READERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

__all__ = ["READERS", "Reader", "reader_of"]


@dataclass(frozen=True, slots=True)
class Reader:
    """How the fast path decodes a field of this reader.

    Args:
        dtype: the dtype ``json_decode`` reads it as, given the keys present (for maps);
            None means the type is read by the forgiving Python path.
        to_float: the decoded text is cast to Float64 afterwards ("NaN" and "Infinity"
            are strings in the file, so numbers are read as text first).
    """

    dtype: Callable[[Sequence[str]], pl.DataType] | None
    to_float: str = ""  # "", "value" or "list"


READERS: dict[str, Reader] = {
    "int": Reader(lambda _: pl.Int64()),
    "float": Reader(lambda _: pl.String(), to_float="value"),
    "str": Reader(lambda _: pl.String()),
    "bool": Reader(lambda _: pl.Boolean()),
    "float_map": Reader(lambda keys: pl.Struct({k: pl.String() for k in keys})),
    "int_list": Reader(lambda _: pl.List(pl.Int64())),
    "str_list": Reader(lambda _: pl.List(pl.String())),
    "float_list": Reader(lambda _: pl.List(pl.String()), to_float="list"),
    "float_lists": Reader(None),
    "json": Reader(None),
}


def reader_of(field: Any) -> str:
    """The reader name of a schema field: its kind's ``reader`` (the library's one event model)."""
    return str(field.spec.reader)
