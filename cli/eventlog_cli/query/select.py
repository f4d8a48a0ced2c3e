"""Choosing events: by type, rank, step range and phase (replay, grep, filter), samples, groups."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.query.metrics import in_steps, parse_steps
from eventlog_cli.query.phases import Context, annotate
from eventlog_cli.read import Record

__all__ = ["groups_at", "regex", "select_events", "select_samples"]


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
    bounds = parse_steps(steps)
    out = []
    for rec, ctx in zip(records, annotate(records), strict=True):
        ev = rec.event
        if events and ev.get("event") not in events:
            continue
        if rank is not None and ev.get("rank") != rank:
            continue
        if not in_steps(ctx.step, bounds):
            continue
        if (
            phase
            and phase not in [n for n, _ in ctx.path]
            and not (ev.get("event") in ("phase_start", "phase_end") and ev.get("phase") == phase)
        ):
            continue
        out.append((rec, ctx))
    return out


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


def select_samples(
    records: Sequence[Record], wrong: bool, step: int | None, split: str | None, limit: int
) -> list[dict[str, Any]]:
    """The last ``limit`` sample events that match (``wrong``: only ``correct`` false), payload whole."""
    return [
        r.event
        for r in records
        if (not wrong or r.event.get("correct") is False)
        and (step is None or r.event.get("step") == step)
        and (split is None or r.event.get("split") == split)
    ][-limit:]


def groups_at(
    summaries: Sequence[Record], details: Sequence[Record], step: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every group_summary, and the group_detail events at ``step`` (default: the last detail's step).

    Raises:
        DataError: there are neither.
    """
    if not summaries and not details:
        raise DataError("no group_summary or group_detail events in these files")
    at = step if step is not None else (details[-1].event.get("step") if details else None)
    return [r.event for r in summaries], [d.event for d in details if d.event.get("step") == at]
