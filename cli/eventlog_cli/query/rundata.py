"""Runs as the visual commands (report, compare, plot) see them, as plain data.

Each path given is loaded on its own (``commands._read.read_runs``) and split here by
directory and run name, so two runs with the same name from different directories stay
apart (even within one glob); ``label_runs`` names them by the one rule of
``query.runs.run_labels``; ``of_rank`` keeps one rank's events of a run.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

from eventlog._values import as_number
from eventlog_cli.errors import DataError
from eventlog_cli.query.checks import run_warnings
from eventlog_cli.query.phases import PhaseRow, collapse_steps, phase_rows, steps_done
from eventlog_cli.query.runs import default_rank, last_write, run_duration, run_labels, source_of
from eventlog_cli.read import Loaded, Record, hashable

__all__ = [
    "LIGHT",
    "MISSING",
    "TYPES",
    "RunData",
    "config_diff",
    "flatten",
    "group_frame",
    "label_runs",
    "of_rank",
    "runs_of",
    "seq_problems",
    "timeline_rows",
]

LIGHT = ["run_start", "run_end", "phase_start", "phase_end", "checkpoint", "log", "config_update"]
TYPES = [*LIGHT, "step_metrics", "eval_summary", "group_summary", "sample"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass
class RunData:
    """One run: its label, light records, step/eval/group frames and the summary figures."""

    label: str
    run: str
    source: str
    records: list[Record]
    steps: pl.DataFrame
    evals: pl.DataFrame
    groups: pl.DataFrame
    loaded: Loaded
    files: frozenset[int] = frozenset()  # indices in ``loaded.files`` of this run's files
    rank: int | None = None  # set when the run was narrowed to one rank (``of_rank``)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [r.event for r in self.records]

    @property
    def start(self) -> dict[str, Any]:
        return next((e for e in self.events if e.get("event") == "run_start"), {})

    @property
    def config(self) -> dict[str, Any]:
        """The run_start config with every config_update applied, flattened to dotted keys."""
        cfg: dict[str, Any] = {}
        for e in self.events:
            if e.get("event") in ("run_start", "config_update") and isinstance(e.get("config"), dict):
                cfg.update(flatten(e["config"]))
        return cfg

    @functools.cached_property
    def phases(self) -> list[PhaseRow]:
        return phase_rows(self.records)

    def summary(self) -> dict[str, Any]:
        """Status, duration, steps and warnings (as ``summary``); seq gaps checked over whole files."""
        events = self.events
        end = next((e for e in reversed(events) if e.get("event") == "run_end"), None)
        one = of_rank(self, self.rank)  # the duration of one rank (the default one), as summary gives it
        duration, _ = run_duration(one.events, one.steps, one.evals)  # a resumed run's segments added up
        total_steps = self.start.get("total_steps")
        if total_steps is None and self.steps.height and "total_steps" in self.steps.columns:
            total_steps = self.steps["total_steps"].drop_nulls().max()
        warnings = run_warnings(self.loaded, events, self.phases, self.steps, self.evals, end)
        return {
            "status": (st if isinstance(st := end.get("status", "?"), str) else "?") if end else "interrupted",
            "status_inferred": end is None,
            "last_write_s": None if end else last_write(self.loaded.files, self.records, self.steps, self.evals),
            "duration": duration,
            "steps_done": steps_done(self.phases, self.steps["step"].max() if self.steps.height else None),
            "total_steps": total_steps,
            # seq numbers over the loaded types only look like gaps: count them over whole files instead
            "warnings": [w for w in warnings if "seq number(s)" not in w] + seq_problems(self.loaded.files),
        }


def seq_problems(files: Sequence[str]) -> list[str]:
    """Gaps and duplicates of ``seq`` per file, read as a stream of numbers (files only, not stdin)."""
    out = []
    for f in files:
        if f == "stdin" or not Path(f).is_file():
            continue
        src: Any = f
        if f.endswith(".gz"):
            import gzip

            with gzip.open(f, "rb") as fh:
                src = fh.read()
        seq = pl.col("line").str.extract(r',"seq":(\d+)').cast(pl.Int64)
        try:
            n, u, lo, hi = (
                pl.scan_lines(src)
                .select(seq.alias("s"))
                .drop_nulls()
                .select(
                    pl.len().alias("n"),
                    pl.col("s").n_unique().alias("u"),
                    pl.col("s").min().alias("lo"),
                    pl.col("s").max().alias("hi"),
                )
                .collect()
                .row(0)
            )
        except (pl.exceptions.PolarsError, OSError):  # e.g. invalid UTF-8: the reader already named those lines
            continue
        if not n:
            continue
        if hi - lo + 1 > u:
            out.append(f"{f}: {hi - lo + 1 - u} seq number(s) missing between {lo} and {hi} (events were lost)")
        if n > u:
            out.append(f"{f}: {n - u} duplicate seq number(s)")
    return out


def _part(frame: pl.DataFrame, files: frozenset[int], run: str) -> pl.DataFrame:
    """The rows of one run: its name, from its directory's files."""
    if frame.height == 0 or "run" not in frame.columns:
        return frame
    keep = pl.col("run").cast(pl.String) == str(run)  # another writer's number as the run: its text
    if "file" in frame.columns:
        keep &= pl.col("file").is_in(sorted(files))
    return frame.filter(keep)


