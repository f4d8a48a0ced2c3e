"""Fast acceptors for the common case of each field kind.

Each returns the stored value, or ``SLOW`` when it is not sure; the caller
then runs the full check in ``_schema`` (which also writes the error message).
They use C-level helpers (``set.issuperset(map(type, ...))``, ``sum``,
``dict``) so a typical ``step_metrics`` costs well under a microsecond.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["SLOW", "acceptor"]

SLOW = object()
_FLOAT = frozenset({float})
_STR = frozenset({str})
_INT = frozenset({int})
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


def _int(v: Any) -> Any:
    return v if type(v) is int and _INT_MIN <= v <= _INT_MAX else SLOW


def _number(v: Any) -> Any:
    t = type(v)
    if t is float:
        return v if v - v == 0.0 else SLOW
    return v if t is int and _INT_MIN <= v <= _INT_MAX else SLOW


def _string(v: Any) -> Any:
    return v if type(v) is str and v.isascii() else SLOW


def _bool(v: Any) -> Any:
    return v if type(v) is bool else SLOW


def _numbers(v: Any) -> Any:
    if type(v) is dict and _STR.issuperset(map(type, v)) and _FLOAT.issuperset(map(type, v.values())):
        s = sum(v.values())
        if s - s == 0.0:  # no NaN or inf among them (an overflow to inf only sends us to the slow path)
            return dict(v)
    return SLOW


def _ints(v: Any) -> Any:
    if type(v) is list and _INT.issuperset(map(type, v)) and (not v or (_INT_MIN <= min(v) and max(v) <= _INT_MAX)):
        return list(v)
    return SLOW


def _strings(v: Any) -> Any:
    if type(v) is list and _STR.issuperset(map(type, v)) and "".join(v).isascii():
        return list(v)
    return SLOW


_BY_KIND: dict[str, Callable[[Any], Any]] = {
    "int": _int,
    "number": _number,
    "string": _string,
    "bool": _bool,
    "numbers": _numbers,
    "ints": _ints,
    "strings": _strings,
}


def acceptor(kind: str, enum: tuple[str, ...] | None) -> Callable[[Any], Any] | None:
    """The fast acceptor for a field of ``kind`` (None: always use the full check)."""
    if enum is not None:
        allowed = frozenset(enum)
        return lambda v: v if type(v) is str and v in allowed else SLOW
    return _BY_KIND.get(kind)
