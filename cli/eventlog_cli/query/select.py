"""Choosing events: by type, rank, step range and phase (replay, grep, filter), groups."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from eventlog._schema import all_types
from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.query.metrics import in_steps, parse_steps
from eventlog_cli.query.names import unknown_name
from eventlog_cli.query.phases import Annotator, Context
from eventlog_cli.read import Record

__all__ = [
    "Selector",
    "check_events",
    "check_phase",
    "check_where_keys",
    "detail_step",
    "groups_at",
    "regex",
    "step_text",
]


class Selector:
    """Events by type, rank, step range and phase, one record at a time, in run order, each with its context."""

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
