"""Every line of every file checked against the schema of its type, plus seq gaps, repeats and recorded drops."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

import orjson

from eventlog._schema import get_type, validate_event
from eventlog_cli.read import hashable, load
from eventlog_cli.read._why import TOO_DEEP, loads_lenient, too_deep

__all__ = ["check_files"]


def check_files(paths: Sequence[str]) -> tuple[int, list[dict[str, Any]]]:
    """Returns (lines read, problems as ``{"file", "line", "problem"}`` sorted by file and line).

    Raises:
        DataError: a path does not exist or cannot be read.
    """
    loaded = load(paths)
    problems: list[dict[str, Any]] = [{"file": s.path, "line": s.line, "problem": s.reason} for s in loaded.skipped]
    seen: dict[tuple[int, Any], dict[int, int]] = {}
    count = 0
    for f, n, line in loaded.each_line():  # a window at a time: memory stays bounded at any size
        count += 1
        where = {"file": loaded.files[f], "line": n + 1}
        try:
            ev = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            ev = loads_lenient(line)  # json.dumps' bare NaN / Infinity: accepted, as every reading command does
            if ev is None:
                problems.append({**where, "problem": f"not valid JSON ({str(exc).split(':')[0]})"})
                continue
        if not isinstance(ev, dict) or too_deep(line, ev):
            why = TOO_DEEP if isinstance(ev, dict) else "a JSON value that is not an object"
            problems.append({**where, "problem": why})
            continue
        for p in validate_event(ev):
            problems.append({**where, "problem": p})
        dup = _duplicate_key(line, ev)
        if dup:
            problems.append({**where, "problem": f"duplicate key {dup!r} (readers keep the last value)"})
        if get_type(ev.get("event", "")) is None and isinstance(ev.get("event"), str):
            problems.append(
                {**where, "problem": f"unknown event type {ev['event']!r} (not registered; passed through)"}
            )
        dropped = ev.get("events_dropped") if ev.get("event") == "run_end" else None
        if type(dropped) is int and dropped > 0:
            lost = f"run_end records {dropped} event(s) dropped by the writer (lost, not in the file)"
            problems.append({**where, "problem": lost})
        seq = ev.get("seq")
        if type(seq) is int:
            by_seq = seen.setdefault((f, hashable(ev.get("rank"))), {})
            if seq in by_seq:
                problems.append({**where, "problem": f"seq {seq} repeats line {by_seq[seq]}"})
            else:
                by_seq[seq] = n + 1
    for (f, _rank), by_seq in seen.items():
        for a, b in itertools.pairwise(sorted(by_seq)):
            if b > a + 1:
                problems.append(
                    {
                        "file": loaded.files[f],
                        "line": by_seq[b],
                        "problem": f"seq gap: {b - a - 1} event(s) missing between seq {a} and {b}",
                    }
                )
    problems.sort(key=lambda p: (p["file"], p["line"]))
    return count, problems


def _count_keys(v: Any) -> int:
    if isinstance(v, dict):
        return len(v) + sum(_count_keys(x) for x in v.values())
    if isinstance(v, list):
        return sum(_count_keys(x) for x in v)
    return 0


def _duplicate_key(line: bytes, ev: dict[str, Any]) -> str | None:
    """A key repeated within one object, if any (an exact check only when a cheap count disagrees)."""
    if line.count(b'":') == _count_keys(ev):
        return None
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        found.extend(k for k in keys if keys.count(k) > 1)
        return dict(items)

    json.loads(line, object_pairs_hook=pairs)
    return found[0] if found else None
