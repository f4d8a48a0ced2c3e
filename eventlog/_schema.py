"""The event registry and what is checked against it: emit-time checks, ``validate``, JSON Schema.

The declarations live in ``_events`` (built-ins) and ``_kinds`` (field kinds);
:func:`register_event` adds user types. :func:`check` validates and normalises
a payload at emit() time, :func:`validate_event` checks a decoded event
(``eventlog validate``), and :func:`json_schema` turns the same definitions
into JSON Schema documents (``make schemas`` writes them to ``schemas/``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

from orjson import (
    OPT_PASSTHROUGH_DATACLASS,
    OPT_PASSTHROUGH_DATETIME,
    OPT_PASSTHROUGH_SUBCLASS,
    OPT_STRICT_INTEGER,
)
from orjson import dumps as _dumps

from eventlog._constants import ENVELOPE, RESERVED, SCHEMA_VERSION, is_number
from eventlog._events import BUILTIN, EventType, Field, KindName
from eventlog._kinds import KINDS, SLOW, CoercibleError
from eventlog._values import safe_repr, to_any, to_any_partly
from eventlog.exceptions import EncodeError, ValidationError

__all__ = [
    "BUILTIN",
    "ENVELOPE",
    "SCHEMA_VERSION",
    "EventType",
    "Field",
    "Refused",
    "all_types",
    "check",
    "encode",
    "get_type",
    "json_schema",
    "register_event",
    "validate_event",
]

_TYPES: dict[str, EventType] = {t.name: t for t in BUILTIN}
_BUILTIN_NAMES = frozenset(_TYPES)


def register_event(
    name: str, fields: Iterable[Field] = (), *, description: str = "", extra: KindName | None = None
) -> EventType:
    """Register a user event type so emit() validates it and renderers know it.

    Raises:
        ValidationError: the name is a built-in type, a field is reserved or a kind unknown.
    """
    if name in _BUILTIN_NAMES:
        msg = f"register_event({name!r}): that is a built-in event type; pick another name"
        raise ValidationError(msg)
    fields = tuple(fields)
    for f in fields:
        if f.name in RESERVED:
            msg = f"register_event({name!r}): field {f.name!r} is an envelope name ({', '.join(ENVELOPE)})"
            raise ValidationError(msg)
    et = EventType(name, description, fields, extra)
    _TYPES[name] = et
    return et


def get_type(name: str) -> EventType | None:
    """The definition of an event type, or None for an unregistered one."""
    return _TYPES.get(name)


def all_types() -> list[EventType]:
    """Built-in and registered types, built-ins first."""
    return list(_TYPES.values())


# --- emit-time checks -----------------------------------------------------------------

Problem = Callable[[str, str], None]


def check(
    name: str,
    payload: dict[str, Any],
    strict: bool,
    warn: Problem,
    out: dict[str, Any] | None = None,
    *,
    lean: bool = False,
) -> dict[str, Any]:
    """Validate and normalise one payload into ``out`` (a new dict by default); return it.

    A schema problem (unknown, missing or reserved field, wrong type) raises
    :class:`ValidationError` when ``strict``; otherwise ``warn(key, message)``
    is called and the event is kept as close to the caller's intent as
    possible. A value that cannot be stored at all raises in strict mode and
    is replaced by its ``repr`` otherwise.

    ``lean``: use the lean acceptors (``_kinds``), which keep the caller's
    objects and leave some refusals to orjson; only :func:`encode` uses them.
    """
    try:
        et = _TYPES.get(name)
    except TypeError:  # unhashable: a list, a dict
        et = None
    if et is None and (not isinstance(name, str) or not name):
        msg = f"event type must be a non-empty str, got {safe_repr(name)}; the event is not recorded"
        if strict:
            raise ValidationError(msg)
        warn("event-type", msg)
        raise Refused(msg)
    if not RESERVED.isdisjoint(payload):
        bad = sorted(RESERVED.intersection(payload))
        msg = f"event {name!r}: field {bad[0]!r} is a reserved envelope name ({', '.join(ENVELOPE)}); rename it"
        _problem(msg, strict, warn, f"{name}:reserved:{bad[0]}")
        payload = {k: v for k, v in payload.items() if k not in RESERVED}
    if out is None:
        out = {}
    if et is None:
        out.update(_check_free(name, payload, strict, warn))
        return out
    if not et.required <= payload.keys():
        missing = sorted(et.required - payload.keys())[0]
        msg = f"event {name!r}: required field {missing!r} is missing"
        _problem(msg, strict, warn, f"{name}:missing:{missing}")
    fast = et.lean if lean else et.fast
    for k, v in payload.items():
        accept = fast.get(k)
        if accept is not None:
            r = accept(v)
            if r is not SLOW:
                out[k] = r
                continue
        _check_field(et, name, k, v, strict, warn, out)
    return out


def encode(
    name: str, payload: dict[str, Any], strict: bool, warn: Problem, ev: dict[str, Any]
) -> tuple[dict[str, Any], bytes | TypeError | ValueError]:
    """emit()'s check and encode: the event dict and its JSON line (or why orjson refused it).

    ``ev`` holds the envelope. The lean checks fill it and orjson encodes it at
    once, while the caller's objects are hot; the bytes are the snapshot, so
    nothing is copied. When orjson refuses (a key that is not a str, a lone
    surrogate...) or the lean pass meets any problem, the full check runs on
    the whole payload into a fresh dict, so the messages, warnings and their
    order are the full check's, and that is encoded; an error of that second
    encode comes back for the writer to count and report.

    Raises:
        ValidationError: strict mode, as :func:`check`.
        Refused: lenient mode, the event cannot be recorded (already warned).
    """
    et = _TYPES.get(name) if type(name) is str else None
    if et is not None and et.required <= payload.keys():  # the hot path: declared fields, each lean-accepted
        lean = et.lean
        try:
            for k, v in payload.items():
                v = lean[k](v)
                if v is SLOW:
                    break
                ev[k] = v
            else:
                return ev, _lean_dumps(ev, et)
        except (KeyError, TypeError, _Unsure):  # a field with no lean acceptor (an extra, unknown, reserved); orjson
            pass
        ev = {k: ev[k] for k in ENVELOPE}
    try:
        check(name, payload, strict, _unsure, ev, lean=True)
        return ev, _lean_dumps(ev, et)
    except (_Unsure, TypeError, ValueError):  # every EventlogError is a ValueError; orjson's error a TypeError
        pass
    full = {k: ev[k] for k in ENVELOPE}
    check(name, payload, strict, warn, full)
    try:
        return full, _dumps(full)
    except (TypeError, ValueError) as exc:  # a lone surrogate in a map key: dropped and counted, as before
        return full, exc


_BOOL_VALUE = re.compile(rb":(?:true|false)[,}]").search  # one pass for both (two bytes.find cost twice)
_LEAN = OPT_STRICT_INTEGER | OPT_PASSTHROUGH_SUBCLASS | OPT_PASSTHROUGH_DATACLASS | OPT_PASSTHROUGH_DATETIME


def _lean_dumps(ev: dict[str, Any], et: EventType | None) -> bytes:
    """orjson on lean-accepted values: what it refuses (see ``_kinds``) raises, and so does a bool in a map."""
    line = _dumps(ev, option=_LEAN)
    if et is not None and not et.maps.isdisjoint(ev) and _BOOL_VALUE(line) is not None:
        raise _Unsure  # a bool in a map (``sum`` took it; the full check stores 0/1), or a key like "a:true,"
    return line


class _Unsure(Exception):  # noqa: N818 - not an error: the lean pass leaves a problem to the full check
    pass


def _unsure(key: str, message: str) -> None:
    raise _Unsure


def _check_field(et: EventType, name: str, k: str, v: Any, strict: bool, warn: Problem, out: dict[str, Any]) -> None:
    """The full check of one field, with the error message (the fast acceptor was not sure)."""
    f = et.by_name.get(k)
    where = f"event {name!r} field {k!r}"
    if f is None:
        if et.extra is None:
            msg = f"event {name!r}: unknown field {k!r}; known fields: {', '.join(et.by_name)}"
            _problem(msg, strict, warn, f"{name}:unknown:{k}")
            out[k] = _lenient(v, where, strict, warn)
            return
        kind, enum = et.extra, None
    else:
        kind, enum = f.kind, f.enum
    if v is None:
        if f is None:  # a free-form field: null is a value
            out[k] = None
        elif f.required:
            _problem(f"event {name!r}: required field {k!r} is None", strict, warn, f"{name}:none:{k}")
        return  # a declared optional field: None means absent
    try:
        value = KINDS[kind].check(v, where)
        if enum is not None and value not in enum:
            msg = f"{where}: {v!r} is not one of {', '.join(enum)}"
            raise EncodeError(msg)
        out[k] = value
    except EncodeError as exc:
        if strict:
            raise
        if isinstance(exc, CoercibleError):
            warn(f"{name}:type:{k}", str(exc) + exc.note)
            out[k] = exc.value
            return
        warn(f"{name}:type:{k}", str(exc))
        out[k] = _lenient(v, where, strict, warn)


def _check_free(name: str, payload: dict[str, Any], strict: bool, warn: Problem) -> dict[str, Any]:
    return {k: _lenient(v, f"event {name!r} field {k!r}", strict, warn) for k, v in payload.items()}


def _lenient(v: Any, where: str, strict: bool, warn: Problem) -> Any:
    try:
        return to_any(v, where)
    except EncodeError as exc:
        if strict:
            raise
        warn(f"{where}:encode", f"{exc}; stored its repr() instead")
        return to_any_partly(v, where)  # only what cannot be stored becomes its repr(): the rest is kept


class Refused(Exception):  # noqa: N818 - not an error: lenient mode warned and drops the event
    """Lenient mode: the event cannot be recorded at all (its type is not a str); already warned."""


def _problem(msg: str, strict: bool, warn: Problem, key: str) -> None:
    if strict:
        raise ValidationError(msg)
    warn(key, msg)


# --- checking decoded events (eventlog validate) ------------------------------------

_ENVELOPE_OK: dict[str, Callable[[Any], bool]] = {
    "v": lambda x: x == SCHEMA_VERSION,
    "ts": lambda x: is_number(x) and not isinstance(x, str),
    "event": lambda x: isinstance(x, str) and x != "",
    "run": lambda x: isinstance(x, str),
    "rank": lambda x: type(x) is int and x >= 0,
    "seq": lambda x: type(x) is int and x >= 0,
}


def validate_event(ev: dict[str, Any]) -> list[str]:
    """Problems of one decoded event against the envelope and its type's schema.

    Unknown event types are checked against the envelope only (readers pass
    them through); the list is empty when the event is valid.
    """
    out = []
    for k in ENVELOPE:
        if k not in ev:
            out.append(f"envelope field {k!r} is missing")
        elif not _ENVELOPE_OK[k](ev[k]):
            out.append(f"envelope field {k!r} has a bad value {ev[k]!r}")
    name = ev.get("event")
    et = _TYPES.get(name) if isinstance(name, str) else None
    if et is None:
        return out
    for name in sorted(et.required - ev.keys()):
        out.append(f"{et.name}: required field {name!r} is missing")
    for k, v in ev.items():
        if k in RESERVED:
            continue
        f = et.by_name.get(k)
        if f is None and et.extra is None:
            out.append(f"{et.name}: unknown field {k!r}")
            continue
        kind = KINDS[f.kind if f is not None else et.extra]  # type: ignore[index]
        if v is None and (f is None or not f.required):
            continue
        if not kind.ok(v) or (f is not None and f.enum and v not in f.enum):
            out.append(_not_ok(et.name, k, kind.words, v))
    return out


def _not_ok(event: str, k: str, words: str, v: Any) -> str:
    """What is wrong with field ``k``; of a map, the keys whose values are wrong (``'boolv' is True``)."""
    if isinstance(v, dict) and words.startswith("an object of"):
        bad = [(mk, mv) for mk, mv in v.items() if not (mv is None or is_number(mv))]
        if bad:
            shown = ", ".join(f"{mk!r} is {mv!r}"[:80] for mk, mv in bad[:3])
            more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
            return f"{event}: field {k!r} should be {words}: {shown}{more}"
    return f"{event}: field {k!r} should be {words}, got {v!r}"[:200]


# --- JSON Schema -----------------------------------------------------------------

_ID = "https://eventlog.dev/schemas/v1/"


def _envelope_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _ID + "envelope.json",
        "title": "eventlog envelope (every event)",
        "type": "object",
        "required": list(ENVELOPE),
        "properties": {
            "v": {"const": SCHEMA_VERSION, "description": "schema version"},
            "ts": {"type": "number", "description": "wall-clock UNIX seconds"},
            "event": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "description": "event type"},
            "run": {"type": "string", "description": "run id"},
            "rank": {"type": "integer", "minimum": 0, "description": "process rank"},
            "seq": {"type": "integer", "minimum": 0, "description": "per-process sequence number"},
        },
    }


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one event type, or of the envelope."""
    if name == "envelope":
        return _envelope_schema()
    et = _TYPES[name]
    props: dict[str, Any] = {k: {} for k in ENVELOPE}
    props["event"] = {"const": name}
    for f in et.fields:
        s = dict(f.spec.schema)
        if f.enum:
            s = {"enum": list(f.enum)}
        if f.description:
            s["description"] = f.description
        props[f.name] = s
    doc: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _ID + f"{name}.json",
        "title": f"eventlog event: {name}",
        "description": et.description,
        "allOf": [{"$ref": "envelope.json"}],
        "type": "object",
        "required": ["event", *sorted(et.required)],
        "properties": props,
    }
    doc["additionalProperties"] = False if et.extra is None else KINDS[et.extra].schema
    return doc


def write_schemas(out_dir: str) -> list[str]:
    """Write envelope.json and one file per built-in type; return the paths."""
    import json
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ["envelope", *(t.name for t in BUILTIN)]:
        p = out / f"{name}.json"
        p.write_text(json.dumps(json_schema(name), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(str(p))
    return paths


if __name__ == "__main__":  # make schemas
    for p in write_schemas(sys.argv[1] if len(sys.argv) > 1 else "schemas"):
        print(p)