def runs_of(loaded: Loaded, source: str | None, types: Sequence[str] = TYPES) -> list[RunData]:
    """The runs in one loaded path (split by directory and run name), labelled by name for now (``label_runs``).

    Raises:
        DataError: the files hold no event of a run.
    """
    light = [t for t in types if t in LIGHT]
    records = loaded.records(light) if light else []
    frames = {t: (loaded.frame(t) if t in types else pl.DataFrame()) for t in ("step_metrics", "eval_summary")}
    frames["group_summary"] = group_frame(loaded) if "group_summary" in types else pl.DataFrame()
    dirs = [source_of(f) for f in loaded.files]
    keys: list[tuple[str, Any]] = [(dirs[r.file], r.event.get("run")) for r in records]
    for f in frames.values():
        if f.height and "run" in f.columns and "file" in f.columns:
            keys += [(dirs[i], run) for i, run in f.select("file", "run").unique(maintain_order=True).iter_rows()]
    runs = [(d, str(r)) for d, r in dict.fromkeys(keys) if r is not None]
    if not runs:
        msg = f"{source or loaded.files[0]}: no events of a run in these files"
        raise DataError(msg)
    out = []
    for d, run in runs:
        files = frozenset(i for i, x in enumerate(dirs) if x == d)
        out.append(
            RunData(
                run,
                run,
                d,
                [r for r in records if r.file in files and str(r.event.get("run")) == run],  # run 5: "5"
                _part(frames["step_metrics"], files, run),
                _part(frames["eval_summary"], files, run),
                _part(frames["group_summary"], files, run),
                loaded,
                files,
            )
        )
    return out


def of_rank(run: RunData, rank: int | None) -> RunData:
    """The run with only the events of ``rank`` (None: its default rank, 0 or the lowest present).

    Raises:
        DataError: the run has no events of ``rank`` (the ranks present are listed).
    """
    present = {hashable(r.event.get("rank", 0)) for r in run.records}
    for f in (run.steps, run.evals, run.groups):
        if f.height and "rank" in f.columns:
            present |= set(f["rank"].unique().to_list())
    ranks = sorted(r for r in present if isinstance(r, int))
    chosen = default_rank(ranks) if rank is None else rank
    if ranks and chosen not in ranks:
        msg = f"no events of rank {chosen} in {run.label}; ranks present: {', '.join(map(str, ranks))}"
        raise DataError(msg)

    def keep(f: pl.DataFrame) -> pl.DataFrame:
        return f.filter(pl.col("rank") == chosen) if f.height and "rank" in f.columns else f

    records = [r for r in run.records if r.event.get("rank", 0) == chosen]
    return dataclasses.replace(
        run, records=records, steps=keep(run.steps), evals=keep(run.evals), groups=keep(run.groups), rank=chosen
    )


