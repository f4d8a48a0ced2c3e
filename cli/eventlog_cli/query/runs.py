"""Runs and ranks kept apart: run identity, the rank a command answers for, resumed segments.

* A run is identified by where it came from (the directory of its files, ``-`` for stdin)
  and its run name, never by the name alone: two directories of a seed sweep that both say
  ``run="demo"`` are two runs. :func:`run_labels` is the one rule that names them (the run
  name, or the directory name when run names collide), for :class:`RunIds` (table, trend,
  summary) and ``rundata.label_runs`` (report, compare, plot) alike.
* Ranks: :func:`default_rank` (rank 0, or the lowest present) is the one whose timings and
  shares a command reports unless ``--rank`` says otherwise.
* Resumed runs: a second ``run_start`` in one file (and rank) starts a new segment;
  :func:`resumes` finds them, :func:`latest_per_step` lets the later value of a repeated
  step win.
"""

from __future__ import annotations

import bisect
import functools
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventlog._text import fmt_duration
from eventlog._values import as_number
from eventlog_cli.errors import DataError
from eventlog_cli.read import Record

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

__all__ = [
    "Resume",
    "RunIds",
    "default_rank",
    "last_write",
    "latest_per_step",
    "maybe_running",
    "only_rank",
    "only_rank_records",
    "resumes",
    "run_duration",
    "run_labels",
    "shared_steps",
    "source_of",
]


@functools.lru_cache(maxsize=4096)
def source_of(path: str) -> str:
    """Where a file came from: its directory (``-`` for stdin, which the reader names ``stdin``); cached, as it
    is asked once per event."""
    return "-" if path in ("-", "stdin") else str(Path(path).parent)


