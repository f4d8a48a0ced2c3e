"""verl console logs (SFT and PPO/GRPO trainers) → step_metrics / eval_summary.

Reads ``step:N - key:value - ...`` lines wherever they start (after a Ray prefix such as
``(TaskRunner pid=123)``, coloured or not, or glued after a tqdm bar), values as verl prints them
(``0.5``, ``nan``, ``np.float64(0.5)``). A Ray prefix in the middle of a line starts a new line
(the driver wrote a progress bar onto the metrics line). ``val/``, ``val-core/`` and ``val-aux/``
keys are evaluations (an ``eval_summary`` per prefix at that step), ``timing_s/`` keys the step's
timing, the rest metrics. ``Initial validation metrics: {...}`` and ``Final validation metrics:
{...}`` (also as pprint wraps them over several lines) are evaluations too, but verl also logs the
same dict as a step line (the initial one at the step it resumed from, the final one at the last
step): such a print is then not counted twice. Alone (no console logger), the initial one is at
step 0 and the final one at the last step seen. ``Final validation metrics: None`` (no validation
at the last step) still marks the run completed.
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
_VALS_NONE = re.compile(r"\bFinal validation metrics: None['\"]?\s*$")  # print() or pprint() of it
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # Ray colours its prefixes, also into a file
_RAY_INSIDE = re.compile(r"\((?:[A-Za-z_][\w.]* )?pid=\d+(?:, ip=[\d.]+)?\)")
_REPEATED = re.compile(r"\s*\[repeated \d+x across cluster\]\s*$")
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
    numbered = _source_lines(text)
    if text and not text.endswith(("\n", "\r")) and numbered:  # a log being written ends mid-line (mid-number)
        torn = numbered[-1][0]
        if any(n == torn and (_STEP.search(ln) or "validation metrics:" in ln) for n, ln in numbered):
            w.note(f"line {torn} has no end (still being written?): not imported")
        numbered = [(n, ln) for n, ln in numbered if n != torn]
    lines = [ln for _, ln in numbered]
    ts = src.stat().st_mtime  # console lines carry no time: every event gets the file's time
    w.emit("run_start", ts, "", config={"imported_from": str(src)}, tags=["imported", "verl"])
    last_step = 0
    last_pairs: dict[str, Any] = {}  # every key:value printed at last_step (a step may take several lines)
    final_seen = False
    i = 0
    while i < len(lines):
        line, where = lines[i], f"line {numbered[i][0]}"
        if "validation metrics:" in line:
            if _VALS_NONE.search(line):
                final_seen = True
                i += 1
                continue
            block, used = _metrics_block(lines, i)
            if block is not None:
                kind, metrics = block
                final_seen |= kind == "Final"
                if kind == "Initial":
                    if not _logged_as_step(metrics, _next_step_pairs(lines, i + used)):
                        _evals(w, ts, where, 0, metrics, "initial validation")
                elif not _logged_as_step(metrics, last_pairs):
                    _evals(w, ts, where, last_step, metrics, "final validation")
                i += used
                continue
        m = _STEP.search(line)
        if m:
            step = int(m.group(1))
            if step != last_step:
                last_pairs = {}
            last_step = max(last_step, step)
            last_pairs.update(_step_line(w, ts, where, step, line[m.end() :]))
        i += 1
    if not w.counts.get("step_metrics") and not w.counts.get("eval_summary"):
        raise DataError(f"{src}: no 'step:N - key:value' lines and no validation metrics; is this a verl console log?")
    if not final_seen:
        w.note("no 'Final validation metrics' line: the run is recorded as interrupted (it may still be running)")
    w.emit("run_end", ts, "", status="completed" if final_seen else "interrupted", events_dropped=0)


def _source_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) with colours, Ray prefixes and Ray's '[repeated Nx across cluster]' removed."""
    out: list[tuple[int, str]] = []
    for n, raw in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        raw = _ANSI.sub("", raw)
        cuts = [m.start() for m in _RAY_INSIDE.finditer(raw) if m.start() > 0]
        for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True):
            out.append((n, _REPEATED.sub("", _RAY.sub("", raw[a:b]))))
    return out


def _next_step_pairs(lines: list[str], j: int) -> dict[str, Any]:
    """The key:value pairs of the first step line from ``j`` on (verl logs the initial validation there)."""
    for line in lines[j:]:
        m = _STEP.search(line)
        if m:
            return _pairs(line[m.end() :])[0]
    return {}


def _logged_as_step(metrics: dict[str, Any], pairs: dict[str, Any]) -> bool:
    """Whether a printed validation dict is also a step line's key:value pairs (same keys, same values)."""
    if not metrics:
        return False
    for k, v in metrics.items():
        n = v if isinstance(v, (int, float)) and not isinstance(v, bool) else parse_value(str(v))
        if k not in pairs or n is None or not _same(n, pairs[k]):
            return False
    return True


def _same(a: float, b: float) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _pairs(rest: str) -> tuple[dict[str, Any], dict[str, str]]:
    pairs: dict[str, Any] = {}
    odd: dict[str, str] = {}
    for part in rest.split(" - "):
        part = part.strip()
        if not part:
            continue
        cut = _last_colon(part)  # not a value's own: tensor(0.5, device='cuda:0')
        key, sep, raw = (part[:cut], ":", part[cut + 1 :]) if cut >= 0 else ("", "", part)
        if not sep or not key:
            odd[f"field{len(odd)}"] = part
            continue
        value = parse_value(raw)
        if value is None:
            odd[key] = raw
        else:
            pairs[key] = value
    return pairs, odd


def _last_colon(part: str) -> int:
    """Where the last ``:`` outside parentheses is (``train/lr(1e-3):0.001`` keeps its key), or -1."""
    depth, cut = 0, -1
    for i, c in enumerate(part):
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif c == ":" and depth == 0:
            cut = i
    return cut


def _step_line(w: RunWriter, ts: float, where: str, step: int, rest: str) -> dict[str, Any]:
    pairs, odd = _pairs(rest)
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
    return pairs


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