_GROUP_INTS = ("rank", "step", "groups_total", "groups_kept", "groups_filtered", "rollouts_early_exit")


def _group_fields() -> dict[str, Any]:
    """The dtype of the group_summary columns (built on use: polars is imported lazily)."""
    return {"ts": pl.Float64, "run": pl.String, **{k: pl.Int64 for k in _GROUP_INTS}}


def group_frame(loaded: Loaded) -> pl.DataFrame:
    """The group_summary columns the charts use, decoded with an explicit dtype (the generic path
    decodes every line in Python because the type allows extra fields)."""
    lines = loaded.lines_of(["group_summary"])
    if lines.height == 0:
        return pl.DataFrame()
    try:
        df = lines.select("file", pl.col("line").str.json_decode(pl.Struct(_group_fields())).alias("g")).unnest("g")
    except pl.exceptions.PolarsError:  # a value of an unexpected type: the forgiving path
        return loaded.frame("group_summary")
    return df.sort(["ts", "rank"], nulls_last=True, maintain_order=True)


def label_runs(runs: list[RunData]) -> None:
    """Label each run by the one rule of ``query.runs.run_labels`` (a path given twice: ``#1``, ``#2``)."""
    labels = run_labels(list(dict.fromkeys((r.source, r.run) for r in runs)))
    for r in runs:
        r.label = labels[(r.source, r.run)]
    seen = [r.label for r in runs]
    if len(set(seen)) < len(seen):  # the same path given twice
        for i, r in enumerate(runs):
            r.label = f"{r.label} #{i + 1}"


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested config objects as dotted keys; lists stay values."""
    if not isinstance(obj, dict):
        return {prefix: obj}
    out: dict[str, Any] = {}
    for k, v in obj.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(type(a) is type(b) and a == b) or (a is MISSING and b is MISSING)


def config_diff(configs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every key of any config: its value per run (MISSING when absent) and how it differs.

    ``status`` compares each later run with the first: ``same``, ``changed``,
    ``added`` (absent in the first run) or ``removed`` (absent in a later one).
    """
    keys = list(dict.fromkeys(k for c in configs for k in c))
    rows = []
    for k in keys:
        values = [c.get(k, MISSING) for c in configs]
        first, rest = values[0], values[1:]
        if all(_same(first, v) for v in rest):
            status = "same"
        elif first is MISSING:
            status = "added"
        elif any(v is MISSING for v in rest):
            status = "removed"
        else:
            status = "changed"
        rows.append({"key": k, "values": values, "status": status})
    return rows


def timeline_rows(records: Sequence[Record], phases: list[PhaseRow] | None = None) -> list[dict[str, Any]]:
    """Phases for a Gantt: training steps folded into runs, and checkpoints as points.

    Each row: lane (phase name), start and duration in seconds from the run's
    first event, status, step (or ``first–last``), depth; checkpoints have
    ``kind == "checkpoint"`` and no duration.
    """
    rows = collapse_steps(phase_rows(records) if phases is None else phases)
    out: list[dict[str, Any]] = []
    for r in rows:
        step = r.step if r.count == 1 else f"{r.step}–{r.last_step}"
        out.append(
            {
                "kind": "phase",
                "lane": r.name,
                "start": r.start,
                "duration": r.duration or 0.0,
                "status": r.status,
                "step": step,
                "count": r.count,
                "depth": r.depth,
                "rank": r.rank,
            }
        )
    events = [r.event for r in records]
    t0 = min((e["ts"] for e in events if isinstance(e.get("ts"), (int, float))), default=0.0)
    for ev in events:
        if ev.get("event") == "checkpoint" and isinstance(ev.get("ts"), (int, float)):
            out.append(
                {
                    "kind": "checkpoint",
                    "lane": "checkpoint",
                    "start": ev["ts"] - t0,
                    "duration": as_number(ev.get("duration")) or 0.0,
                    "status": "ok",
                    "step": ev.get("step"),
                    "path": ev.get("path"),
                }
            )
    return out
