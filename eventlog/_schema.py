"""Event types: the single source of truth for the event model (schema v1).

Built-in types are declared here as data; :func:`register_event` adds user
types. :func:`check` validates and normalises a payload at emit() time, and
:func:`json_schema` turns the same definitions into JSON Schema documents
(``make schemas`` writes them to ``schemas/``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from eventlog._fastcheck import SLOW, acceptor
from eventlog._values import NONFINITE, _unwrap_scalar, to_any, to_number, to_number_map, to_str
from eventlog.exceptions import EncodeError, ValidationError

__all__ = [
    "ENVELOPE",
    "SCHEMA_VERSION",
    "EventType",
    "Field",
    "all_types",
    "check",
    "get_type",
    "json_schema",
    "register_event",
    "validate_event",
]

SCHEMA_VERSION = 1
ENVELOPE: tuple[str, ...] = ("v", "ts", "event", "run", "rank", "seq")
_RESERVED = frozenset(ENVELOPE)

Kind = Literal[
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


@dataclass(frozen=True, slots=True)
class Field:
    """One payload field of an event type.

    ``kind`` is one of: int, number, string, bool, scalar (number, string or
    bool), object (any JSON object), numbers (object name → number), ints
    (list of int), strings (list of str), number_list (list of numbers), number_lists (list of lists of
    numbers), any.
    """

    name: str
    kind: Kind
    required: bool = False
    description: str = ""
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class EventType:
    """An event type: its name, fields and what extra fields may hold.

    ``extra`` is the kind of fields not declared (``None``: none allowed).
    """

    name: str
    description: str
    fields: tuple[Field, ...] = ()
    extra: Kind | None = None
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)
    required: frozenset[str] = field(init=False, repr=False, compare=False)
    fast: dict[str, Callable[[Any], Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})
        object.__setattr__(self, "required", frozenset(f.name for f in self.fields if f.required))
        fast = {f.name: acceptor(f.kind, f.enum) for f in self.fields}
        object.__setattr__(self, "fast", {k: v for k, v in fast.items() if v is not None})


def _f(
    name: str, kind: Kind, required: bool = False, description: str = "", enum: tuple[str, ...] | None = None
) -> Field:
    return Field(name, kind, required, description, enum)


_STATUS_RUN = ("completed", "failed", "interrupted")
_STATUS_PHASE = ("ok", "failed", "interrupted")
_LEVELS = ("debug", "info", "warning", "error", "critical")

BUILTIN: tuple[EventType, ...] = (
    EventType(
        "run_start",
        "A run (one process of it) begins: its metadata.",
        (
            _f("config", "object", description="the run's configuration"),
            _f("argv", "strings", description="command line"),
            _f("host", "string"),
            _f("pid", "int"),
            _f("world_size", "int"),
            _f("total_steps", "int"),
            _f("total_epochs", "int"),
            _f("git", "any", description="commit, branch, dirty flag"),
            _f("tags", "strings"),
        ),
    ),
    EventType(
        "run_end",
        "The run ends: completed, failed or interrupted.",
        (
            _f("status", "string", True, enum=_STATUS_RUN),
            _f("duration", "number", description="seconds since run_start"),
            _f("error", "string"),
            _f("mode", "string", description="e.g. validation_only"),
            _f("events_dropped", "int", description="events lost to I/O errors or a full queue"),
        ),
    ),
    EventType(
        "phase_start",
        "A phase begins (every [META] PHASE banner).",
        (
            _f("phase", "string", True, "phase name"),
            _f("id", "int", True, "unique within run and rank"),
            _f("parent", "int", description="id of the enclosing phase"),
            _f("step", "int"),
            _f("label", "string", description="banner text instead of the name"),
            _f("elapsed", "number", description="seconds since the enclosing progress clock started"),
            _f("eta", "number", description="estimated seconds left"),
        ),
        extra="scalar",
    ),
    EventType(
        "phase_end",
        "A phase ends, with its status, duration and summary numbers.",
        (
            _f("phase", "string", True),
            _f("id", "int", True),
            _f("status", "string", True, enum=_STATUS_PHASE),
            _f("duration", "number", True, "seconds"),
            _f("parent", "int"),
            _f("step", "int"),
            _f("label", "string"),
            _f("error", "string"),
        ),
        extra="scalar",
    ),
    EventType(
        "val_batch",
        "Progress of a validation loop.",
        (
            _f("batch", "int", True, "1-based batch number"),
            _f("total_batches", "int", True),
            _f("questions", "int"),
            _f("total_questions", "int"),
            _f("avg_reward", "number"),
            _f("elapsed", "number"),
            _f("eta", "number"),
            _f("step", "int"),
        ),
        extra="number",
    ),
    EventType(
        "step_metrics",
        "Metrics of one training step.",
        (
            _f("step", "int", True),
            _f("metrics", "numbers", True, "name → number; null: not measured"),
            _f("epoch", "number", description="may be fractional (HF reports 0.25 after a quarter epoch)"),
            _f("total_epochs", "int"),
            _f("total_steps", "int"),
            _f("timing", "numbers", description="name → seconds"),
            _f("active_traj", "ints"),
        ),
    ),
    EventType(
        "group_summary",
        "The GRPO group summary of one step; extra number/str fields (frac_reward_zero_std...) are kept.",
        (
            _f("step", "int", True),
            _f("groups_total", "int", True),
            _f("groups_kept", "int", True),
            _f("groups_filtered", "int"),
            _f("rollouts_total", "int"),
            _f("rollouts_early_exit", "int"),
            _f("rollout_time", "number"),
            _f("train_time", "number"),
            _f("tokens_total", "int"),
            _f("tokens_trainable", "int"),
        ),
        extra="scalar",
    ),
    EventType(
        "group_detail",
        "One group's rewards and its turn-by-turn advantages.",
        (
            _f("step", "int", True),
            _f("group", "int", True),
            _f("rewards", "number_list", description="one reward per rollout"),
            _f("turn_advantages", "number_lists", description="rollouts × turns; null for a turn not taken"),
        ),
    ),
    EventType(
        "checkpoint",
        "A checkpoint was written.",
        (
            _f("step", "int", True),
            _f("path", "string", True),
            _f("size_bytes", "int"),
            _f("duration", "number"),
        ),
    ),
    EventType(
        "eval_summary",
        "All statistics of one evaluation (what eval_step_XXXX.json held).",
        (
            _f("step", "int", True),
            _f("metrics", "numbers", True, "name → number; accuracy when there is one"),
            _f("split", "string"),
            _f("total", "int"),
            _f("duration", "number"),
        ),
    ),
    EventType(
        "sample",
        "One model output with its prompt, answers and reward; extra number/str fields are kept.",
        (
            _f("output", "string", True),
            _f("step", "int"),
            _f("split", "string"),
            _f("index", "int"),
            _f("prompt", "string"),
            _f("golden", "strings"),
            _f("extracted", "string"),
            _f("reward", "number"),
            _f("correct", "bool"),
        ),
        extra="scalar",
    ),
    EventType(
        "config_update",
        "Hyperparameters known only after run_start (Lightning's log_hyperparams, a tracker's init).",
        (
            _f("config", "object", True, "the new or changed keys; stored with string keys"),
            _f("source", "string", description="who reported them, e.g. lightning"),
        ),
    ),
    EventType(
        "log",
        "A free-form message (from get_logger() or stdlib logging).",
        (
            _f("level", "string", True, enum=_LEVELS),
            _f("msg", "string", True),
            _f("logger", "string"),
            _f("phase_id", "int", description="the phase it was logged in"),
            _f("step", "int", description="the step it was logged in"),
        ),
        extra="any",
    ),
)

_TYPES: dict[str, EventType] = {t.name: t for t in BUILTIN}
_BUILTIN_NAMES = frozenset(_TYPES)


def register_event(
    name: str, fields: Iterable[Field] = (), *, description: str = "", extra: Kind | None = None
) -> EventType:
    """Register a user event type so emit() validates it and renderers know it.

    Raises:
        ValidationError: the name is a built-in type or a field is reserved.
    """
    if name in _BUILTIN_NAMES:
        msg = f"register_event({name!r}): that is a built-in event type; pick another name"
        raise ValidationError(msg)
    fields = tuple(fields)
    for f in fields:
        if f.name in _RESERVED:
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


def _check_kind(kind: Kind, v: Any, where: str, enum: tuple[str, ...] | None = None) -> Any:
    if kind == "number":
        return to_number(v, where)
    if kind == "numbers":
        return to_number_map(v, where)
    if kind == "int":
        return _check_int(v, where)
    if kind == "string":
        if type(v) is not str:
            msg = f"{where}: expected a str, got {type(v).__name__}"
            raise EncodeError(msg)
        if enum is not None and v not in enum:
            msg = f"{where}: {v!r} is not one of {', '.join(enum)}"
            raise EncodeError(msg)
        return to_str(v, where)
    if kind == "bool":
        u = v.item() if hasattr(v, "item") and type(v) is not bool else v
        if type(u) is not bool:
            msg = f"{where}: expected a bool, got {type(v).__name__}"
            raise EncodeError(msg)
        return u
    out = to_any(v, where)
    _check_shape(kind, out, where)
    return out


class _CoercibleError(EncodeError):
    """A float (or float tensor) where an int belongs: an error in strict mode, ``value`` otherwise."""

    def __init__(self, msg: str, value: int, note: str) -> None:
        super().__init__(msg)
        self.value = value
        self.note = note


def _check_int(v: Any, where: str) -> int | float | str:
    if type(v) is int:
        return to_number(v, where)
    u = v
    if type(v) is not bool and not isinstance(v, (int, float)):
        u = _unwrap_scalar(v)  # torch / numpy scalars: .item(), never __index__ (a float tensor raises TypeError)
    if type(u) is not bool and isinstance(u, int):
        return to_number(int(u), where)
    if isinstance(u, float) and u - u == 0.0:
        coerced = round(u)
        msg = f"{where}: expected an int, got {type(v).__name__} {u!r}; pass int(value)"
        raise _CoercibleError(msg, coerced, f"; stored {coerced}" + ("" if coerced == u else " (rounded)"))
    msg = f"{where}: expected an int, got {type(v).__name__}"
    raise EncodeError(msg)


def _check_shape(kind: Kind, out: Any, where: str) -> None:
    ok = True
    if kind == "object":
        ok = isinstance(out, dict)
    elif kind == "scalar":
        ok = isinstance(out, (int, float, str, bool)) or out is None
    elif kind == "ints":
        ok = isinstance(out, list) and all(type(x) is int for x in out)
    elif kind == "strings":
        ok = isinstance(out, list) and all(type(x) is str for x in out)
    elif kind == "number_list":
        ok = isinstance(out, list) and all(_is_num(x) for x in out)
    elif kind == "number_lists":
        ok = isinstance(out, list) and all(isinstance(r, list) and all(x is None or _is_num(x) for x in r) for r in out)
    if not ok:
        msg = f"{where}: expected {_KIND_TEXT[kind]}"
        raise EncodeError(msg)


def _is_num(x: Any) -> bool:
    return (isinstance(x, (int, float)) and type(x) is not bool) or (isinstance(x, str) and x in NONFINITE)


_KIND_TEXT = {
    "number_list": "a list of numbers",
    "object": "an object",
    "scalar": "a number, str or bool",
    "ints": "a list of ints",
    "strings": "a list of str",
    "number_lists": "a list of lists of numbers",
}

Problem = Callable[[str, str], None]


def check(
    name: str, payload: dict[str, Any], strict: bool, warn: Problem, out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate and normalise one payload into ``out`` (a new dict by default); return it.

    A schema problem (unknown, missing or reserved field, wrong type) raises
    :class:`ValidationError` when ``strict``; otherwise ``warn(key, message)``
    is called and the event is kept as close to the caller's intent as
    possible. A value that cannot be stored at all raises in strict mode and
    is replaced by its ``repr`` otherwise.
    """
    et = _TYPES.get(name)
    if not _RESERVED.isdisjoint(payload):
        bad = sorted(_RESERVED.intersection(payload))
        msg = f"event {name!r}: field {bad[0]!r} is a reserved envelope name ({', '.join(ENVELOPE)}); rename it"
        _problem(msg, strict, warn, f"{name}:reserved:{bad[0]}")
        payload = {k: v for k, v in payload.items() if k not in _RESERVED}
    if out is None:
        out = {}
    if et is None:
        out.update(_check_free(name, payload, strict, warn))
        return out
    if not et.required <= payload.keys():
        missing = sorted(et.required - payload.keys())[0]
        msg = f"event {name!r}: required field {missing!r} is missing"
        _problem(msg, strict, warn, f"{name}:missing:{missing}")
    fast = et.fast
    for k, v in payload.items():
        accept = fast.get(k)
        if accept is not None:
            r = accept(v)
            if r is not SLOW:
                out[k] = r
                continue
        _check_field(et, name, k, v, strict, warn, out)
    return out


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
        out[k] = _check_kind(kind, v, where, enum)
    except EncodeError as exc:
        if strict:
            raise
        if isinstance(exc, _CoercibleError):
            warn(f"{name}:type:{k}", str(exc) + exc.note)
            out[k] = exc.value
            return
        warn(f"{name}:type:{k}", str(exc))
        out[k] = _lenient(v, where, strict, warn)


