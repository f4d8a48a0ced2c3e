"""The console styles: one class each (``banner``, ``compact``) behind the :class:`Style` protocol.

A style turns the events whose look differs between styles into lines; the
:class:`~eventlog._render.Renderer` dispatches to it and adds the blocks
every style shares (``_blocks``). What a phase is called and which icon it
gets comes from the phase-look table (``_looks``).
"""

from __future__ import annotations

from typing import Any, Protocol

from eventlog._blocks import PHASE_KEYS, Line, compact, context, extras, fixed, pairs, value_text
from eventlog._columns import StepTable
from eventlog._looks import DEFAULT_LABELS, WORDS, look_of
from eventlog._text import fmt_bytes, fmt_duration, fmt_num, humanize_key, label, sanitize, title_of

__all__ = ["STYLES", "BannerStyle", "CompactStyle", "Style"]

RULE = "=" * 80
_LEVEL_ICON = {"debug": "·", "info": "•", "warning": "!", "error": "✗", "critical": "‼"}
_LEVEL_STYLE = {"debug": "dim", "info": "", "warning": "warn", "error": "error", "critical": "error"}
_VAL_SKIP = frozenset(
    {"batch", "total_batches", "questions", "total_questions", "avg_reward", "elapsed", "eta", "step"}
)
_LOG_SKIP = frozenset({"level", "msg", "logger", "phase_id", "step"})


class Style(Protocol):
    """What differs between console styles: one method per event type, and the generic line's prefix."""

    name: str
    prefix: str

    def run_start(self, ev: dict[str, Any]) -> list[Line]: ...
    def run_end(self, ev: dict[str, Any]) -> list[Line]: ...
    def phase_start(self, ev: dict[str, Any]) -> list[Line]: ...
    def phase_end(self, ev: dict[str, Any]) -> list[Line]: ...
    def val_batch(self, ev: dict[str, Any]) -> list[Line]: ...
    def step_metrics(self, ev: dict[str, Any]) -> list[Line]: ...
    def eval_summary(self, ev: dict[str, Any]) -> list[Line]: ...
    def checkpoint(self, ev: dict[str, Any]) -> list[Line]: ...
    def log(self, ev: dict[str, Any]) -> list[Line]: ...


# --- what both styles compute -------------------------------------------------------------


def _run_bits(ev: dict[str, Any]) -> str:
    bits = [f"Run: {label(ev.get('run', '?'))}"]
    for key, name in (("host", "Host"), ("world_size", "World size"), ("total_steps", "Total steps")):
        if ev.get(key) is not None:
            bits.append(f"{name}: {label(ev[key])}")
    return " | ".join(bits)


def _dropped_note(ev: dict[str, Any]) -> str:
    dropped = ev.get("events_dropped") or 0
    return f"⚠️  {dropped} events dropped (see stderr of the run)" if dropped else ""


def _totals(ev: dict[str, Any]) -> str:
    return " | ".join(x for x in (pairs(context(ev, PHASE_KEYS)), f"Duration: {fmt_duration(ev.get('duration'))}") if x)


def _numbers(ev: dict[str, Any], first: tuple[tuple[str, str], ...], skip: frozenset[str]) -> list[str]:
    """The seed's line (``first``'s fields in their order and words), then a line of the event's other numbers."""
    shown = [words.format(value_text(k, ev[k])) for k, words in first if ev.get(k) is not None]
    rest = pairs(context(ev, skip | {k for k, _ in first}))
    return [x for x in (" | ".join(shown), rest) if x]


def _val_text(ev: dict[str, Any]) -> str:
    """``[1/2] (50.0%) | Questions: 4/8 | Avg Reward: 0.250 | ...``."""
    b, total = ev["batch"], ev["total_batches"]
    pct = f" ({100 * b / total:.1f}%)" if isinstance(total, int) and total > 0 else ""
    parts = [f"[{fmt_num(b)}/{fmt_num(total)}]{pct}"]
    if ev.get("questions") is not None:
        tq = ev.get("total_questions")
        parts.append(f"Questions: {fmt_num(ev['questions'])}" + (f"/{fmt_num(tq)}" if tq is not None else ""))
    if ev.get("avg_reward") is not None:
        parts.append(f"Avg Reward: {fixed(ev['avg_reward'], 3)}")
    parts += [f"{humanize_key(k)}: {fmt_num(v)}" for k, v in extras(ev, _VAL_SKIP)]
    if ev.get("elapsed") is not None:
        parts.append(f"Elapsed: {fmt_duration(ev['elapsed'])}")
    if "eta" in ev:
        parts.append(f"ETA: {fmt_duration(ev['eta'])}")
    rest = " | ".join(parts[1:])
    return parts[0] + (f" | {rest}" if rest else "")


