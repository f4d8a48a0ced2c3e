"""Choosing events: by type, rank, step range and phase (replay, grep, filter), samples, groups."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eventlog._schema import all_types
from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.query.metrics import in_steps, parse_steps
from eventlog_cli.query.names import unknown_name
from eventlog_cli.query.phases import Annotator, Context
from eventlog_cli.read import Record

__all__ = [
    "Samples",
    "Selector",
    "check_events",
    "check_phase",
    "check_where_keys",
    "detail_step",
    "groups_at",
    "pick_samples",
    "regex",
    "select_events",
    "step_text",
]


def select_events(
    records: Sequence[Record],
    events: Sequence[str] | None = None,
    rank: int | None = None,
    steps: str | None = None,
    phase: str | None = None,
) -> list[tuple[Record, Context]]:
    """The records that pass every given filter, each with its :class:`Context`.

    Raises:
        UsageError: ``steps`` is not of the form A:B.
    """
    sel = Selector(events, rank, steps, phase)
    return [(rec, ctx) for rec in records if (ctx := sel.keep(rec)) is not None]


class Selector:
    """The filters of :func:`select_events`, one record at a time, in run order."""

    def __init__(
        self,
        events: Sequence[str] | None = None,
        rank: int | None = None,
        steps: str | None = None,
        phase: str | None = None,
    ) -> None:
        self.events, self.rank, self.phase = events, rank, phase
        self.bounds = parse_steps(steps)
        self.annotator = Annotator()

    def keep(self, rec: Record) -> Context | None:
        """The record's context when it passes every filter, else None."""
        ctx = self.annotator.add(rec)
        ev = rec.event
        if self.events and ev.get("event") not in self.events:
            return None
        if self.rank is not None and ev.get("rank") != self.rank:
            return None
        if not in_steps(ctx.step, self.bounds):
            return None
        phase = self.phase
        if (
            phase
            and phase not in [n for n, _ in ctx.path]
            and not (ev.get("event") in ("phase_start", "phase_end") and ev.get("phase") == phase)
        ):
            return None
        return ctx


def check_events(names: Sequence[str] | None, present: Sequence[str]) -> None:
    """Every ``--event`` name is in the files (``present``: their types) or a registered type.

    Raises:
        DataError: one is neither (with the closest present type and the list).
    """
    registered = [t.name for t in all_types()]
    for name in names or []:
        if name not in present and name not in registered:
            raise unknown_name("event type", name, present or registered, where=" in these files")


def check_phase(phase: str | None, records: Sequence[Record]) -> None:
    """``--phase`` names a phase that occurs in the files (``records``: their ``phase_start`` events at least).

    Raises:
        DataError: it does not (with the closest phase and the list).
    """
    if phase is None:
        return
    present = list(dict.fromkeys(str(r.event.get("phase")) for r in records if r.event.get("event") == "phase_start"))
    if phase not in present:
        raise unknown_name("phase", phase, present, where=" in these files")


def check_where_keys(paths: Sequence[Sequence[str]], keys_of: Callable[[str], Sequence[str]]) -> None:
    """Every ``metrics.NAME`` / ``timing.NAME`` a ``--where`` reads exists in some event (``keys_of(field)``:
    the keys of that map across the events).

    Raises:
        DataError: one does not (with the closest name and the list).
    """
    for path in paths:
        if len(path) < 2 or path[0] not in ("metrics", "timing"):
            continue
        known = list(keys_of(path[0]))
        if path[1] not in known:
            what = "metric" if path[0] == "metrics" else "timing"
            raise unknown_name(what, path[1], known, usage=False, where=" in these events")


def regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """A compiled regular expression.

    Raises:
        UsageError: the pattern does not compile.
    """
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        msg = f"bad regular expression {pattern!r}: {exc}"
        raise UsageError(msg) from None


@dataclass
class Samples:
    """What :func:`pick_samples` found: the last rows that match, how many matched, how many say neither
    ``correct: true`` nor ``false`` (``--wrong`` cannot list them), whether the rank's events come from
    several ranks."""

    rows: list[dict[str, Any]]
    matched: int
    unjudged: int
    ranks: bool


def pick_samples(
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
        ranks.add(_hashable(ev.get("rank")))
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


def _hashable(v: Any) -> Any:
    try:
        hash(v)
    except TypeError:
        return repr(v)
    return v


def _at(ev: dict[str, Any], step: int | None, split: str | None) -> bool:
    return (step is None or ev.get("step") == step) and (split is None or ev.get("split") == split)


def detail_step(steps: Sequence[Record], step: int | None) -> Any:
    """The step whose group_detail tables are shown: ``step``, else the last detail's (``steps``: the
    group_detail events, their step at least)."""
    return step if step is not None else (steps[-1].event.get("step") if steps else None)


def step_text(step: Any) -> Callable[[bytes], bool]:
    """A pre-filter of lines that may hold ``"step": step`` (any spacing, ``2.0`` for 2, or escaped): it keeps
    too much rather than too little, the decoded event decides."""
    if type(step) is not int:
        return lambda text: True
    pattern = re.compile(rb'"step"\s*:\s*' + str(step).encode() + rb"(?:\.0*)?(?![0-9.eE])|\\")
    return lambda text: pattern.search(text) is not None


def groups_at(
    summaries: Sequence[Record], details: Sequence[Record], step: int | None, steps: Sequence[Record] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every group_summary, and the group_detail events at ``step`` (default: the last detail's step).

    ``steps``: every group_detail (its step at least), when ``details`` holds only those of the step shown.

    Raises:
        DataError: there are neither, or no group_detail at the ``step`` asked for.
    """
    steps = steps or details
    if not summaries and not steps:
        raise DataError("no group_summary or group_detail events in these files")
    at = detail_step(steps, step)
    chosen = [d.event for d in details if d.event.get("step") == at]
    if step is not None and not chosen:  # asked for a step's advantage tables: say there are none, never print nothing
        have = sorted({s for d in steps if isinstance(s := d.event.get("step"), int)})
        shown = ", ".join(map(str, have[:10])) + (f" ... ({len(have)} steps)" if len(have) > 10 else "")
        where = f"; steps with them: {shown}" if have else " (--step picks the advantage tables of a step)"
        raise DataError(f"no group_detail events at step {step}{where}")
    return [r.event for r in summaries], chosen
