"""Turn caller values into plain JSON-ready values at emit() time.

Everything that could make the writer thread fail is decided here, on the
caller's thread, so an error names the field it came from. The result is a
snapshot: containers are copied, arrays converted, so a caller mutating its
objects after emit() cannot change what is written.

Non-finite floats are stored with the codec of ``_constants``
(``"NaN"``, ``"Infinity"``, ``"-Infinity"``); readers turn them back into
floats wherever the schema says "number".
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import os
from collections.abc import Mapping
from typing import Any

from eventlog._constants import NONFINITE, decode_nonfinite, encode_nonfinite
from eventlog.exceptions import EncodeError

__all__ = [
    "NONFINITE",
    "as_count",
    "as_number",
    "decode_nonfinite",
    "safe_repr",
    "to_any",
    "to_any_partly",
    "to_float",
    "to_number",
    "to_number_map",
    "to_str",
    "unwrap_scalar",
]

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1  # every int field is int64: what emit() accepts, every reader reads back
_MAX_DEPTH = 64


def as_number(v: Any) -> float | None:
    """A decoded JSON value as a float (non-finite spellings included); None when it is not a number."""
    v = decode_nonfinite(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def as_count(v: Any) -> Any:
    """A total (``total_steps=np.int64(35)``, ``np.ceil(34.5)``) as an int when it is a whole number; else ``v``."""
    u = _unwrap_scalar(v) if not isinstance(v, (int, float)) else v
    if isinstance(u, bool):
        return v
    if isinstance(u, int):
        return int(u)
    if isinstance(u, float) and u.is_integer():
        return int(u)
    return v


def to_float(v: Any) -> float:
    """Inverse of the encoding for one number: ``"NaN"`` → nan, numbers unchanged."""
    if isinstance(v, str):
        return NONFINITE[v]
    return float(v)


def to_str(v: str, where: str) -> str:
    """Check a str can be encoded as UTF-8 (no lone surrogates)."""
    if not v.isascii():
        try:
            v.encode("utf-8")
        except UnicodeEncodeError as exc:
            msg = f"{where}: string holds a lone surrogate at index {exc.start}; it cannot be stored as UTF-8"
            raise EncodeError(msg) from None
    return v


def _unwrap_scalar(v: Any) -> Any:
    """numpy / torch scalars and 0-d arrays → Python scalars (duck-typed)."""
    item = getattr(v, "item", None)
    if item is None:
        return v
    shape = getattr(v, "shape", ())
    if shape not in ((), None) and _n_elements(v) != 1:
        return v
    try:
        return item()
    except (TypeError, ValueError, RuntimeError):
        return v


unwrap_scalar = _unwrap_scalar  # used by the int kind's check


def _n_elements(v: Any) -> int | None:
    numel = getattr(v, "numel", None)  # torch: numel(); numpy: size is an int
    if callable(numel):
        return int(numel())
    size = getattr(v, "size", None)
    return size if isinstance(size, int) else None


def to_number(v: Any, where: str) -> int | float | str:
    """A number (bool, int, float, numpy or torch scalar) ready for JSON."""
    t = type(v)
    if t is float:
        return v if v - v == 0.0 else encode_nonfinite(v)
    if t is int:
        if _INT_MIN <= v <= _INT_MAX:
            return v
        msg = f"{where}: integer {v} does not fit in 64 bits (int64: -2**63 .. 2**63-1); convert it to float or str"
        raise EncodeError(msg)
    if t is bool:
        return int(v)
    if isinstance(v, (int, float)):  # a subclass, an IntEnum: its number (the lean path stores the same)
        return to_number(float(v) if isinstance(v, float) else int(v), where)
    u = _unwrap_scalar(v)
    if u is not v and isinstance(u, (int, float)):
        return to_number(u, where)
    msg = f"{where}: expected a number, got {type(v).__name__}"
    raise EncodeError(msg)


def to_number_map(d: Any, where: str) -> dict[str, int | float | str | None]:
    """A mapping of name → number (or None: not measured), copied; the hot path for ``metrics``."""
    if not isinstance(d, Mapping):
        msg = f"{where}: expected an object of name → number, got {type(d).__name__}"
        raise EncodeError(msg)
    out: dict[str, int | float | str | None] = {}
    for k, v in d.items():
        if type(k) is not str:
            msg = f"{where}: key {k!r} is not a string"
            raise EncodeError(msg)
        if type(v) is float and v - v == 0.0:
            out[k] = v
        elif v is None:  # "not measured" (TRL logs None when every value was NaN): kept as null
            out[k] = None
        else:
            out[k] = to_number(v, f"{where}.{k}")
    return out


def to_any(v: Any, where: str, _depth: int = 0, _seen: frozenset[int] = frozenset()) -> Any:
    """Any JSON-able value, copied: containers, numpy, torch, dataclasses, datetimes."""
    t = type(v)
    if t is str:
        return to_str(v, where)
    if t is float or t is int or t is bool:
        return v if t is bool else to_number(v, where)
    if v is None:
        return None
    if _depth > _MAX_DEPTH:
        msg = f"{where}: nested deeper than {_MAX_DEPTH} levels"
        raise EncodeError(msg)
    if isinstance(v, (dict, list, tuple, Mapping)) or dataclasses.is_dataclass(v):
        if id(v) in _seen:
            msg = f"{where}: value contains itself (a reference cycle)"
            raise EncodeError(msg)
        seen = _seen | {id(v)}
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            v = {f.name: getattr(v, f.name) for f in dataclasses.fields(v)}
        if isinstance(v, Mapping):
            out: dict[str, Any] = {}
            for k, x in v.items():
                key = k if type(k) is str else _key_text(k, where)
                if key in out:
                    msg = f"{where}: keys {key!r} and {k!r} collide once stored as JSON strings; rename one"
                    raise EncodeError(msg)
                out[to_str(key, where)] = to_any(x, f"{where}.{key}", _depth + 1, seen)
            return out
        return [to_any(x, f"{where}[{i}]", _depth + 1, seen) for i, x in enumerate(v)]
    if isinstance(v, str):
        return to_str(str.__str__(v), where)  # its value, whatever its class's __str__ says
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, os.PathLike):  # a Path in a config: its text, as str() gives it
        path = os.fspath(v)
        return to_str(path if isinstance(path, str) else os.fsdecode(path), where)
    if isinstance(v, enum.Enum):
        return to_any(v.value, where, _depth + 1, _seen)
    if isinstance(v, (int, float)):
        return to_number(v, where)
    u = _unwrap_scalar(v)
    if u is not v:
        return to_any(u, where, _depth + 1, _seen)
    tolist = getattr(v, "tolist", None)
    if tolist is not None:
        return to_any(tolist(), where, _depth + 1, _seen)
    msg = f"{where}: cannot store a {type(v).__name__} as JSON; pass a number, str, list or dict"
    raise EncodeError(msg)


def to_any_partly(v: Any, where: str, _depth: int = 0, _seen: frozenset[int] = frozenset()) -> Any:
    """:func:`to_any`, where each value it refuses becomes its :func:`safe_repr` and the rest is kept: one
    torch dtype or Path in a config, a Decimal in a metrics map, no longer turns the whole field into text."""
    try:
        return to_any(v, where, _depth, _seen)
    except EncodeError:
        pass
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        v = {f.name: getattr(v, f.name) for f in dataclasses.fields(v)}
    if _depth > _MAX_DEPTH or id(v) in _seen or not isinstance(v, (Mapping, list, tuple)):
        return safe_repr(v)
    seen = _seen | {id(v)}
    if isinstance(v, Mapping):
        out: dict[str, Any] = {}
        for k, x in v.items():
            try:
                key = to_str(k if type(k) is str else _key_text(k, where), where)
            except EncodeError:
                key = safe_repr(k)
            out.setdefault(key, to_any_partly(x, f"{where}.{key}", _depth + 1, seen))
        return out
    return [to_any_partly(x, f"{where}[{i}]", _depth + 1, seen) for i, x in enumerate(v)]


def safe_repr(v: Any) -> str:
    """``repr(v)`` as storable text; a repr that raises gives ``<unrepresentable T>`` instead."""
    try:
        text = repr(v)
    except Exception as exc:
        return f"<unrepresentable {type(v).__name__}: its repr() raised {type(exc).__name__}>"
    if type(text) is not str:  # a repr returning a str subclass
        text = str.__str__(text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _key_text(k: Any, where: str) -> str:
    """A non-string mapping key as JSON would spell it (``id2label: {0: "a"}`` → ``"0"``)."""
    if isinstance(k, enum.Enum):
        k = k.value
    k = _unwrap_scalar(k)
    if k is None or isinstance(k, bool):
        return {None: "null", True: "true", False: "false"}[k]
    if isinstance(k, str):
        return str(k)
    if isinstance(k, (int, float)):
        n = to_number(k, where)
        return n if isinstance(n, str) else repr(n)
    msg = f"{where}: key {k!r} is a {type(k).__name__}; object keys must be str, int, float, bool or None"
    raise EncodeError(msg)