def _eval_text(ev: dict[str, Any]) -> str:
    metrics = ev.get("metrics") or {}
    split = f" [{label(ev['split'])}]" if ev.get("split") else ""
    body = " | ".join(f"{label(k)}={fmt_num(v)}" for k, v in metrics.items())
    if ev.get("total") is not None:
        body += f" | n={fmt_num(ev['total'])}"
    return f"step {fmt_num(ev.get('step'))}{split}: {body}"


def _checkpoint_text(ev: dict[str, Any]) -> str:
    bits = [label(ev.get("path", "?"))]
    if ev.get("size_bytes") is not None:
        bits.append(fmt_bytes(ev["size_bytes"]))
    if ev.get("duration") is not None:
        bits.append(fmt_duration(ev["duration"]))
    return f"checkpoint step {fmt_num(ev.get('step'))} → " + " | ".join(bits)


def _log_text(ev: dict[str, Any]) -> str:
    fields = " ".join(f"{label(k)}={compact(v)}" for k, v in extras(ev, _LOG_SKIP))
    return sanitize(ev.get("msg", "")) + (f" | {fields}" if fields else "")


def _level(ev: dict[str, Any]) -> str:
    return str(ev.get("level", "info")).lower()


# --- banner: the META LOG flow ------------------------------------------------------------


class BannerStyle:
    """Framed ``[META]`` banners for runs and phases, one line for everything else."""

    name = "banner"
    prefix = "[EVENT]"

    def _framed(self, head: Line, *body: str) -> list[Line]:
        """The seed's block: rule, head, rule, then the body lines and a rule when there are any."""
        rest = [Line(b, "dim") for b in body if b]
        return [Line(RULE, "rule"), head, Line(RULE, "rule"), *rest, *([Line(RULE, "rule")] if rest else [])]

    def run_start(self, ev: dict[str, Any]) -> list[Line]:
        return [Line(WORDS["run_start"].format(bits=_run_bits(ev)), "phase")]

    def run_end(self, ev: dict[str, Any]) -> list[Line]:
        status = ev.get("status")
        dur = f"Duration: {fmt_duration(ev.get('duration'))}"
        note = _dropped_note(ev)
        if status == "completed":
            key = "run_done_validation_only" if ev.get("mode") == "validation_only" else "run_done"
            return self._framed(Line(WORDS[key], "ok"), dur, note)
        if status == "failed":
            err = f"Error: {sanitize(ev.get('error', '?'))}"
            return self._framed(Line(WORDS["run_failed"], "error"), f"{dur} | {err}", note)
        return self._framed(Line(WORDS["run_interrupted"], "warn"), dur, note)

    def _label(self, ev: dict[str, Any]) -> str:
        """The label as the caller wrote it, else the phase's default label or its name in capitals."""
        given = ev.get("label")
        name = str(ev.get("phase", "?"))
        return label(given) if given else DEFAULT_LABELS.get(name) or title_of(name)

    def _words(self, template: str, ev: dict[str, Any]) -> str:
        step = ev.get("step")
        at = WORDS["at_step"].format(step=fmt_num(step)) if step is not None else ""
        return template.format(label=self._label(ev), at_step=at)

    def phase_start(self, ev: dict[str, Any]) -> list[Line]:
        look = look_of(str(ev.get("phase", "?")))
        head = Line(f"{look.icon} {self._words(look.banner, ev)}", "phase")
        if look.progress:
            progress = self._progress(ev)
            return [Line(RULE, "rule"), head, *([Line(progress, "dim")] if progress else []), Line(RULE, "rule")]
        return self._framed(head, *_numbers(ev, look.facts, PHASE_KEYS))

    def _progress(self, ev: dict[str, Any]) -> str:
        parts = []
        if ev.get("epoch") is not None:
            parts.append(f"[Epoch {fmt_num(ev['epoch'])}/{fmt_num(ev.get('total_epochs', '?'))}]")
        step, total = ev.get("step"), ev.get("total_steps")
        if step is not None:
            pct = f" ({100 * step / total:.1f}%)" if isinstance(total, int) and total > 0 else ""
            parts.append(f"Step {fmt_num(step)}/{fmt_num(total) if total else '?'}{pct}")
        text = " ".join(parts)
        if ev.get("elapsed") is not None:
            text += f" | Elapsed: {fmt_duration(ev['elapsed'])}"
        if "eta" in ev or isinstance(total, int):  # no estimate yet: ``?``
            text += f" | ETA: {fmt_duration(ev.get('eta'))}"
        return text

    def phase_end(self, ev: dict[str, Any]) -> list[Line]:
        status = ev.get("status")
        look = look_of(str(ev.get("phase", "?")))
        if status == "failed":
            err = f"Error: {sanitize(ev.get('error', '?'))}"
            return self._framed(Line(self._words(WORDS["phase_failed"], ev), "error"), _totals(ev), err)
        if status != "ok":
            return self._framed(Line(self._words(WORDS["phase_interrupted"], ev), "warn"), _totals(ev))
        if look.done is None:
            return []
        totals = _numbers(ev, look.totals, PHASE_KEYS | look.quiet_totals) if look.totals else [_totals(ev)]
        return self._framed(Line(self._words(look.done, ev), "ok"), *totals)

    def val_batch(self, ev: dict[str, Any]) -> list[Line]:
        return [Line(WORDS["validation"].format(_val_text(ev)))]

    def step_metrics(self, ev: dict[str, Any]) -> list[Line]:
        metrics = m if isinstance(m := ev.get("metrics"), dict) else {}  # another writer's list: validate names it
        lines = []
        traj = ev.get("active_traj")
        if isinstance(traj, list):
            lines.append(Line(WORDS["active_traj"].format(", ".join(fmt_num(n) for n in traj))))
        if metrics:
            body = " | ".join(f"{label(k)}={fixed(metrics[k], 3)}" for k in sorted(metrics))
            lines.append(Line(WORDS["metrics"].format(body)))
        text = WORDS["step_line"].format(
            step=fmt_num(ev.get("step")), body=" ".join(f"{label(k)}={fmt_num(v)}" for k, v in metrics.items())
        )
        timing = t if isinstance(t := ev.get("timing"), dict) else {}
        if timing:
            text += " | " + " ".join(f"{label(k)}={fmt_duration(v)}" for k, v in timing.items())
        return [*lines, Line(text)]

    def eval_summary(self, ev: dict[str, Any]) -> list[Line]:
        return [Line(WORDS["eval"].format(_eval_text(ev)), "ok")]

    def checkpoint(self, ev: dict[str, Any]) -> list[Line]:
        return [Line(f"💾 {_checkpoint_text(ev)}", "dim")]

    def log(self, ev: dict[str, Any]) -> list[Line]:
        level = _level(ev)
        who = f" {label(ev['logger'])}:" if ev.get("logger") else ""
        return [Line(f"[{label(level.upper())}]{who} {_log_text(ev)}", _LEVEL_STYLE.get(level, ""))]


