"""The phase timeline, per-phase counts, and each event's enclosing phases."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventlog._constants import PHASE_TRAINING, PHASE_TRAINING_STEP
from eventlog._text import sanitize
from eventlog._values import as_number
from eventlog_cli.read import Record, hashable

__all__ = [
    "Annotator",
    "Context",
    "PhaseRow",
    "annotate",
    "collapse_steps",
    "path_text",
    "phase_counts",
    "phase_rows",
    "steps_done",
]

TRAINING_STEP = PHASE_TRAINING_STEP
TRAINING = PHASE_TRAINING


@dataclass
class PhaseRow:
    """One phase run: where it sits, when it started, how long, how it ended."""

    rank: int
    id: Any
    name: str
    depth: int
    step: int | None
    start: float  # seconds after the run's first event
    duration: float | None
    status: str
    parent: Any = None
    label: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    count: int = 1  # >1 for collapsed runs of training steps
    last_step: int | None = None


_PHASE_META = frozenset(
    {"v", "ts", "event", "run", "rank", "seq", "phase", "id", "parent", "step", "label", "status", "duration"}
)


def phase_rows(records: Sequence[Record]) -> list[PhaseRow]:
    """The phase timeline; phases never closed are ``interrupted``, timed to the last event of their process
    (no later than their parent's end, and a ``training_step`` than the next step's start: a phase whose
    ``phase_end`` was lost).

    Phase ids count from 0 in each process, so a resumed run (a second ``run_start`` in the
    file) repeats them: each ``run_start`` starts a new segment of the file (and rank), and a
    phase is found by its segment and id. A repeated id within a segment is a phase of its own.
    """
    t0 = min((r.event["ts"] for r in records if isinstance(r.event.get("ts"), (int, float))), default=0.0)
    segment: dict[tuple[int, Any], int] = {}
    last_ts: dict[tuple[int, Any, int], float] = {}
    rows: dict[tuple[Any, ...], PhaseRow] = {}
    latest: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # (file, rank, segment, id) -> the last phase with that id
    order: list[tuple[Any, ...]] = []
    parents: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    last_step: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # (segment, parent) -> its latest training_step
    next_step: dict[tuple[Any, ...], float] = {}  # a training_step -> when the next one of its parent started
    for rec in records:
        r = rec.event
        key_file = (rec.file, hashable(r.get("rank", 0)))  # another writer's list: a rank of its own
        pid = hashable(r.get("id"))
        ev = r.get("event")
        if ev == "run_start":
            segment[key_file] = segment.get(key_file, 0) + 1
        seg = (*key_file, segment.get(key_file, 0))
        ts = r.get("ts")
        if isinstance(ts, (int, float)) and not isinstance(ts, bool):
            last_ts[seg] = ts
        if ev == "phase_start":
            start = last_ts.get(seg, t0) - t0  # a ts that is no number (another writer's text): the last one before
            key = (*seg, pid, len(order))
            parent = rows.get(parent_key := latest.get((*seg, hashable(r.get("parent"))), ()))
            parents[key] = parent_key
            if r.get("phase") == TRAINING_STEP:  # steps follow each other: the one before ended by now
                before = last_step.get((*seg, parent_key))
                if before is not None:
                    next_step[before] = start
                last_step[(*seg, parent_key)] = key
            latest[(*seg, pid)] = key
            info = {k: v for k, v in r.items() if k not in _PHASE_META}
            rows[key] = PhaseRow(
                r.get("rank", 0),
                r.get("id"),
                str(r.get("phase", "?")),
                parent.depth + 1 if parent else 0,
                r.get("step"),
                start,
                None,
                "interrupted",
                r.get("parent"),
                r.get("label"),
                info,
            )
            order.append(key)
        elif ev == "phase_end":
            row = rows.get(latest.get((*seg, pid), ()))
            if row is None or row.duration is not None:
                continue
            d = as_number(r.get("duration"))
            row.duration = 0.0 if d is not None and d < 0 else d  # another clock's -1 s: no time, as phases prints it
            row.status = str(r.get("status", "ok"))
            row.info.update({k: v for k, v in r.items() if k not in _PHASE_META})
    ends: dict[tuple[Any, ...], float] = {}
    for key in order:  # a parent comes before its children
        row = rows[key]
        if row.duration is None:  # never closed (killed, or its phase_end lost): no later than its parent's end
            bounds = (last_ts.get(key[:3], t0) - t0, ends.get(parents.get(key, ())), next_step.get(key))
            row.duration = max(0.0, min(b for b in bounds if b is not None) - row.start)
        ends[key] = row.start + row.duration
    return [rows[k] for k in order]


def collapse_steps(rows: list[PhaseRow]) -> list[PhaseRow]:
    """Fold consecutive sibling ``training_step`` rows (and their children) into one row."""
    out: list[PhaseRow] = []
    skip_depth: int | None = None
    for row in rows:
        if skip_depth is not None and row.depth > skip_depth:
            continue
        skip_depth = None
        prev = out[-1] if out else None
        if (
            row.name == TRAINING_STEP
            and prev is not None
            and prev.name == TRAINING_STEP
            and prev.depth == row.depth
            and prev.parent == row.parent
            and prev.rank == row.rank
        ):
            prev.count += 1
            prev.duration = (prev.duration or 0.0) + (row.duration or 0.0)
            prev.last_step = row.step
            if row.status != "ok" and prev.status == "ok":
                prev.status = row.status
            skip_depth = row.depth
            continue
        if row.name == TRAINING_STEP:
            row = PhaseRow(**{**row.__dict__, "last_step": row.step})
            skip_depth = row.depth
        out.append(row)
    return out


def steps_done(rows: Sequence[PhaseRow], logged: Any) -> Any:
    """The run's last step: the highest of the last step that logged metrics (``logged``, or None), the last
    ``training_step`` phase that ended ok and a training phase's ``steps_completed`` (a run that logs every
    5 steps and stops at 26 did 26, not 25)."""
    ended = [r.step for r in rows if r.name == TRAINING_STEP and r.status == "ok" and type(r.step) is int]
    ended += [n for r in rows if r.name == TRAINING and type(n := r.info.get("steps_completed")) is int]
    known = [x for x in (logged, max(ended, default=None)) if x is not None]
    return max(known) if known else None


def phase_counts(rows: Sequence[PhaseRow]) -> list[tuple[str, int, float, int]]:
    """Per phase name: runs, total seconds, interrupted or failed runs; in first-seen order."""
    acc: dict[str, list[float]] = {}
    for r in rows:
        a = acc.setdefault(r.name, [0, 0.0, 0])
        a[0] += r.count
        a[1] += r.duration or 0.0
        a[2] += 0 if r.status == "ok" else 1
    return [(k, int(v[0]), v[1], int(v[2])) for k, v in acc.items()]


@dataclass(frozen=True, slots=True)
class Context:
    """Where an event happened: its enclosing phases (outermost first, as (name, step)) and step."""

    path: list[tuple[str, Any]]
    step: int | None


def annotate(records: Sequence[Record]) -> list[Context]:
    """The :class:`Context` of every record, in the same order."""
    a = Annotator()
    return [a.add(rec) for rec in records]


class Annotator:
    """:func:`annotate` one record at a time (``replay --follow`` goes on where the first read stopped).

    An event that names its phase (a log's ``phase_id``: logged from a worker thread while other
    threads had phases open) is placed in that phase and its parents; any other event in the
    innermost open phase of its file. A ``phase_end`` closes its phase and the phases opened
    inside it, not the phases other threads opened after it.
    """

    def __init__(self) -> None:
        self.stacks: dict[tuple[Any, Any], list[tuple[Any, str, Any]]] = defaultdict(list)
        self.parents: dict[tuple[Any, Any], dict[Any, Any]] = defaultdict(dict)  # open phase id -> its parent id

    def add(self, rec: Record) -> Context:
        """The context of the next record (in run order)."""
        r = rec.event
        key = (rec.file, hashable(r.get("rank")))
        stack, parents = self.stacks[key], self.parents[key]
        ev, own = r.get("event"), hashable(r.get("id"))  # another writer's list as an id: an id of its own
        if ev == "run_start":  # a new process (a resumed run): the phases the last one left open are over
            stack.clear()
            parents.clear()
        elif ev == "phase_end" and own in parents:
            gone = {own}
            for pid, _, _ in stack:  # in opening order: a phase opened inside a closed one is closed too
                if parents.get(pid) in gone:
                    gone.add(pid)
            stack[:] = [x for x in stack if x[0] not in gone]
            for pid in gone:
                parents.pop(pid, None)
        entries = stack
        named = hashable(r.get("phase_id"))
        if ev != "phase_end" and named is not None and named in parents:
            chain, pid = set(), named
            while pid is not None and pid in parents and pid not in chain:
                chain.add(pid)
                pid = parents[pid]
            entries = [x for x in stack if x[0] in chain]
        step = r.get("step")
        if not isinstance(step, int):
            step = next((s for _, _, s in reversed(entries) if isinstance(s, int)), None)
        ctx = Context([(name, s) for _, name, s in entries], step)
        if ev == "phase_start":
            stack.append((own, str(r.get("phase", "?")), r.get("step")))
            parents[own] = hashable(r.get("parent"))
        return ctx


def path_text(path: Sequence[tuple[str, Any]]) -> str:
    """``training > training_step[12]``."""
    parts = (f"{n}[{s}]" if isinstance(s, int) and n == TRAINING_STEP else n for n, s in path)
    return sanitize(" > ".join(parts)) or "-"