def _check_free(name: str, payload: dict[str, Any], strict: bool, warn: Problem) -> dict[str, Any]:
    if type(name) is not str or not name:
        msg = f"event type must be a non-empty str, got {name!r}"
        raise ValidationError(msg)
    return {k: _lenient(v, f"event {name!r} field {k!r}", strict, warn) for k, v in payload.items()}


def _lenient(v: Any, where: str, strict: bool, warn: Problem) -> Any:
    try:
        return to_any(v, where)
    except EncodeError as exc:
        if strict:
            raise
        warn(f"{where}:encode", f"{exc}; stored its repr() instead")
        try:
            return to_str(repr(v), where)
        except EncodeError:
            return repr(v).encode("utf-8", "backslashreplace").decode("ascii")


def _problem(msg: str, strict: bool, warn: Problem, key: str) -> None:
    if strict:
        raise ValidationError(msg)
    warn(key, msg)


# --- checking decoded events (eventlog validate) ------------------------------------


def validate_event(ev: dict[str, Any]) -> list[str]:
    """Problems of one decoded event against the envelope and its type's schema.

    Unknown event types are checked against the envelope only (readers pass
    them through); the list is empty when the event is valid.
    """
    out = []
    for k, ok in (
        ("v", lambda x: x == SCHEMA_VERSION),
        ("ts", lambda x: _is_num(x) and not isinstance(x, str)),
        ("event", lambda x: isinstance(x, str) and x != ""),
        ("run", lambda x: isinstance(x, str)),
        ("rank", lambda x: type(x) is int and x >= 0),
        ("seq", lambda x: type(x) is int and x >= 0),
    ):
        if k not in ev:
            out.append(f"envelope field {k!r} is missing")
        elif not ok(ev[k]):
            out.append(f"envelope field {k!r} has a bad value {ev[k]!r}")
    name = ev.get("event")
    et = _TYPES.get(name) if isinstance(name, str) else None
    if et is None:
        return out
    for name in sorted(et.required - ev.keys()):
        out.append(f"{et.name}: required field {name!r} is missing")
    for k, v in ev.items():
        if k in _RESERVED:
            continue
        f = et.by_name.get(k)
        if f is None and et.extra is None:
            out.append(f"{et.name}: unknown field {k!r}")
            continue
        kind = f.kind if f is not None else et.extra
        if kind is None:
            continue
        if v is None and (f is None or not f.required):
            continue
        if not _decoded_ok(kind, v) or (f is not None and f.enum and v not in f.enum):
            out.append(f"{et.name}: field {k!r} should be {_KIND_WORDS[kind]}, got {v!r}"[:200])
    return out


