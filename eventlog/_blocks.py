"""The pieces both console styles share: :class:`Line`, value formatting, and the verbose blocks.

The verbose blocks (group summary, advantage table, sample) and the generic
``key=value`` line look the same in every style. Every string from an event
goes through :func:`sanitize`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from eventlog._constants import RESERVED
from eventlog._text import fmt_bytes, fmt_duration, fmt_num, humanize_key, sanitize

__all__ = [
    "PHASE_KEYS",
    "Line",
    "compact",
    "extras",
    "fixed",
    "generic",
    "group_detail",
    "group_summary",
    "pairs",
    "sample",
]

PHASE_KEYS = frozenset({"phase", "id", "parent", "step", "label", "elapsed", "eta", "status", "duration", "error"})


class Line(NamedTuple):
    """One line of output and its style tag (``rule``, ``phase``, ``ok``, ``warn``, ``error``, ``dim``...)."""

    text: str
    style: str = ""


def extras(ev: dict[str, Any], skip: frozenset[str]) -> list[tuple[str, Any]]:
    """The event's fields that are neither envelope nor in ``skip``, in order."""
    return [(k, v) for k, v in ev.items() if k not in skip and k not in RESERVED]


def pairs(items: list[tuple[str, Any]]) -> str:
    """``Total Batches: 28 | Batch Size: 4``."""
    return " | ".join(f"{humanize_key(k)}: {_value(k, v)}" for k, v in items)


def _value(key: str, v: Any) -> str:
    if key in ("duration", "elapsed", "eta") or key.endswith("_time"):
        return fmt_duration(v)
    if key == "size_bytes":
        return fmt_bytes(v)
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10_000:
        return f"{v:,}"
    return fmt_num(v)


def compact(v: Any) -> str:
    """A field value in one line: numbers for people, containers as compact JSON."""
    if isinstance(v, (dict, list)):
        try:
            return sanitize(orjson.dumps(v).decode("utf-8"))
        except TypeError:
            return sanitize(repr(v))
    return fmt_num(v)


def fixed(v: Any, digits: int) -> str:
    """A finite float with ``digits`` decimals; anything else as :func:`fmt_num` shows it."""
    if isinstance(v, float) and v == v and abs(v) != float("inf"):
        return f"{v:.{digits}f}"
    return fmt_num(v)


def _signed(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf"):
        return f"{v:+.3f}"
    return fmt_num(v)


def generic(ev: dict[str, Any], prefix: str) -> list[Line]:
    """Any event as ``{prefix} name key=value ...``."""
    name = sanitize(ev.get("event", "?"))
    body = " ".join(f"{sanitize(k)}={compact(v)}" for k, v in extras(ev, frozenset()))
    return [Line(f"{prefix} {name} {body}".rstrip(), "dim")]


def group_summary(ev: dict[str, Any]) -> list[Line]:
    """``📦 Group Summary (step 3): groups 4 | kept 3 | ...``."""
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


def group_detail(ev: dict[str, Any]) -> list[Line]:
    """The turn-by-turn advantage table of one group."""
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
        lines.append(Line(f"  {i:>7} {fixed(r, 3):>8}{cells}"))
    return lines


def sample(ev: dict[str, Any]) -> list[Line]:
    """One model output with its prompt, answers and reward."""
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
