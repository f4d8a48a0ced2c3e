"""The state behind ``eventlog watch``, as plain data fed one event at a time.

Files are read incrementally (``Tail``): only bytes appended since the last
read, in bounded chunks, a torn last line kept until it is complete. The
state keeps bounded windows (the last steps, the last values per metric, the
last warnings), so memory does not grow with the run.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from eventlog._constants import PHASE_TRAINING, PHASE_TRAINING_STEP
from eventlog._text import sanitize
from eventlog._values import as_number
from eventlog_cli.read import as_rank, loads_lenient

__all__ = ["PhaseOpen", "Tail", "WatchState", "find_files"]

CHUNK = 4 << 20
_SKIP = (b'"event":"group_detail"', b'"event":"sample"')  # never shown: only their seq is read
_SEQ = re.compile(rb',"seq":(\d+)')
_RANK = re.compile(rb',"rank":(\d+)')


class Tail:
    """The complete lines appended to one file since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.pending = b""

    def read(self) -> tuple[list[bytes], bool]:
        """(lines, more): at most one chunk; ``more`` when the file holds more already."""
        try:
            with self.path.open("rb") as f:
                size = f.seek(0, 2)
                if size < self.offset:  # truncated or replaced: start again
                    self.offset, self.pending = 0, b""
                f.seek(self.offset)
                data = f.read(CHUNK)
        except OSError:
            return [], False
        self.offset += len(data)
        *lines, self.pending = (self.pending + data).split(b"\n")
        return lines, self.offset < size


def find_files(target: Path) -> list[Path]:
    """The event files of a run directory (rank files included), or the file itself."""
    if target.is_file():
        return [target]
    if target.is_dir():
        return sorted(p for p in target.iterdir() if p.name.endswith(".jsonl"))
    return []


@dataclass
class PhaseOpen:
    id: Any
    name: str
    step: Any
    started: float
    info: dict[str, Any]
    done: int | None = None  # batches or steps done
    total: int | None = None