# --- compact: a line per event and a streamed step table -----------------------------------


class CompactStyle:
    """One line per event; step metrics as rows of a step table whose header repeats."""

    name = "compact"
    prefix = "•"

    def __init__(self, table: StepTable) -> None:
        self.table = table

    def run_start(self, ev: dict[str, Any]) -> list[Line]:
        return [Line("▶ run " + _run_bits(ev), "phase")]

    def run_end(self, ev: dict[str, Any]) -> list[Line]:
        status = ev.get("status")
        icon = {"completed": "■", "failed": "✗", "interrupted": "!"}.get(str(status), "■")
        text = f"{icon} run {label(status)} | Duration: {fmt_duration(ev.get('duration'))}"
        if ev.get("error"):
            text += f" | {sanitize(ev['error'])}"
        note = _dropped_note(ev)
        return [Line(text, "ok" if status == "completed" else "error"), *([Line(note, "warn")] if note else [])]

    def phase_start(self, ev: dict[str, Any]) -> list[Line]:
        name = str(ev.get("phase", "?"))
        if look_of(name).quiet:
            return []
        step = ev.get("step")
        at = f" step {fmt_num(step)}" if step is not None else ""
        extra = pairs(context(ev, PHASE_KEYS))
        return [Line(f"▶ {label(name)}{at}" + (f" | {extra}" if extra else ""), "phase")]

    def phase_end(self, ev: dict[str, Any]) -> list[Line]:
        name = str(ev.get("phase", "?"))
        status = ev.get("status")
        if look_of(name).quiet and status == "ok":
            return []
        icon = {"ok": "✓", "failed": "✗"}.get(str(status), "!")
        look = look_of(name)
        totals = " | ".join(_numbers(ev, look.totals, PHASE_KEYS | look.quiet_totals)) if look.totals else _totals(ev)
        text = f"{icon} {label(name)} {label(status)} | {totals}"
        if ev.get("error"):
            text += f" | Error: {sanitize(ev['error'])}"
        return [Line(text, "ok" if status == "ok" else "error" if status == "failed" else "warn")]

    def val_batch(self, ev: dict[str, Any]) -> list[Line]:
        return [Line(f"· val {_val_text(ev)}", "dim")]

    def step_metrics(self, ev: dict[str, Any]) -> list[Line]:
        *header, row = self.table.stream(ev)  # the header comes first when it is due
        return [*(Line(h, "dim") for h in header), Line(row)]

    def eval_summary(self, ev: dict[str, Any]) -> list[Line]:
        return [Line(f"★ eval {_eval_text(ev)}", "ok")]

    def checkpoint(self, ev: dict[str, Any]) -> list[Line]:
        return [Line(f"↓ {_checkpoint_text(ev)}", "dim")]

    def log(self, ev: dict[str, Any]) -> list[Line]:
        level = _level(ev)
        return [Line(f"{_LEVEL_ICON.get(level, '•')} {_log_text(ev)}", _LEVEL_STYLE.get(level, ""))]


STYLES = ("banner", "compact")