def _decoded_ok(kind: Any, v: Any) -> bool:
    if kind == "int":
        return type(v) is int
    if kind == "number":
        return _is_num(v)
    if kind == "string":
        return isinstance(v, str)
    if kind == "bool":
        return isinstance(v, bool)
    if kind == "numbers":
        return isinstance(v, dict) and all(x is None or _is_num(x) for x in v.values())
    if kind == "any":
        return True
    try:
        _check_shape(kind, v, "")
    except EncodeError:
        return False
    return True


_KIND_WORDS = {
    "int": "an integer",
    "number": "a number",
    "string": "a string",
    "bool": "true or false",
    "numbers": "an object of numbers",
    "any": "anything",
    "object": "an object",
    "scalar": "a number, string or bool",
    "ints": "a list of integers",
    "strings": "a list of strings",
    "number_list": "a list of numbers",
    "number_lists": "a list of lists of numbers",
}


# --- JSON Schema -----------------------------------------------------------------

_NONFINITE_SCHEMA = {"enum": ["NaN", "Infinity", "-Infinity"]}
_NUMBER = {"anyOf": [{"type": "number"}, _NONFINITE_SCHEMA]}
_KIND_SCHEMA: dict[str, dict[str, Any]] = {
    "int": {"type": "integer"},
    "number": _NUMBER,
    "string": {"type": "string"},
    "bool": {"type": "boolean"},
    "scalar": {"anyOf": [{"type": ["string", "boolean", "null"]}, _NUMBER]},
    "object": {"type": "object"},
    "numbers": {"type": "object", "additionalProperties": {"anyOf": [_NUMBER, {"type": "null"}]}},
    "ints": {"type": "array", "items": {"type": "integer"}},
    "strings": {"type": "array", "items": {"type": "string"}},
    "number_list": {"type": "array", "items": _NUMBER},
    "number_lists": {"type": "array", "items": {"type": "array", "items": {"anyOf": [_NUMBER, {"type": "null"}]}}},
    "any": {},
}
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
        s = dict(_KIND_SCHEMA[f.kind])
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
    doc["additionalProperties"] = False if et.extra is None else _KIND_SCHEMA[et.extra]
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
