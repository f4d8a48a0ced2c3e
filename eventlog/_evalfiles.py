"""Eval stats files: every ``eval_summary`` also saved as ``eval_logs/eval_step_XXXX.json``.

Seed 004's users read these with ``jq '.accuracy' eval_logs/*.json`` and
their ``analyze_eval_logs()``, so the file holds one flat object: ``step``,
then every metric at the top level, then ``split``, ``total`` and
``duration`` when the event has them (a metric of the same name wins).
``eventlog eval --json`` prints the same object (:func:`flat_eval`).

The events file stays the record: these files are a view of it, written by
the run on rank 0 (setting ``eval_files``, default on). A later eval at the
same step replaces the file, as in the seed. The first split the run saves
(and an eval without a split) keeps the seed's name; another split evaluated
at the same steps (HF's named eval datasets, verl's val-aux) gets its own file,
``eval_step_XXXX.<split>.json``, which the seed's ``eval_step_*.json`` glob
still finds, rather than replacing the first split's file. A failure to write
is reported once on stderr and never stops training.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from eventlog._trouble import Reporter

__all__ = ["EVAL_DIR", "EvalFiles", "eval_file_name", "flat_eval", "saved_beside"]

EVAL_DIR = "eval_logs"
_EXTRA = ("split", "total", "duration")


def flat_eval(ev: Mapping[str, Any]) -> dict[str, Any]:
    """The flat object of one ``eval_summary``: ``{"step": 10, "accuracy": 0.85, ...}``."""
    metrics = ev.get("metrics") or {}
    out: dict[str, Any] = {"step": ev.get("step")}
    out.update((k, v) for k, v in metrics.items() if k != "step")
    out.update((k, ev[k]) for k in _EXTRA if ev.get(k) is not None and k not in out)
    return out


def eval_file_name(step: Any, split: str | None = None) -> str:
    """``eval_step_0010.json``, or ``eval_step_0010.test.json`` for another split than the run's first."""
    if split is None:
        return f"eval_step_{int(step):04d}.json"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in split)[:64] or "_"
    return f"eval_step_{int(step):04d}.{safe}.json"


class EvalFiles:
    """Write the eval stats files of one run directory."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(run_dir) / EVAL_DIR
        self._saved: dict[Any, str] = {}  # (step, split) -> path written (the console may render on another thread)
        self._first: list[Any] = []  # the first split saved (None: an eval without one)
        self._report = Reporter()

    def _name(self, ev: dict[str, Any]) -> str:
        split = ev.get("split")
        if not self._first:
            self._first.append(split)
        own = split is not None and split != self._first[0] and isinstance(split, str)
        return eval_file_name(ev.get("step"), split if own else None)

    def save(self, ev: dict[str, Any]) -> str | None:
        """Write the event's flat object; the path written, or None (reported once on stderr)."""
        key = (ev.get("step"), ev.get("split"))
        self._saved.pop(key, None)
        try:
            path = self.dir / self._name(ev)
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(orjson.dumps(flat_eval(ev), option=orjson.OPT_INDENT_2) + b"\n")
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError, orjson.JSONEncodeError) as exc:
            self._report(
                "eval-file",
                f"eventlog could not write the eval stats file under {self.dir}: {exc!r}",
                "Training continues and the eval is in events.jsonl (eventlog eval --json prints it); "
                "further eval-file errors are not printed.",
            )
            return None
        self._saved[key] = str(path)
        return str(path)

    def saved(self, ev: dict[str, Any]) -> str | None:
        """The path :meth:`save` wrote for this event's step and split, if it did."""
        return self._saved.get((ev.get("step"), ev.get("split")))


def saved_beside(events_file: str | os.PathLike[str]) -> Callable[[dict[str, Any]], str | None]:
    """For a replay: the eval stats file of an ``eval_summary`` when it is there beside the events file.

    The run printed ``<run dir>/eval_logs/eval_step_XXXX.json``; replaying
    ``<run dir>/events.jsonl`` from the same directory prints the same path.
    """
    base = Path(events_file).parent / EVAL_DIR

    def saved(ev: dict[str, Any]) -> str | None:
        if ev.get("rank", 0) != 0 or not isinstance(ev.get("step"), int):
            return None
        split = ev.get("split")
        if isinstance(split, str):  # another split than the run's first has its own file
            own = base / eval_file_name(ev["step"], split)
            if own.is_file():
                return str(own)
        path = base / eval_file_name(ev["step"])
        return str(path) if path.is_file() else None

    return saved
