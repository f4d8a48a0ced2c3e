"""Sample events: the last ones ``samples`` shows, and the ones the report picks (wrong first), both reading
no more than the samples they keep."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from eventlog_cli.errors import DataError
from eventlog_cli.query.rundata import RunData
from eventlog_cli.read import Loaded, Record, hashable

__all__ = ["Samples", "last_samples", "report_samples"]


@dataclass
class Samples:
    """What :func:`last_samples` found: the last rows that match, how many matched, how many say neither
    ``correct: true`` nor ``false`` (``--wrong`` cannot list them), whether the rank's events come from
    several ranks."""

    rows: list[dict[str, Any]]
    matched: int
    unjudged: int
    ranks: bool


def last_samples(
    records: Iterable[Record], rank: int | None, wrong: bool, step: int | None, split: str | None, limit: int
) -> Samples:
    """The last ``limit`` sample events of ``rank`` (all when None) that match (``wrong``: only ``correct``
    false), payload whole, in one pass that keeps only those.

    Raises:
        DataError: there are samples, none of ``rank`` (the ranks present are listed).
    """
    rows: deque[dict[str, Any]] = deque(maxlen=limit)
    matched = unknown = 0
    present: set[int] = set()
    ranks: set[Any] = set()
    seen = False
    for rec in records:
        ev = rec.event
        seen = True
        r = ev.get("rank", 0)
        if isinstance(r, int):
            present.add(r)
        if rank is not None and r != rank:
            continue
        ranks.add(hashable(ev.get("rank")))
        if not _at(ev, step, split):
            continue
        if wrong and not isinstance(ev.get("correct"), bool):
            unknown += 1
        if not wrong or ev.get("correct") is False:
            matched += 1
            rows.append(ev)
    if rank is not None and seen and not ranks:
        msg = f"no events of rank {rank}; ranks present: {', '.join(map(str, sorted(present))) or 'none'}"
        raise DataError(msg)
    return Samples(list(rows), matched, unknown, len(ranks) > 1)


def _at(ev: dict[str, Any], step: int | None, split: str | None) -> bool:
    return (step is None or ev.get("step") == step) and (split is None or ev.get("split") == split)


def report_samples(run: RunData, limit: int = 200, max_chars: int = 4000) -> list[dict[str, Any]]:
    """Up to ``limit`` samples, wrong ones first (latest first within each), long texts shortened.

    Only the chosen lines are decoded, and only their text is kept: on a run with 10^5 samples the rest
    are looked at once, by pre-filters on their text, and never parsed.
    """
    # Pre-filters that may only keep too much (each line is checked after decoding): any writer's
    # spacing around ':', and a line with an escape may spell the run name otherwise (json.dumps' \u00fc).
    mine = re.compile(rb'"run"\s*:\s*' + re.escape(orjson.dumps(run.run)) + rb"|\\")
    wrong_text = re.compile(rb'"correct"\s*:\s*false')
    loaded = run.loaded
    found: list[tuple[bool, float, int, int, int]] = []  # (has a ts, ts, file, row, wrong)
    for f, rows in loaded.rows_of(["sample"]):
        if run.files and f not in run.files:  # this run's directory only (a glob can hold two runs of one name)
            continue
        for r, text in loaded.stores[f].texts(rows):
            if mine.search(text):
                ts = _stamp(text)
                found.append((ts is not None, ts or 0.0, f, r, wrong_text.search(text) is not None))
    # Latest first across ranks (their files one after another): by the envelope's ts, file order where it has none.
    found.sort(key=lambda x: (x[0], x[1]))
    wrong = [x for x in found if x[4]][-limit:]
    rest = [x for x in found if not x[4]]
    rest = rest[len(rest) - (limit - len(wrong)) :] if len(wrong) < limit else []
    texts = _texts(loaded, [x[2:4] for x in (*wrong, *rest)])
    out = []
    for part, is_wrong in ((wrong, True), (rest, False)):
        for x in reversed(part):
            try:
                ev = orjson.loads(texts[x[2], x[3]])
            except orjson.JSONDecodeError:
                continue
            if not isinstance(ev, dict) or ev.get("event") != "sample" or ev.get("run") != run.run:
                continue
            if is_wrong and ev.get("correct") is not False:
                continue
            if run.rank is not None and ev.get("rank", 0) != run.rank:
                continue
            out.append({k: _clip(v, max_chars) for k, v in ev.items() if k not in ("v", "event", "run", "seq")})
    return out


_TS = re.compile(rb'"ts"\s*:\s*(-?[0-9][0-9.eE+-]*)')


def _stamp(text: bytes) -> float | None:
    """The first ``"ts": number`` of the line, as a float (None: there is none, or it does not read as one)."""
    m = _TS.search(text)
    if m is None:
        return None
    try:
        return float(m[1])
    except ValueError:
        return None


def _texts(loaded: Loaded, where: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The text of these (file, row) lines, each file read once in file order."""
    out: dict[tuple[int, int], bytes] = {}
    for f in sorted({f for f, _ in where}):
        rows = sorted({r for g, r in where if g == f})
        out.update(((f, r), text) for r, text in loaded.stores[f].texts(rows))
    return out


def _clip(v: Any, n: int) -> Any:
    if isinstance(v, str) and len(v) > n:
        return f"{v[: n // 2]} … [{len(v) - n:,} characters omitted] … {v[-n // 2 :]}"
    return v