@dataclass
class WatchState:
    """What the watch screen shows; ``feed`` one decoded event at a time, ``tick`` with the clock."""

    rows: int = 8
    stall_after: float = 30.0
    rank: int = 0  # the rank whose phases, steps and metrics are shown
    run: str | None = None
    host: str | None = None
    started: float | None = None
    total_steps: int | None = None
    ended: dict[str, Any] | None = None
    last_ts: float | None = None
    last_seen: float | None = None  # our clock when the last event arrived
    events: int = 0
    stack: list[PhaseOpen] = field(default_factory=list)
    steps: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=8))
    series: dict[str, deque[float]] = field(default_factory=dict)
    evals: dict[str, deque[tuple[Any, float]]] = field(default_factory=dict)  # per split ("" without one)
    warnings: deque[str] = field(default_factory=lambda: deque(maxlen=6))
    stalled: str | None = None
    metric_keys: list[str] = field(default_factory=list)
    ranks: set[Any] = field(default_factory=set)  # every rank seen (decoded events)
    running: dict[Any, bool] = field(default_factory=dict)  # rank -> its main process started and has not ended
    _children: set[str] = field(default_factory=set)  # files of child processes (run_start with parent_pid)
    _seq: dict[tuple[str, Any], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.steps = deque(maxlen=self.rows)

    # --- input -----------------------------------------------------------------------

    def feed_line(self, line: bytes, source: str, now: float) -> None:
        """One raw line: decoded unless it is a type the screen never shows (then only its seq counts)."""
        line = line.strip().removeprefix(b"\xef\xbb\xbf")  # a BOM can open the first line
        if not line:
            return
        self.stalled = None
        if self.last_seen is None:
            self.last_seen = now  # the stall clock starts with the first line; then the shown rank's lines move it
        if _SKIP[0] in line or _SKIP[1] in line:
            m = _SEQ.search(line)
            rank = _RANK.search(line)
            if m:
                self._check_seq(source, int(rank.group(1)) if rank else 0, int(m.group(1)))
            self.events += 1
            if (int(rank.group(1)) if rank else 0) == self.rank:
                self.last_seen = now
            return
        try:
            ev = orjson.loads(line)
        except orjson.JSONDecodeError:
            ev = loads_lenient(line)  # json.dumps' bare NaN / Infinity: the value kept, as everywhere else
            if ev is None:
                self._warn(f"{source}: a line that is not JSON was skipped")
                return
        if isinstance(ev, dict):
            if ev.get("rank", 0) == self.rank:
                self.last_seen = now
            self.feed(ev, source)

    def feed(self, ev: dict[str, Any], source: str = "") -> None:
        self.events += 1
        rank = as_rank(ev.get("rank", 0))  # another writer's "0" or list
        self.ranks.add(rank)
        if isinstance(ev.get("seq"), int):
            self._check_seq(source, rank, ev["seq"])
        ts = as_number(ev.get("ts"))
        if ts is not None:
            self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
        kind = ev.get("event")
        if kind == "run_start" and ev.get("parent_pid") is not None:
            self._children.add(source)  # a worker process: its run_end is not the run's
        if kind in ("run_start", "run_end"):
            if source in self._children:
                if kind == "run_end":
                    return
            else:
                self.running[rank] = kind == "run_start"
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None and rank == self.rank:
            handler(ev, ts)

    def still_running(self) -> list[Any]:
        """The other ranks whose main process started and has not ended (the run is not over for them)."""
        return sorted((r for r, on in self.running.items() if on and r != self.rank), key=str)

    def rank_note(self) -> str | None:
        """Why nothing is shown: events came, none of the rank asked for (the ranks seen listed)."""
        if not self.ranks or self.rank in self.ranks:
            return None
        seen = ", ".join(str(r) for r in sorted(r for r in self.ranks if isinstance(r, int)))
        return f"no events of rank {self.rank} yet; ranks seen: {seen}"

    def tick(self, now: float) -> None:
        """Mark the run stalled when no event came for ``stall_after`` seconds (and it has not ended)."""
        if self.ended is None and self.last_seen is not None and now - self.last_seen > self.stall_after:
            self.stalled = f"stalled: no event for {now - self.last_seen:.0f}s (threshold {self.stall_after:g}s)"

    # --- events ----------------------------------------------------------------------

    def _on_run_start(self, ev: dict[str, Any], ts: float | None) -> None:
        if ev.get("parent_pid") is None:  # a (resumed) main process: what the last one left open is over
            for p in self.stack:
                self._warn(f"phase {p.name} never ended (interrupted)")
            self.stack.clear()
            self.ended = None
        self.run, self.host, self.started = ev.get("run"), ev.get("host"), ts
        self.total_steps = ev.get("total_steps") or (ev.get("config") or {}).get("total_steps")

    def _on_run_end(self, ev: dict[str, Any], ts: float | None) -> None:
        self.ended = ev
        self.stalled = None
        if ev.get("events_dropped"):
            self._warn(f"{ev['events_dropped']} event(s) dropped by the writer")
        for p in self.stack:
            self._warn(f"phase {p.name} never ended (interrupted)")
        self.stack.clear()

    def _on_phase_start(self, ev: dict[str, Any], ts: float | None) -> None:
        info = {k: v for k, v in ev.items() if k in ("total_batches", "total_steps", "total_epochs", "label", "epoch")}
        # Batches for validation; steps for the training phase (a training_step repeats the run's total).
        total = ev.get("total_batches") or (ev.get("total_steps") if ev.get("phase") != PHASE_TRAINING_STEP else None)
        self.stack.append(PhaseOpen(ev.get("id"), str(ev.get("phase", "?")), ev.get("step"), ts or 0.0, info, 0, total))
        if ev.get("total_steps"):
            self.total_steps = ev["total_steps"]

    def _on_phase_end(self, ev: dict[str, Any], ts: float | None) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].id == ev.get("id"):
                del self.stack[i:]
                break
        if ev.get("status") not in (None, "ok"):
            self._warn(f"phase {ev.get('phase')} {ev.get('status')}")

    def _on_val_batch(self, ev: dict[str, Any], ts: float | None) -> None:
        for p in reversed(self.stack):
            if p.total is not None or ev.get("total_batches"):
                p.done, p.total = ev.get("batch"), ev.get("total_batches") or p.total
                break

    def _on_step_metrics(self, ev: dict[str, Any], ts: float | None) -> None:
        metrics: dict[str, Any] = ev["metrics"] if isinstance(ev.get("metrics"), dict) else {}
        row = {k: ev.get(k) for k in ("step", "epoch", "total_steps", "total_epochs")} | metrics
        for k, v in (ev.get("timing") or {}).items():
            row[f"timing.{k}"] = v
        self.steps.append(row)
        if ev.get("total_steps"):
            self.total_steps = ev["total_steps"]
        series = self.series
        for k, v in metrics.items():
            x = v if type(v) is float else as_number(v)  # the common case without a call
            if k not in series:
                self.metric_keys.append(k)
                series[k] = deque(maxlen=40)
            if x is None:
                continue
            if not math.isfinite(x):
                self._warn(f"step {ev.get('step')}: {sanitize(k)} is {'nan' if x != x else x}")
            series[k].append(x)
        for p in self.stack:
            if p.name == PHASE_TRAINING:
                p.done = ev.get("step")

    def _on_eval_summary(self, ev: dict[str, Any], ts: float | None) -> None:
        metrics: dict[str, Any] = ev["metrics"] if isinstance(ev.get("metrics"), dict) else {}
        acc = as_number(metrics.get("accuracy"))
        if acc is not None:  # a series per split: val and test are never one line
            split = "" if ev.get("split") is None else str(ev.get("split"))
            self.evals.setdefault(split, deque(maxlen=40)).append((ev.get("step"), acc))

    def _on_log(self, ev: dict[str, Any], ts: float | None) -> None:
        if ev.get("level") in ("warning", "error", "critical"):
            self._warn(f"{ev.get('level')}: {ev.get('msg')}")

    # --- helpers ---------------------------------------------------------------------

    def _check_seq(self, source: str, rank: Any, seq: int) -> None:
        key = (source, rank)
        last = self._seq.get(key)
        if last is not None and seq > last + 1:
            self._warn(f"{seq - last - 1} event(s) lost before seq {seq} ({Path(source).name})")
        self._seq[key] = seq if last is None else max(last, seq)

    def _warn(self, text: str) -> None:
        self.warnings.append(sanitize(text))
