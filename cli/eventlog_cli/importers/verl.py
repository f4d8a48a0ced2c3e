"""verl console logs (SFT and PPO/GRPO trainers) → step_metrics / eval_summary.

Reads ``step:N - key:value - ...`` lines wherever they start (after a Ray prefix such as
``(TaskRunner pid=123)`` or glued after a tqdm bar), values as verl prints them (``0.5``,
``nan``, ``np.float64(0.5)``). ``val/``, ``val-core/`` and ``val-aux/`` keys are evaluations
(an ``eval_summary`` per prefix at that step), ``timing_s/`` keys the step's timing, the rest
metrics. ``Initial validation metrics: {...}`` and ``Final validation metrics: {...}`` (also as
pprint wraps them over several lines) become evaluations at step 0 and at the last step.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path
from typing import Any

from eventlog_cli.errors import DataError
from eventlog_cli.importers._writer import RunWriter

__all__ = ["import_verl", "looks_like", "parse_value"]

_STEP = re.compile(r"(?<![\w/])step:(\d+)(?= - |\s*$)")
_RAY = re.compile(r"^\s*\([A-Za-z_][\w.]*(?: pid=\d+)?(?:, ip=[\d.]+)?\)\s?")
_WRAPPED = re.compile(
    r"\b(?:np|numpy|torch)\.\w+\(\s*([^()]*?)\s*(?:,\s*dtype=[\w.]+)?\)|\btensor\(\s*([^()]*?)\s*(?:,[^()]*)?\)"
)
_VALS = re.compile(r"(Initial|Final) validation metrics: (\{.*\})", re.S)
_EVAL_PREFIXES = ("val-core/", "val-aux/", "val/")
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "+inf": math.inf}


def looks_like(src: Path) -> bool:
    if not src.is_file():
        return False
    try:
        with open(src, "rb") as f:
            head = f.read(4 << 20).decode("utf-8", "replace")
    except OSError:
        return False
    return bool(_STEP.search(head)) or "validation metrics: {" in head


def parse_value(text: str) -> float | int | None:
    """A value as verl prints it (``0.5``, ``12``, ``nan``, ``np.float64(0.5)``, ``tensor(0.5)``); None otherwise."""
    t = text.strip()
    m = _WRAPPED.fullmatch(t)
    if m:
        t = (m.group(1) if m.group(1) is not None else m.group(2) or "").strip()
    low = t.lower()
    if low in _NONFINITE:
        return _NONFINITE[low]
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return None


def import_verl(src: Path, w: RunWriter) -> None:
    try:
        text = src.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DataError(f"{src}: cannot read ({exc.strerror})") from None
    lines = [_RAY.sub("", ln) for ln in re.split(r"\r\n|\r|\n", text)]
    ts = src.stat().st_mtime  # console lines carry no time: every event gets the file's time
    w.emit("run_start", ts, "", config={"imported_from": str(src)}, tags=["imported", "verl"])
    last_step = 0
    final_seen = False
    i = 0
    while i < len(lines):
        line, where = lines[i], f"line {i + 1}"
        if "validation metrics:" in line:
            block, used = _metrics_block(lines, i)
            if block is not None:
                kind, metrics = block
                final_seen |= kind == "Final"
                _evals(w, ts, where, 0 if kind == "Initial" else last_step, metrics, f"{kind.lower()} validation")
                i += used
                continue
        m = _STEP.search(line)
        if m:
            last_step = max(last_step, int(m.group(1)))
            _step_line(w, ts, where, int(m.group(1)), line[m.end() :])
        i += 1
    if not w.counts.get("step_metrics") and not w.counts.get("eval_summary"):
        raise DataError(f"{src}: no 'step:N - key:value' lines and no validation metrics; is this a verl console log?")
    if not final_seen:
        w.note("no 'Final validation metrics' line: the run is recorded as interrupted (it may still be running)")
    w.emit("run_end", ts, "", status="completed" if final_seen else "interrupted", events_dropped=0)


def _step_line(w: RunWriter, ts: float, where: str, step: int, rest: str) -> None:
    pairs: dict[str, Any] = {}
    odd: dict[str, str] = {}
    for part in rest.split(" - "):
        part = part.strip()
        if not part:
            continue
        key, sep, raw = part.rpartition(":")
        if not sep or not key:
            odd[f"field{len(odd)}"] = part
            continue
        value = parse_value(raw)
        if value is None:
            odd[key] = raw
        else:
            pairs[key] = value
    metrics = {k: v for k, v in pairs.items() if not k.startswith(_EVAL_PREFIXES) and not k.startswith("timing_s/")}
    timing = {k[len("timing_s/") :]: v for k, v in pairs.items() if k.startswith("timing_s/")}
    fields: dict[str, Any] = {"step": step, "metrics": metrics}
    if timing:
        fields["timing"] = timing
    if metrics or timing:
        w.emit("step_metrics", ts, where, **fields)
    _evals(w, ts, where, step, {k: v for k, v in pairs.items() if k.startswith(_EVAL_PREFIXES)}, None)
    if odd:
        w.emit("log", ts, where, level="warning", msg="values that are not numbers", logger="verl", step=step, **odd)


def _evals(w: RunWriter, ts: float, where: str, step: int, values: dict[str, Any], label: str | None) -> None:
    by_split: dict[str, dict[str, Any]] = {}
    other: dict[str, Any] = {}
    for k, v in values.items():
        prefix = next((p for p in _EVAL_PREFIXES if k.startswith(p)), None)
        n = v if isinstance(v, (int, float)) and not isinstance(v, bool) else parse_value(str(v))
        if n is None:
            other[k] = str(v)
        elif prefix is None:  # e.g. timing_s/testing in an initial validation block
            by_split.setdefault("val", {})[k] = n
        else:
            by_split.setdefault(prefix[:-1], {})[k[len(prefix) :]] = n
    for split, metrics in by_split.items():
        w.emit("eval_summary", ts, where, step=step, split=split, metrics=metrics)
    if other:
        w.emit(
            "log",
            ts,
            where,
            level="warning",
            msg=f"{label or 'validation'}: values that are not numbers",
            logger="verl",
            step=step,
            **other,
        )


def _metrics_block(lines: list[str], i: int) -> tuple[tuple[str, dict[str, Any]] | None, int]:
    """The dict after 'Initial/Final validation metrics:', on one line or pprint-wrapped over several."""
    for n in range(1, min(400, len(lines) - i) + 1):
        chunk = "\n".join(lines[i : i + n]).strip()
        if chunk.startswith("(") or chunk.startswith(("'", '"')):
            try:  # pprint printed the f-string as a (possibly parenthesised) series of string literals
                chunk = ast.literal_eval(chunk)
            except (ValueError, SyntaxError):
                continue
            if not isinstance(chunk, str):
                return None, 1
        m = _VALS.search(chunk)
        if not m:
            continue
        body = _WRAPPED.sub(lambda g: g.group(1) if g.group(1) is not None else (g.group(2) or ""), m.group(2))
        body = re.sub(r"(?<![\w'\"])(nan|inf|-inf)(?![\w'\"])", lambda g: repr(str(g.group(1))), body)
        try:
            metrics = ast.literal_eval(body)
        except (ValueError, SyntaxError):
            continue
        if isinstance(metrics, dict):
            return (m.group(1), {str(k): v for k, v in metrics.items()}), n
        return None, 1
    return None, 1
