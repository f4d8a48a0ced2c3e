"""One renderer for the live console and ``eventlog replay``.

:class:`Renderer` turns an event dict into styled lines. It never prints and
never reads a clock: everything it shows (elapsed, ETA, durations) is in the
event, so a replay shows exactly what the run printed. Every string from an
event goes through :func:`sanitize`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import orjson

from eventlog._columns import Column, StepTable
from eventlog._text import fmt_bytes, fmt_duration, fmt_num, humanize_key, sanitize, title_of

__all__ = ["EMOJI", "STYLES", "Line", "Renderer"]

STYLES = ("banner", "compact")
RULE = "=" * 80
EMOJI = {
    "initialization": "🔧",
    "pre_training_validation": "🧪",
    "validation": "🔍",
    "training": "🚀",
    "training_step": "🔄",
    "periodic_validation": "🧪",
    "checkpoint": "💾",
    "post_training_validation": "🧪",
}
_PHASE_KEYS = frozenset({"phase", "id", "parent", "step", "label", "elapsed", "eta", "status", "duration", "error"})
_ENVELOPE = frozenset({"v", "ts", "event", "run", "rank", "seq"})
_LEVEL_ICON = {"debug": "·", "info": "•", "warning": "!", "error": "✗", "critical": "‼"}
_LEVEL_STYLE = {"debug": "dim", "info": "", "warning": "warn", "error": "error", "critical": "error"}
_VERBOSE_ONLY = frozenset({"group_summary", "group_detail", "sample"})


class Line(NamedTuple):
    """One line of output and its style tag (``rule``, ``phase``, ``ok``, ``warn``, ``error``, ``dim``...)."""

    text: str
    style: str = ""


def _extras(ev: dict[str, Any], skip: frozenset[str]) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in ev.items() if k not in skip and k not in _ENVELOPE]


def _pairs(items: list[tuple[str, Any]]) -> str:
    return " | ".join(f"{humanize_key(k)}: {_value(k, v)}" for k, v in items)


def _value(key: str, v: Any) -> str:
    if key in ("duration", "elapsed", "eta") or key.endswith("_time"):
        return fmt_duration(v)
    if key == "size_bytes":
        return fmt_bytes(v)
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10_000:
        return f"{v:,}"
    return fmt_num(v)


class Renderer:
    """Turn events into lines in the ``banner`` or ``compact`` style.

    Args:
        style: ``banner`` (the META LOG flow) or ``compact`` (a line per event).
        verbose: also show group summaries, advantage tables and samples.
        columns: the compact style's step-table columns.
        header_every: repeat the step-table header every N rows.
    """

    def __init__(
        self,
        style: str = "banner",
        *,
        verbose: bool = False,
        columns: Sequence[Column] | None = None,
        header_every: int = 20,
    ) -> None:
        if style not in STYLES:
            msg = f"style {style!r}: expected one of {', '.join(STYLES)}"
            raise ValueError(msg)
        self.style = style
        self.verbose = verbose
        self.table = StepTable(columns, header_every)
        self._handlers: dict[str, Callable[[dict[str, Any]], list[Line]]] = {
            "run_start": self._run_start,
            "run_end": self._run_end,
            "phase_start": self._phase_start,
            "phase_end": self._phase_end,
            "val_batch": self._val_batch,
            "step_metrics": self._step_metrics,
            "eval_summary": self._eval_summary,
            "checkpoint": self._checkpoint,
            "log": self._log,
            "group_summary": self._group_summary,
            "group_detail": self._group_detail,
            "sample": self._sample,
        }

    def render(self, ev: dict[str, Any]) -> list[Line]:
        """The lines for one event (possibly none)."""
        name = ev.get("event")
        if name in _VERBOSE_ONLY and not self.verbose:
            return []
        handler = self._handlers.get(name) if isinstance(name, str) else None
        if handler is None:
            return self._generic(ev)
        try:
            return handler(ev)
        except (TypeError, ValueError, AttributeError, KeyError):  # malformed fields: show, don't crash
            return self._generic(ev)

    # --- banners ------------------------------------------------------------

    def _framed(self, head: Line, *body: str) -> list[Line]:
        return [Line(RULE, "rule"), head, *(Line(b, "dim") for b in body if b), Line(RULE, "rule")]

    def _run_start(self, ev: dict[str, Any]) -> list[Line]:
        bits = [f"Run: {sanitize(ev.get('run', '?'))}"]
        for key, name in (("host", "Host"), ("world_size", "World size"), ("total_steps", "Total steps")):
            if ev.get(key) is not None:
                bits.append(f"{name}: {sanitize(ev[key])}")
        if self.style == "compact":
            return [Line("▶ run " + " | ".join(bits), "phase")]
        return [Line("📝 [META] RUN START | " + " | ".join(bits), "phase")]

    def _run_end(self, ev: dict[str, Any]) -> list[Line]:
        status = ev.get("status")
        dur = f"Duration: {fmt_duration(ev.get('duration'))}"
        dropped = ev.get("events_dropped") or 0
        note = f"⚠️  {dropped} events dropped (see stderr of the run)" if dropped else ""
        if self.style == "compact":
            icon = {"completed": "■", "failed": "✗", "interrupted": "!"}.get(str(status), "■")
            text = f"{icon} run {sanitize(status)} | {dur}"
            if ev.get("error"):
                text += f" | {sanitize(ev['error'])}"
            return [Line(text, "ok" if status == "completed" else "error"), *([Line(note, "warn")] if note else [])]
        if status == "completed":
            if ev.get("mode") == "validation_only":
                head = "🏁 [META] ALL PHASES COMPLETE - Validation Only Mode"
            else:
                head = "🏁 [META] ALL PHASES COMPLETE - Training Finished Successfully!"
            return self._framed(Line(head, "ok"), dur, note)
        if status == "failed":
            err = f"Error: {sanitize(ev.get('error', '?'))}"
            return self._framed(Line("❌ [META] RUN FAILED", "error"), f"{dur} | {err}", note)
        return self._framed(Line("⚠️  [META] RUN INTERRUPTED", "warn"), dur, note)

    def _label(self, ev: dict[str, Any]) -> str:
        label = ev.get("label")
        return title_of(str(label)) if label else title_of(str(ev.get("phase", "?")))

    def _phase_start(self, ev: dict[str, Any]) -> list[Line]:
        name = str(ev.get("phase", "?"))
        step = ev.get("step")
        if self.style == "compact":
            if name == "training_step":
                return []
            at = f" step {fmt_num(step)}" if step is not None else ""
            extra = _pairs(_extras(ev, _PHASE_KEYS))
            return [Line(f"▶ {sanitize(name)}{at}" + (f" | {extra}" if extra else ""), "phase")]
        head = f"{EMOJI.get(name, '▶️')} [META] PHASE: {self._label(ev)}"
        if step is not None:
            head += f" (step {fmt_num(step)})"
        if name == "training_step":
            context = self._progress_line(ev)
        else:
            context = _pairs(_extras(ev, _PHASE_KEYS))
        return self._framed(Line(head, "phase"), context)

    def _progress_line(self, ev: dict[str, Any]) -> str:
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
        if "eta" in ev:
            text += f" | ETA: {fmt_duration(ev['eta'])}"
        return text

    def _phase_end(self, ev: dict[str, Any]) -> list[Line]:
        name = str(ev.get("phase", "?"))
        status = ev.get("status")
        extras = _extras(ev, _PHASE_KEYS)
        totals = " | ".join(x for x in (_pairs(extras), f"Duration: {fmt_duration(ev.get('duration'))}") if x)
        if self.style == "compact":
            if name == "training_step" and status == "ok":
                return []
            icon = {"ok": "✓", "failed": "✗"}.get(str(status), "!")
            text = f"{icon} {sanitize(name)} {sanitize(status)} | {totals}"
            if ev.get("error"):
                text += f" | Error: {sanitize(ev['error'])}"
            return [Line(text, "ok" if status == "ok" else "error" if status == "failed" else "warn")]
        label = self._label(ev)
        if status == "failed":
            err = f"Error: {sanitize(ev.get('error', '?'))}"
            return self._framed(Line(f"❌ [META] {label} FAILED", "error"), totals, err)
        if status != "ok":
            return self._framed(Line(f"⚠️  [META] {label} INTERRUPTED", "warn"), totals)
        if name == "training_step":
            return []
        if name == "checkpoint":
            head = "✅ [META] CHECKPOINT SAVED SUCCESSFULLY"
        elif name in ("validation", "training"):
            head = f"✅ [META] {label} COMPLETE"
        else:
            head = f"✅ [META] {label} PHASE COMPLETE"
        return self._framed(Line(head, "ok"), totals)

    # --- progress and metrics -----------------------------------------------

    def _val_batch(self, ev: dict[str, Any]) -> list[Line]:
        b, total = ev["batch"], ev["total_batches"]
        pct = f" ({100 * b / total:.1f}%)" if isinstance(total, int) and total > 0 else ""
        parts = [f"[{fmt_num(b)}/{fmt_num(total)}]{pct}"]
        if ev.get("questions") is not None:
            tq = ev.get("total_questions")
            parts.append(f"Questions: {fmt_num(ev['questions'])}" + (f"/{fmt_num(tq)}" if tq is not None else ""))
        if ev.get("avg_reward") is not None:
            parts.append(f"Avg Reward: {_fixed(ev['avg_reward'], 3)}")
        skip = {"batch", "total_batches", "questions", "total_questions", "avg_reward", "elapsed", "eta", "step"}
        parts += [f"{humanize_key(k)}: {fmt_num(v)}" for k, v in _extras(ev, frozenset(skip))]
        if ev.get("elapsed") is not None:
            parts.append(f"Elapsed: {fmt_duration(ev['elapsed'])}")
        if "eta" in ev:
            parts.append(f"ETA: {fmt_duration(ev['eta'])}")
        head = parts[0]
        rest = " | ".join(parts[1:])
        if self.style == "compact":
            return [Line(f"· val {head}" + (f" | {rest}" if rest else ""), "dim")]
        return [Line(f"📊 Validation {head}" + (f" | {rest}" if rest else ""))]

    def _step_metrics(self, ev: dict[str, Any]) -> list[Line]:
        if self.style == "compact":
            *header, row = self.table.stream(ev)  # the header comes first when it is due
            return [*(Line(h, "dim") for h in header), Line(row)]
        metrics = ev.get("metrics") or {}
        text = f"[Step {fmt_num(ev.get('step'))}] " + " ".join(
            f"{sanitize(k)}={fmt_num(v)}" for k, v in metrics.items()
        )
        timing = ev.get("timing") or {}
        if timing:
            text += " | " + " ".join(f"{sanitize(k)}={fmt_duration(v)}" for k, v in timing.items())
        return [Line(text)]

    def _eval_summary(self, ev: dict[str, Any]) -> list[Line]:
        metrics = ev.get("metrics") or {}
        split = f" [{sanitize(ev['split'])}]" if ev.get("split") else ""
        body = " | ".join(f"{sanitize(k)}={fmt_num(v)}" for k, v in metrics.items())
        if ev.get("total") is not None:
            body += f" | n={fmt_num(ev['total'])}"
        icon = "★ eval" if self.style == "compact" else "📈 [META] EVAL"
        return [Line(f"{icon} step {fmt_num(ev.get('step'))}{split}: {body}", "ok")]

    def _checkpoint(self, ev: dict[str, Any]) -> list[Line]:
        bits = [sanitize(ev.get("path", "?"))]
        if ev.get("size_bytes") is not None:
            bits.append(fmt_bytes(ev["size_bytes"]))
        if ev.get("duration") is not None:
            bits.append(fmt_duration(ev["duration"]))
        icon = "↓" if self.style == "compact" else "💾"
        return [Line(f"{icon} checkpoint step {fmt_num(ev.get('step'))} → " + " | ".join(bits), "dim")]

    def _log(self, ev: dict[str, Any]) -> list[Line]:
        level = str(ev.get("level", "info")).lower()
        skip = frozenset({"level", "msg", "logger", "phase_id", "step"})
        fields = " ".join(f"{sanitize(k)}={_compact(v)}" for k, v in _extras(ev, skip))
        msg = sanitize(ev.get("msg", ""))
        text = msg + (f" | {fields}" if fields else "")
        if self.style == "compact":
            return [Line(f"{_LEVEL_ICON.get(level, '•')} {text}", _LEVEL_STYLE.get(level, ""))]
        who = f" {sanitize(ev['logger'])}:" if ev.get("logger") else ""
        return [Line(f"[{sanitize(level.upper())}]{who} {text}", _LEVEL_STYLE.get(level, ""))]

    # --- verbose blocks -----------------------------------------------------

    def _group_summary(self, ev: dict[str, Any]) -> list[Line]:
        total, kept = ev.get("groups_total"), ev.get("groups_kept")
        parts = [f"groups {fmt_num(total)}", f"kept {fmt_num(kept)}"]
        if ev.get("groups_filtered") is not None:
            parts.append(f"filtered {fmt_num(ev['groups_filtered'])}")
        if ev.get("rollouts_total") is not None:
            parts.append(f"rollouts {fmt_num(ev['rollouts_total'])}")
        if ev.get("rollouts_early_exit") is not None:
            parts.append(f"early exits {fmt_num(ev['rollouts_early_exit'])}")
        for k in ("rollout_time", "train_time"):
            if ev.get(k) is not None:
                parts.append(f"{k.split('_')[0]} {fmt_duration(ev[k])}")
        tt, tr = ev.get("tokens_total"), ev.get("tokens_trainable")
        if isinstance(tt, int):
            share = f" ({100 * tr / tt:.1f}% trainable)" if isinstance(tr, int) and tt > 0 else ""
            parts.append(f"tokens {tt:,}{share}")
        return [Line(f"📦 Group Summary (step {fmt_num(ev.get('step'))}): " + " | ".join(parts), "dim")]

    def _group_detail(self, ev: dict[str, Any]) -> list[Line]:
        adv = ev.get("turn_advantages") or []
        rewards = ev.get("rewards") or []
        lines = [
            Line(
                f"Turn-by-Turn Advantage Table (step {fmt_num(ev.get('step'))}, group {fmt_num(ev.get('group'))})",
                "phase",
            )
        ]
        turns = max((len(r) for r in adv), default=0)
        lines.append(Line("  rollout   reward" + "".join(f"{'turn ' + str(t + 1):>9}" for t in range(turns)), "dim"))
        for i in range(max(len(adv), len(rewards))):
            row = adv[i] if i < len(adv) else []
            r = rewards[i] if i < len(rewards) else None
            cells = "".join(f"{_signed(x):>9}" for x in row)
            lines.append(Line(f"  {i:>7} {_fixed(r, 3):>8}{cells}"))
        return lines

    def _sample(self, ev: dict[str, Any]) -> list[Line]:
        correct = ev.get("correct")
        mark = "✓" if correct is True else "✗" if correct is False else "?"
        where = ", ".join(
            x
            for x in (
                f"step {fmt_num(ev['step'])}" if ev.get("step") is not None else "",
                sanitize(ev["split"]) if ev.get("split") else "",
                f"#{fmt_num(ev['index'])}" if ev.get("index") is not None else "",
            )
            if x
        )
        lines = [Line(f"--- Sample ({where}) reward={fmt_num(ev.get('reward'))} {mark}", "phase")]
        if ev.get("prompt") is not None:
            lines.append(Line(f"Prompt: {sanitize(ev['prompt'])}", "dim"))
        lines.append(Line(f"Output: {sanitize(ev.get('output', ''))}"))
        if ev.get("golden") is not None:
            lines.append(Line(f"Golden answers: [{', '.join(repr(sanitize(g)) for g in ev['golden'])}]"))
        if "extracted" in ev:
            lines.append(Line(f"Extracted answer: {sanitize(ev['extracted'])}"))
        return lines

    def _generic(self, ev: dict[str, Any]) -> list[Line]:
        name = sanitize(ev.get("event", "?"))
        body = " ".join(f"{sanitize(k)}={_compact(v)}" for k, v in _extras(ev, frozenset()))
        return [Line(f"{'•' if self.style == 'compact' else '[EVENT]'} {name} {body}".rstrip(), "dim")]

    def oneline(self, ev: dict[str, Any]) -> str:
        """One line of text for any event (``eventlog grep``): multi-line blocks become key=value."""
        if ev.get("event") in ("step_metrics", "group_summary", "group_detail", "sample", "phase_start"):
            return self._generic(ev)[0].text.removeprefix("• ").removeprefix("[EVENT] ")
        lines = [ln.text for ln in self.render(ev) if ln.style != "rule"]
        return " ".join(lines) if lines else self._generic(ev)[0].text


def _compact(v: Any) -> str:
    """A field value in one line: numbers for people, containers as compact JSON."""
    if isinstance(v, (dict, list)):
        try:
            return sanitize(orjson.dumps(v).decode("utf-8"))
        except TypeError:
            return sanitize(repr(v))
    return fmt_num(v)


def _fixed(v: Any, digits: int) -> str:
    if isinstance(v, float) and v == v and abs(v) != float("inf"):
        return f"{v:.{digits}f}"
    return fmt_num(v)


def _signed(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf"):
        return f"{v:+.3f}"
    return fmt_num(v)
