"""Field kinds: everything one kind of payload field means, in one object each.

A :class:`Kind` carries the fast acceptor (emit()'s hot path), the full
emit-time check (with the error message), the check of a decoded value
(``eventlog validate``), the decoder that restores non-finite floats
(``eventlog.testing``), its JSON Schema, its words for error messages and
``reader``: the portable name of the dtype a reader decodes it as (the CLI maps
reader → polars dtype in one table). Adding a field kind touches this file only.

The fast acceptors return the stored value, or ``SLOW`` when they are not
sure; the caller then runs ``check``, which also writes the error message. They
use C-level helpers (``set.issuperset(map(type, ...))``, ``sum``, ``dict``) so
a typical ``step_metrics`` costs well under a microsecond.

The lean acceptors (``Kind.lean``, emit()'s hot path) go further: they return
the caller's own object, uncopied, and leave to orjson what it refuses by
itself. A map of numbers is accepted when ``sum()`` of its values is finite:
no NaN, inf, None, str or container. They are exact only together with the
lean encode of ``_schema.encode``, right away on the caller's thread (the
bytes are the snapshot): orjson with strict options refuses a key that is not
an exact ``str``, a lone surrogate, an int beyond 2**53, a subclass, numpy or
torch values; a bool in a map (``sum`` takes it, the full check stores 0/1) is
found in the bytes. Whatever is refused takes the full check on the whole payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import fsum, isfinite
from typing import Any, Literal

from eventlog._constants import NONFINITE, decode_nonfinite, is_number
from eventlog._values import to_any, to_number, to_number_map, to_str, unwrap_scalar
from eventlog.exceptions import EncodeError

__all__ = ["KINDS", "SLOW", "CoercibleError", "Kind", "KindName", "enum_acceptor"]

KindName = Literal[
    "int",
    "number",
    "string",
    "bool",
    "object",
    "numbers",
    "ints",
    "strings",
    "number_list",
    "number_lists",
    "scalar",
    "any",
]

SLOW = object()
_FLOAT = frozenset({float})
_STR = frozenset({str})
_INT = frozenset({int})
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1  # int64, as _values.to_number

Acceptor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Kind:
    """One field kind.

    Attributes:
        name: the kind's name in :class:`eventlog.Field` (``"number"``...).
        check: ``check(value, where)`` → the stored value, or :class:`EncodeError`.
        ok: whether a decoded JSON value is of this kind.
        decode: a decoded value with non-finite spellings turned back into floats.
        schema: the JSON Schema of a value.
        words: what a value should be, for messages (``"an integer"``).
        reader: the dtype a reader decodes it as (``"int"``, ``"float_map"``...).
        accept: the fast acceptor, or None (always ``check``).
        lean: the lean acceptor (see the module doc), or None (``accept``).
    """

    name: str
    check: Callable[[Any, str], Any]
    ok: Callable[[Any], bool]
    decode: Callable[[Any], Any]
    schema: dict[str, Any]
    words: str
    reader: str
    accept: Acceptor | None = None
    lean: Acceptor | None = None


# --- fast acceptors ------------------------------------------------------------------


def _accept_int(v: Any) -> Any:
    return v if type(v) is int and _INT_MIN <= v <= _INT_MAX else SLOW


def _accept_number(v: Any) -> Any:
    t = type(v)
    if t is float:
        return v if v - v == 0.0 else SLOW
    return v if t is int and _INT_MIN <= v <= _INT_MAX else SLOW


def _accept_string(v: Any) -> Any:
    return v if type(v) is str and v.isascii() else SLOW


def _accept_bool(v: Any) -> Any:
    return v if type(v) is bool else SLOW


def _accept_numbers(v: Any) -> Any:
    if type(v) is dict and _STR.issuperset(map(type, v)) and _FLOAT.issuperset(map(type, v.values())):
        s = sum(v.values())
        if s - s == 0.0:  # no NaN or inf among them (an overflow to inf only sends us to the slow path)
            return dict(v)
    return SLOW


def _accept_ints(v: Any) -> Any:
    if type(v) is list and _INT.issuperset(map(type, v)) and (not v or (_INT_MIN <= min(v) and max(v) <= _INT_MAX)):
        return list(v)
    return SLOW


def _accept_strings(v: Any) -> Any:
    if type(v) is list and _STR.issuperset(map(type, v)) and "".join(v).isascii():
        return list(v)
    return SLOW


# --- lean acceptors (see the module doc: exact only with orjson on the result) ---------------


def _lean_string(v: Any) -> Any:
    return v if type(v) is str else SLOW  # orjson refuses a lone surrogate: the full check names it


def _lean_numbers(v: Any) -> Any:
    """Values that add up to a finite number; the lean encode refuses the rest (see the module doc)."""
    if type(v) is dict:
        try:
            # fsum: each value through float(), so numpy scalars never do their own arithmetic (an overflow
            # warning on the user's stderr); an overflow raises, NaN or inf is not finite: the full check then
            if isfinite(fsum(v.values())):
                return v
        except Exception:  # None, str, a container, an int beyond a float; anything odd
            pass
    return SLOW


def _lean_ints(v: Any) -> Any:
    if type(v) is list and _INT.issuperset(map(type, v)) and (not v or (_INT_MIN <= min(v) and max(v) <= _INT_MAX)):
        return v
    return SLOW


def _lean_strings(v: Any) -> Any:
    return v if type(v) is list and _STR.issuperset(map(type, v)) else SLOW


def enum_acceptor(enum: tuple[str, ...]) -> Acceptor:
    """The fast acceptor of a string field limited to ``enum``."""
    allowed = frozenset(enum)
    return lambda v: v if type(v) is str and v in allowed else SLOW


# --- emit-time checks ----------------------------------------------------------------


class CoercibleError(EncodeError):
    """A float (or float tensor) where an int belongs: an error in strict mode, ``value`` stored otherwise."""

    def __init__(self, msg: str, value: int, note: str) -> None:
        super().__init__(msg)
        self.value = value
        self.note = note


def _check_int(v: Any, where: str) -> Any:
    if type(v) is int:
        return to_number(v, where)
    u = v
    if type(v) is not bool and not isinstance(v, (int, float)):
        u = unwrap_scalar(v)  # torch / numpy scalars: .item(), never __index__ (a float tensor raises TypeError)
    if type(u) is not bool and isinstance(u, int):
        return to_number(int(u), where)
    if isinstance(u, float) and u - u == 0.0:
        coerced = round(u)
        msg = f"{where}: expected an int, got {type(v).__name__} {u!r}; pass int(value)"
        raise CoercibleError(msg, coerced, f"; stored {coerced}" + ("" if coerced == u else " (rounded)"))
    msg = f"{where}: expected an int, got {type(v).__name__}"
    raise EncodeError(msg)


def _check_string(v: Any, where: str) -> Any:
    if not isinstance(v, str):
        msg = f"{where}: expected a str, got {type(v).__name__}"
        raise EncodeError(msg)
    return to_str(str.__str__(v), where)  # a str subclass: its value, not its __str__


def _check_bool(v: Any, where: str) -> Any:
    u = v.item() if hasattr(v, "item") and type(v) is not bool else v
    if type(u) is not bool:
        msg = f"{where}: expected a bool, got {type(v).__name__}"
        raise EncodeError(msg)
    return u


def _shaped(ok: Callable[[Any], bool], text: str) -> Callable[[Any, str], Any]:
    """A check that converts with ``to_any`` and then requires the shape ``ok``."""

    def check(v: Any, where: str) -> Any:
        out = to_any(v, where)
        if not ok(out):
            msg = f"{where}: expected {text}"
            raise EncodeError(msg)
        return out

    return check


# --- decoded checks and decoders -------------------------------------------------------


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (int, float, str, bool)) or x is None


def _is_ints(x: Any) -> bool:
    return isinstance(x, list) and all(type(i) is int for i in x)


def _is_strings(x: Any) -> bool:
    return isinstance(x, list) and all(type(i) is str for i in x)


def _is_number_list(x: Any) -> bool:
    return isinstance(x, list) and all(is_number(i) for i in x)


def _is_number_lists(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(r, list) and all(i is None or is_number(i) for i in r) for r in x)


def _is_numbers(x: Any) -> bool:
    return isinstance(x, dict) and all(i is None or is_number(i) for i in x.values())  # null: not measured


def _same(x: Any) -> Any:
    return x


def _decode_map(x: Any) -> Any:
    return {k: decode_nonfinite(v) for k, v in x.items()} if isinstance(x, dict) else x


def _decode_list(x: Any) -> Any:
    return [decode_nonfinite(v) for v in x] if isinstance(x, list) else x


def _decode_lists(x: Any) -> Any:
    if not isinstance(x, list):
        return x
    return [[decode_nonfinite(v) for v in row] if isinstance(row, list) else row for row in x]


_SPECIAL = frozenset({type(None), tuple, list})


def _check_numbers(d: Any, where: str) -> Any:
    """A map of numbers: None is stored as null ("not measured", distinct from NaN, as DESIGN §3 and
    issue 13 say; the step table still shows it as ``nan``, seed 003's word) and an ``(n, d)`` pair
    (a ``frac`` cell) is stored as two numbers, ``k = n`` and ``k_denom = d``."""
    if isinstance(d, dict) and not _SPECIAL.isdisjoint(map(type, d.values())):
        flat: dict[Any, Any] = {}
        for k, v in d.items():
            if type(v) in (tuple, list) and len(v) == 2:
                flat[k], flat[f"{k}_denom"] = v
            else:
                flat[k] = v
        d = flat
    return to_number_map(d, where)


# --- the kinds -------------------------------------------------------------------------

_NUMBER = {"anyOf": [{"type": "number"}, {"enum": list(NONFINITE)}]}

_ALL = (
    Kind("int", _check_int, lambda x: type(x) is int, _same, {"type": "integer"}, "an integer", "int", _accept_int),
    Kind("number", to_number, is_number, decode_nonfinite, _NUMBER, "a number", "float", _accept_number),
    Kind(
        "string",
        _check_string,
        lambda x: isinstance(x, str),
        _same,
        {"type": "string"},
        "a string",
        "str",
        _accept_string,
        _lean_string,
    ),
    Kind(
        "bool",
        _check_bool,
        lambda x: isinstance(x, bool),
        _same,
        {"type": "boolean"},
        "true or false",
        "bool",
        _accept_bool,
    ),
    Kind(
        "object",
        _shaped(lambda x: isinstance(x, dict), "an object"),
        lambda x: isinstance(x, dict),
        _same,
        {"type": "object"},
        "an object",
        "json",
    ),
    Kind(
        "numbers",
        _check_numbers,
        _is_numbers,
        _decode_map,
        {"type": "object", "additionalProperties": {"anyOf": [_NUMBER, {"type": "null"}]}},
        "an object of numbers",
        "float_map",
        _accept_numbers,
        _lean_numbers,
    ),
    Kind(
        "ints",
        _shaped(_is_ints, "a list of ints"),
        _is_ints,
        _same,
        {"type": "array", "items": {"type": "integer"}},
        "a list of integers",
        "int_list",
        _accept_ints,
        _lean_ints,
    ),
    Kind(
        "strings",
        _shaped(_is_strings, "a list of str"),
        _is_strings,
        _same,
        {"type": "array", "items": {"type": "string"}},
        "a list of strings",
        "str_list",
        _accept_strings,
        _lean_strings,
    ),
    Kind(
        "number_list",
        _shaped(_is_number_list, "a list of numbers"),
        _is_number_list,
        _decode_list,
        {"type": "array", "items": _NUMBER},
        "a list of numbers",
        "float_list",
    ),
    Kind(
        "number_lists",
        _shaped(_is_number_lists, "a list of lists of numbers"),
        _is_number_lists,
        _decode_lists,
        {"type": "array", "items": {"type": "array", "items": {"anyOf": [_NUMBER, {"type": "null"}]}}},
        "a list of lists of numbers",
        "float_lists",
    ),
    Kind(
        "scalar",
        _shaped(_is_scalar, "a number, str or bool"),
        _is_scalar,
        decode_nonfinite,  # phase summary numbers: a "NaN" there was a float
        {"anyOf": [{"type": ["string", "boolean", "null"]}, _NUMBER]},
        "a number, string or bool",
        "json",
    ),
    Kind("any", to_any, lambda x: True, _same, {}, "anything", "json"),
)

KINDS: dict[str, Kind] = {k.name: k for k in _ALL}
