"""Helpers for tests of code that uses eventlog: read a run's events back as Python values.

    from eventlog.testing import read_events
    events = read_events("runs/exp1/events.jsonl")

Non-finite floats are restored wherever the event's schema says "number"
(number fields, ``metrics``/``timing`` objects, lists of numbers, the scalar
summary numbers of phase events): each field kind's ``decode`` does it. In
free-form fields (log extras, ``config``) they stay the strings ``"NaN"``,
``"Infinity"``, ``"-Infinity"``: there the string is the value.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from eventlog._constants import RESERVED
from eventlog._kinds import KINDS
from eventlog._schema import get_type

__all__ = ["decode_numbers", "read_events"]


def decode_numbers(ev: dict[str, Any]) -> dict[str, Any]:
    """The event with ``"NaN"``/``"Infinity"``/``"-Infinity"`` turned back into floats where numbers belong."""
    et = get_type(ev.get("event", "")) if isinstance(ev.get("event"), str) else None
    if et is None:
        return ev
    out = dict(ev)
    for k, v in ev.items():
        if k in RESERVED:
            continue
        f = et.by_name.get(k)
        kind = f.kind if f is not None else et.extra
        if kind is not None:
            out[k] = KINDS[kind].decode(v)
    return out


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every complete event line of one file, decoded, numbers restored."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            ev = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(ev, dict):
            out.append(decode_numbers(ev))
    return out
