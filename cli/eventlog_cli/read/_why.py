"""Why a line cannot be used: torn tails, damaged lines, and json.dumps' bare NaN read leniently."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["TOO_DEEP", "loads_lenient", "short", "too_deep", "torn_tail", "torn_text", "why"]

_DEPTH = 250  # levels of lists and objects: orjson writes 254, and an output may wrap an event in a list or two
TOO_DEEP = f"lists or objects nested more than {_DEPTH} levels deep (eventlog cannot write it back as JSON)"


def too_deep(text: bytes, obj: Any) -> bool:
    """Whether ``obj`` (the decoded ``text``) nests lists and objects more than ``_DEPTH`` levels.

    The line's bracket count rules out the common line at C speed (a 370-byte line: nothing); only a line with more
    brackets than that has its decoded value walked (brackets inside strings are leaves there).
    """
    if len(text) <= 2 * _DEPTH or len(text) - len(text.translate(None, b"[{")) <= _DEPTH:
        return False
    stack = [(obj, 1)]
    while stack:
        o, depth = stack.pop()
        if depth > _DEPTH:
            return True
        inner = o.values() if isinstance(o, dict) else o if isinstance(o, list) else ()
        stack.extend((x, depth + 1) for x in inner if isinstance(x, (dict, list)))
    return False


def torn_tail(f: Any, size: int) -> tuple[int, str] | None:
    """(offset, text) of an incomplete last line of a plain file, or None when it ends cleanly."""
    if size == 0:
        return None
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return None
    pos, tail = size, b""
    while pos > 0 and b"\n" not in tail:  # back to the last newline, a MB at a time
        step = min(pos, 1 << 20)
        pos -= step
        f.seek(pos)
        tail = f.read(step) + tail
    k = tail.rfind(b"\n")
    text = torn_text(tail)
    if text is None:
        return None
    return pos + k + 1, text


def torn_text(data: bytes) -> str | None:
    """The text of the last line of ``data`` (which does not end with a newline) if it is not valid JSON."""
    tail = data.rsplit(b"\n", 1)[-1]
    try:
        orjson.loads(tail.strip().lstrip(b"\xef\xbb\xbf") or b"{}")
        return None
    except orjson.JSONDecodeError:
        return tail.decode("utf-8", "replace")


_NON_STANDARD = ("NaN", "Infinity")
_HUGE = re.compile(r"[0-9][eE]\+?[0-9]{3}|[0-9]{309}")  # 1e400 or 400 digits: orjson refuses them, msgspec reads them


def _int(text: str) -> Any:
    """An int as orjson reads it: beyond -2**63 .. 2**64-1 a float (inf past 1e308)."""
    v = int(text)
    return v if -(2**63) <= v < 2**64 else float(text)


def loads_lenient(text: str | bytes) -> Any:
    """A line orjson refused, decoded as Python's ``json`` reads it when it holds NaN, Infinity or a number too
    large for a float (``1e400``: inf, as the scan and the frames read it); else None.

    ``json.dumps`` writes a float NaN or ±inf as the bare tokens ``NaN``, ``Infinity`` and
    ``-Infinity`` (not JSON, but what any Python writer without eventlog produces): the
    value is kept as that float rather than the whole line lost.
    """
    probe = text if isinstance(text, str) else text.decode("utf-8", "replace")
    if not any(t in probe for t in _NON_STANDARD) and not _HUGE.search(probe):
        return None
    try:
        obj = json.loads(probe, parse_int=_int)
    except (ValueError, RecursionError):
        return None
    if "\\u" in probe and _lone_surrogate(obj):  # refused as every other path refuses it (msgspec, orjson)
        return None
    return obj


def _lone_surrogate(obj: Any) -> bool:
    """Whether a string in ``obj`` (a key or a value, at any depth) holds half of a surrogate pair."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, str):
            if not o.isascii():
                try:
                    o.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(o, dict):
            stack.extend(o)
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
    return False


def short(exc: Exception) -> str:
    """The first words of a JSON decoding error."""
    return str(exc).split(":")[0][:60]


def why(text: str, torn: bool) -> str:
    """Why a line without a readable event type was skipped."""
    if torn:
        return "the last line is incomplete (the run is still writing, or was killed)"
    if "\x00" in text:
        return "NUL bytes"
    try:
        v = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return f"not valid JSON ({short(exc)})"
    if not isinstance(v, dict):
        return f"a JSON {'array' if isinstance(v, list) else 'scalar'}, not an object"
    return 'no "event" field'
