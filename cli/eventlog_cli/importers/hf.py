"""HF ``trainer_state.json``: ``log_history`` → step_metrics / eval_summary / the training phase; the rest → config."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from eventlog.integrations._common import as_number, hf_eval_records, hf_is_final, hf_rest, numbers_and_text
from eventlog_cli.errors import DataError
from eventlog_cli.importers._writer import RunWriter

__all__ = ["import_trainer_state", "looks_like"]

_FINAL = "train_runtime"


def looks_like(path: Path) -> bool:
    if path.is_dir():
        return (path / "trainer_state.json").is_file()
    if path.suffix != ".json":
        return False
    try:
        with open(path, "rb") as f:
            return b'"log_history"' in f.read(1 << 20)
    except OSError:
        return False


def import_trainer_state(src: Path, w: RunWriter) -> None:
    path = src / "trainer_state.json" if src.is_dir() else src
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable trainer_state.json ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("log_history"), list):
        raise DataError(f"{path}: no log_history list; is this a Hugging Face trainer_state.json?")
    ts = path.stat().st_mtime  # the file has no timestamps: every event gets the file's time
    history: list[Any] = data["log_history"]
    start: dict[str, Any] = {
        "config": {k: v for k, v in data.items() if k != "log_history"},
        "tags": ["imported", "hf_trainer_state"],
    }
    if isinstance(data.get("max_steps"), int) and data["max_steps"] > 0:
        start["total_steps"] = data["max_steps"]
    epochs = as_number(data.get("num_train_epochs"))
    total_epochs = math.ceil(epochs) if isinstance(epochs, (int, float)) and epochs > 0 else None
    if total_epochs is not None:
        start["total_epochs"] = total_epochs
    w.emit("run_start", ts, "top level", **start)
    has_train = any(isinstance(r, dict) and _is_train(r) for r in history)
    if has_train:
        w.emit("phase_start", ts, "", phase="training", id=0, **_totals(start))
    final: dict[str, Any] | None = None
    for i, rec in enumerate(history):
        where = f"log_history[{i}]"
        if not isinstance(rec, dict):
            w.note(f"{where} is not an object; skipped")
            continue
        if hf_is_final(rec):
            final = rec
            continue
        _record(w, ts, where, rec, start.get("total_steps"), total_epochs)
    complete = final is not None or (
        isinstance(data.get("global_step"), int) and data.get("global_step") == data.get("max_steps")
    )
    if has_train or final is not None:
        if not has_train:
            w.emit("phase_start", ts, "", phase="training", id=0, **_totals(start))
        summary = {
            k: n for k, n in ((k, as_number(v)) for k, v in (final or {}).items()) if n is not None and n is not False
        }
        duration = summary.get(_FINAL, 0.0)
        w.emit(
            "phase_end",
            ts,
            "final record",
            phase="training",
            id=0,
            status="ok" if complete else "interrupted",
            duration=duration,
            **({"steps_completed": data["global_step"]} if type(data.get("global_step")) is int else {}),
            **summary,
        )
    best = data.get("best_model_checkpoint")
    if isinstance(best, str) and best:
        m = re.search(r"checkpoint-(\d+)", best)
        w.emit(
            "checkpoint",
            ts,
            "best_model_checkpoint",
            step=int(m.group(1)) if m else int(data.get("global_step") or 0),
            path=best,
        )
    end: dict[str, Any] = {"status": "completed" if complete else "interrupted", "events_dropped": 0}
    if final is not None and isinstance(as_number(final.get(_FINAL)), (int, float)):
        end["duration"] = as_number(final[_FINAL])
    if not complete:
        w.note("no final train_runtime record and global_step < max_steps: recorded as interrupted")
    w.emit("run_end", ts, "", **end)


def _is_train(rec: dict[str, Any]) -> bool:
    return hf_is_final(rec) or not hf_eval_records(rec)


def _totals(start: dict[str, Any]) -> dict[str, Any]:
    return {k: start[k] for k in ("total_steps", "total_epochs") if k in start}


def _step(v: Any) -> int | None:
    """A log record's step: an int, or a whole number written as ``2.0`` or ``"2"`` (another writer's JSON); a
    bool, fraction or other text is none."""
    if type(v) is int:
        return v
    if type(v) is float and v.is_integer():
        return int(v)
    if type(v) is str and v.strip().isdigit():
        return int(v)
    return None


def _record(
    w: RunWriter, ts: float, where: str, rec: dict[str, Any], total_steps: int | None, total_epochs: int | None
) -> None:
    step = _step(rec.get("step"))
    if step is None:
        w.note(f"{where} has no integer step; recorded at step 0")
        step = 0
    body = {k: v for k, v in rec.items() if k != "step"}
    evals = hf_eval_records(body)
    if evals:
        for split, (metrics, duration) in evals.items():
            fields: dict[str, Any] = {"step": step, "split": split, "metrics": metrics}
            if duration is not None:
                fields["duration"] = duration
            w.emit("eval_summary", ts, where, **fields)
        rest = hf_rest(body)  # what the record holds besides its evaluations (a custom value): kept
        if not rest:
            return
        body = {**rest, **({"epoch": body["epoch"]} if "epoch" in body else {})}
    numbers, text = numbers_and_text(body, skip=("epoch",))
    fields = {"step": step, "metrics": numbers}
    epoch = as_number(body.get("epoch"))
    if isinstance(epoch, (int, float)) and not isinstance(epoch, bool):
        fields["epoch"] = epoch
    if total_steps is not None:
        fields["total_steps"] = total_steps
    if total_epochs is not None:
        fields["total_epochs"] = total_epochs
    w.emit("step_metrics", ts, where, **fields)
    if text:
        w.emit(
            "log",
            ts,
            where,
            level="info",
            msg="non-numeric log_history values",
            logger="trainer_state",
            step=step,
            **text,
        )