class RunIds:
    """Run identity (source directory, run name) → a label that tells runs apart."""

    def __init__(self, files: Sequence[str], pairs: Iterable[tuple[int, Any]]) -> None:
        self.files = files
        keys = list(dict.fromkeys((source_of(files[f]), _name(run)) for f, run in pairs))
        self.labels: dict[tuple[str, str], str] = run_labels(keys)
        self.order = list(dict.fromkeys(self.labels.values()))

    @classmethod
    def of(cls, files: Sequence[str], records: Sequence[Record] = (), *frames: pl.DataFrame) -> RunIds:
        """The runs of some records and frames (frames need ``file`` and ``run`` columns)."""
        pairs: list[tuple[int, Any]] = [(r.file, r.event.get("run")) for r in records]
        for f in frames:
            if f.height and "file" in f.columns and "run" in f.columns:
                pairs += f.select("file", "run").unique(maintain_order=True).iter_rows()
        return cls(files, pairs)

    def label(self, file: int, run: Any) -> str:
        return self.labels.get((source_of(self.files[file]), _name(run)), _name(run))

    def source(self, label: str) -> str:
        """The directory of the run labelled ``label``."""
        return next((src for (src, _), lab in self.labels.items() if lab == label), "")

    def name(self, label: str) -> str:
        """The run name of the run labelled ``label``."""
        return next((name for (_, name), lab in self.labels.items() if lab == label), label)

    def relabel(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with its ``run`` column replaced by the run labels."""
        if frame.height == 0 or "file" not in frame.columns:
            return frame
        if "run" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias("run"))
        pairs = frame.select("file", "run").unique().iter_rows()
        mapping = {f"{f}\x00{_name(run)}": self.label(f, run) for f, run in pairs}
        key = pl.concat_str(pl.col("file").cast(pl.String), pl.lit("\x00"), pl.col("run").fill_null(""))
        return frame.with_columns(key.replace_strict(mapping, return_dtype=pl.String).alias("run"))


def run_labels(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The one rule naming runs, for every command: (directory, run name) → label.

    A run is labelled by its run name; runs whose names collide are labelled by their
    directory's name (``seed1``, ``seed2``), or, when those collide too, by the shortest
    tail of the directory path that tells them apart (``a/demo``, ``b/demo``).
    """
    by_name: dict[str, list[str]] = {}
    for src, name in keys:
        by_name.setdefault(name, []).append(src)
    labels: dict[tuple[str, str], str] = {}
    for name, srcs in by_name.items():
        if len(srcs) == 1:
            labels[(srcs[0], name)] = name
            continue
        parts = [Path(s).resolve().parts if s != "-" else ("-",) for s in srcs]
        tails = srcs
        for n in range(1, max(len(p) for p in parts) + 1):
            cut = ["/".join(p[-n:]) or s for p, s in zip(parts, srcs, strict=True)]
            if len(set(cut)) == len(cut):
                tails = cut
                break
        labels.update({(s, name): t for s, t in zip(srcs, tails, strict=True)})
    return {k: labels[k] for k in keys}


def _name(run: Any) -> str:
    return "" if run is None else str(run)


def default_rank(ranks: Iterable[Any]) -> int:
    """The rank whose timings a command reports: 0, or the lowest rank present."""
    present = sorted({r for r in ranks if isinstance(r, int)})
    return 0 if not present or 0 in present else present[0]


@dataclass(frozen=True)
class Resume:
    """A ``run_start`` after the first in one file and rank: the run was restarted there."""

    run: str  # the run label
    rank: int
    ts: float
    file: str
    line: int


def resumes(records: Sequence[Record], ids: RunIds) -> list[Resume]:
    """Every restart: a ``run_start`` that is not the first of its file, run and rank (another run's name in the
    same file is another run, not a restart)."""
    seen: set[tuple[int, str, Any]] = set()
    out = []
    for rec in records:
        ev = rec.event
        if ev.get("event") != "run_start" or "parent_pid" in ev:  # a child process joining: not a restart
            continue
        run, rank = ev.get("run"), ev.get("rank")
        key = (rec.file, run if isinstance(run, str) else repr(run), rank if isinstance(rank, int) else repr(rank))
        if key in seen and isinstance(ev.get("ts"), (int, float)):
            out.append(
                Resume(
                    ids.label(rec.file, ev.get("run")),
                    rank if isinstance(rank, int) else 0,
                    ev["ts"],
                    ids.files[rec.file],
                    rec.line,
                )
            )
        seen.add(key)
    return out


def latest_per_step(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per run, rank, split and step: of a repeated step, each value from the later event that has it;
    rows in time order.

    Evals of two splits at one step (``val`` and ``test``) are two rows, never one.
    """
    if frame.height == 0 or "step" not in frame.columns:
        return frame
    keys = [c for c in ("run", "rank", "split", "step") if c in frame.columns]
    with_step = frame.filter(pl.col("step").is_not_null())
    if with_step.select(pl.struct(keys).is_duplicated().any()).item():
        # Two events of one step (a resumed run, or two evals of one split at a step, each with some metrics):
        # one row, each column's last value that is not null, at the place of the last event.
        others = [c for c in with_step.columns if c not in keys]
        with_step = (
            with_step.with_row_index("_row")
            .group_by(keys, maintain_order=True)
            .agg(pl.col("_row").max(), *(pl.col(c).drop_nulls().last() for c in others))
            .sort("_row")
            .select(with_step.columns)
        )
    return pl.concat([with_step, frame.filter(pl.col("step").is_null())], how="vertical_relaxed")


def shared_steps(frame: pl.DataFrame, files: Sequence[str]) -> str | None:
    """Why one rank's steps are fewer than its events: several files (processes) logged the same steps.

    Two processes that both say rank 0 (children started without ``init(rank=...)``) write files
    of their own; :func:`latest_per_step` shows each step once, so say so (a resumed run appends to
    one file, and is not this).
    """
    if frame.height == 0 or "file" not in frame.columns or "step" not in frame.columns or frame["file"].n_unique() < 2:
        return None  # one file (the usual run, and any resumed one): nothing to group
    keys = [c for c in ("run", "rank", "split", "step") if c in frame.columns]
    clash = (
        frame.filter(pl.col("step").is_not_null())
        .group_by(keys)
        .agg(pl.col("file").unique().alias("files"))
        .filter(pl.col("files").list.len() > 1)
    )
    if clash.height == 0:
        return None
    names = sorted({Path(files[i]).name for fs in clash["files"].to_list() for i in fs})
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (
        f"{clash.height} step(s) of one rank were logged by {len(names)} processes ({shown}); each shows once, "
        "with the later values: give one file, or init(rank=...) in each process"
    )


def only_rank(frame: pl.DataFrame, rank: int | None) -> pl.DataFrame:
    """The rows of ``rank`` (all rows when None).

    Raises:
        DataError: no row has that rank (the ranks present are listed).
    """
    if rank is None or frame.height == 0 or "rank" not in frame.columns:
        return frame
    picked = frame.filter(pl.col("rank") == rank)
    if picked.height == 0:
        present = sorted({r for r in frame["rank"].to_list() if r is not None})
        msg = f"no events of rank {rank}; ranks present: {', '.join(map(str, present)) or 'none'}"
        raise DataError(msg)
    return picked


def only_rank_records(records: Sequence[Record], rank: int | None) -> list[Record]:
    """The records of ``rank`` (all when None).

    Raises:
        DataError: none has that rank (the ranks present are listed).
    """
    if rank is None:
        return list(records)
    picked = [r for r in records if r.event.get("rank", 0) == rank]
    if records and not picked:
        present = sorted({r.event.get("rank", 0) for r in records if isinstance(r.event.get("rank", 0), int)})
        msg = f"no events of rank {rank}; ranks present: {', '.join(map(str, present)) or 'none'}"
        raise DataError(msg)
    return picked


def run_duration(events: list[dict[str, Any]], steps: pl.DataFrame, evals: pl.DataFrame) -> tuple[float | None, int]:
    """The run's duration: the segments (split at each ``run_start``) added up; and their count.

    A segment's ``run_end`` gives its duration; one without (killed) spans its first to last ``ts``.
    """
    starts = sorted(e["ts"] for e in events if e.get("event") == "run_start" and isinstance(e.get("ts"), (int, float)))
    bounds = starts[1:]
    seg_ts: dict[int, list[float]] = {}
    seg_end: dict[int, float] = {}
    for e in events:
        if isinstance(t := e.get("ts"), (int, float)):
            i = bisect.bisect_right(bounds, t)
            seg_ts.setdefault(i, []).append(t)
            d = as_number(e.get("duration")) if e.get("event") == "run_end" else None
            if d is not None:
                seg_end[i] = d
    for f in (steps, evals):  # many rows: each segment's first and last time, in polars
        if f.height and "ts" in f.columns:
            seg = pl.Series(bounds, dtype=pl.Float64).search_sorted(f["ts"].drop_nulls(), side="right")
            by = (
                pl.DataFrame({"seg": seg, "ts": f["ts"].drop_nulls()})
                .group_by("seg")
                .agg(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi"))
            )
            for i, lo, hi in by.iter_rows():
                seg_ts.setdefault(i, []).extend((lo, hi))
    if not seg_ts:
        return None, max(1, len(starts))
    total = sum(seg_end[i] if i in seg_end else max(v) - min(v) for i, v in seg_ts.items())
    return total, max(1, len(starts))


RECENT_WRITE_S = 120.0  # a run without run_end written to this recently is called possibly running


def maybe_running(summary: dict[str, Any]) -> str | None:
    """The status words of a summary whose run has no ``run_end`` but was written to seconds ago (a live run, or
    one just killed); None for any other run."""
    age = summary.get("last_write_s")
    if summary.get("status_inferred") and age is not None and age < RECENT_WRITE_S:
        return f"no run_end yet: running, or stopped {fmt_duration(age)} ago"
    return None


def last_write(files: Sequence[str], records: Sequence[Record], *frames: pl.DataFrame) -> float | None:
    """Seconds since the files holding these records and frames' rows were last written (None for stdin): a
    run without run_end written to seconds ago may still be running."""
    mine = {r.file for r in records}
    for frame in frames:
        if "file" in frame.columns:
            mine.update(frame["file"].unique().to_list())
    times = []
    for f in mine:
        try:
            times.append(os.stat(files[f]).st_mtime)
        except (OSError, IndexError, TypeError):
            continue
    return round(max(0.0, time.time() - max(times)), 1) if times else None
