"""The pieces both console styles share: :class:`Line`, value formatting, and the GRPO blocks.

The GRPO blocks (group summary, advantage table, rubric statistics, sample)
and the generic ``key=value`` line look the same in every style; their words
come from ``_looks``. Every string from an event goes through :func:`sanitize`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from eventlog._constants import RESERVED
from eventlog._looks import GROUP_SUMMARY_LINES, WORDS
from eventlog._text import fmt_bytes, fmt_duration, fmt_fixed, fmt_num, humanize_key, label, sanitize

__all__ = [
    "PHASE_KEYS",
    "Line",
    "compact",
    "context",
    "extras",
    "fixed",
    "generic",
    "group_detail",
    "group_summary",
    "group_summary_line",
    "pairs",
    "rubric",
    "sample",
    "value_text",
]

PHASE_KEYS = frozenset({"phase", "id", "parent", "step", "label", "elapsed", "eta", "status", "duration", "error"})


class Line(NamedTuple):
    """One line of output and its style tag (``rule``, ``phase``, ``ok``, ``warn``, ``error``, ``dim``...)."""

    text: str
    style: str = ""


# The seeds' order for the context numbers of a phase; other fields follow in the order written.
# A fixed order keeps the console the same whichever JSON writer (sorted keys, other tools) made the file.
_CONTEXT_ORDER = {
    k: i
    for i, k in enumerate(
        ("total_epochs", "total_steps", "total_batches", "total_questions", "batch_size", "questions", "avg_reward")
    )
}


def extras(ev: dict[str, Any], skip: frozenset[str]) -> list[tuple[str, Any]]:
    """The event's fields that are neither envelope nor in ``skip``, in the order written."""
    return [(k, v) for k, v in ev.items() if k not in skip and k not in RESERVED]


def context(ev: dict[str, Any], skip: frozenset[str]) -> list[tuple[str, Any]]:
    """A phase's numbers: the seeds' context numbers first, in the seeds' order, then the rest as written."""
    last = len(_CONTEXT_ORDER)
    return sorted(extras(ev, skip), key=lambda kv: _CONTEXT_ORDER.get(kv[0], last))


def pairs(items: list[tuple[str, Any]]) -> str:
    """``Total Batches: 28 | Batch Size: 4``."""
    return " | ".join(f"{humanize_key(k)}: {value_text(k, v)}" for k, v in items)


def value_text(key: str, v: Any) -> str:
    """A field's value for people: durations for ``duration``/``*_time``, sizes for ``size_bytes``."""
    if key in ("duration", "elapsed", "eta") or key.endswith("_time"):
        return fmt_duration(v)
    if key == "size_bytes":
        return fmt_bytes(v)
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10_000:
        return f"{v:,}"
    return fmt_num(v)


_FIELD_CAP = 500  # characters of one field value on a console line; the file keeps the whole value


def compact(v: Any) -> str:
    """A field value in one line: numbers for people, containers as compact JSON; a value longer than
    ``_FIELD_CAP`` (a whole tokenizer config) is cut there and says how much more the file holds."""
    if isinstance(v, (dict, list)):
        try:
            text = sanitize(orjson.dumps(v).decode("utf-8"))
        except TypeError:
            text = sanitize(repr(v))
    else:
        text = fmt_num(v)
    if len(text) > _FIELD_CAP:
        return f"{text[:_FIELD_CAP]}… (+{len(text) - _FIELD_CAP:,} chars)"
    return text


def fixed(v: Any, digits: int) -> str:
    """A float below 1e6 as :func:`fmt_fixed` writes it (seed 000's ``kl=0.012``, but ``lr=1e-06``, never
    ``0.000``); a huge one (1e20), NaN, inf and anything else as :func:`fmt_num` shows it."""
    if isinstance(v, float) and v == v and abs(v) < 1e6:
        return fmt_fixed(v, digits)
    return fmt_num(v)


def _signed(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf"):
        return f"{v:+.3f}"
    return fmt_num(v)


def generic(ev: dict[str, Any], prefix: str) -> list[Line]:
    """Any event as ``{prefix} name key=value ...``."""
    name = label(ev.get("event", "?"))
    body = " ".join(f"{label(k)}={compact(v)}" for k, v in extras(ev, frozenset()))
    return [Line(f"{prefix} {name} {body}".rstrip(), "dim")]


def group_summary_line(ev: dict[str, Any]) -> list[Line]:
    """The concise line: ``  Groups: 6/8 kept (2 filtered), 18/48 finished early``."""
    return [
        Line(
            WORDS["groups_concise"].format(
                kept=fmt_num(ev.get("groups_kept")),
                total=fmt_num(ev.get("groups_total")),
                filtered=fmt_num(ev.get("groups_filtered", 0)),
                early=fmt_num(ev.get("rollouts_early_exit")),
                rollouts=fmt_num(ev.get("rollouts_total")),
            ),
            "dim",
        )
    ]


def group_summary(ev: dict[str, Any]) -> list[Line]:
    """The verbose block: ``📊 Group Summary (Step 3):`` then one ``  - name: value`` line per number."""
    lines = [Line(WORDS["group_summary_title"].format(step=fmt_num(ev.get("step"))), "phase")]
    total, tt = ev.get("rollouts_total"), ev.get("tokens_total")
    for key, words in GROUP_SUMMARY_LINES:
        v = ev.get(key)
        if v is None:
            continue
        if key == "rollouts_early_exit" and total is not None:
            text = f"{fmt_num(v)}/{fmt_num(total)}"
        elif key == "tokens_trainable" and isinstance(tt, int) and tt > 0 and isinstance(v, int):
            text = f"{v:,} ({100 * v / tt:.1f}%)"
        elif key.startswith("tokens") and isinstance(v, int):
            text = f"{v:,}"
        elif key.endswith("_time") and isinstance(v, (int, float)) and 0 <= v < 60:
            text = f"{v:.1f}s"  # the seed's 45.3s: a step's times are short, tenths matter
        else:
            text = value_text(key, v)
        lines.append(Line(words.format(text)))
    return lines


def group_detail(ev: dict[str, Any]) -> list[Line]:
    """The turn-by-turn advantage table of one group, in seed 004's layout (rollouts from 1)."""
    adv = ev.get("turn_advantages") or []
    rewards = ev.get("rewards") or []
    thin = Line("─" * 80, "rule")
    title = WORDS["advantage_title"].format(step=fmt_num(ev.get("step")), group=fmt_num(ev.get("group")))
    turns = max((len(r) for r in adv), default=0)
    lines = [thin, Line(title, "phase"), thin]
    lines.append(Line("Rollout |" + "".join(f" Turn {t + 1:>2} |" for t in range(turns)), "dim"))
    lines.append(thin)
    for i, row in enumerate(adv):
        lines.append(Line(f"{i + 1:>5}  |" + "".join(f" {_signed(x):>6} |" for x in row)))
    lines.append(thin)
    if rewards:
        lines.append(Line("Rewards: " + " ".join(fixed(r, 3) for r in rewards), "dim"))
    return lines


def rubric(ev: dict[str, Any]) -> list[Line]:
    """``📊 Detailed Rubric Statistics:``: counts as ``n/N (pct%)`` of the eval's total (``total_*`` keys
    excepted: they count other things), other numbers as they are."""
    metrics = ev.get("metrics") or {}
    total = ev.get("total")
    if not isinstance(total, int) or isinstance(total, bool):
        total = metrics.get("total_samples")
    lines = [Line(WORDS["rubric_title"], "phase")]
    for k, v in metrics.items():
        share = not k.startswith("total_")  # total_searches & co. count something else than samples
        if share and isinstance(v, int) and not isinstance(v, bool) and isinstance(total, int) and 0 <= v <= total > 0:
            text = f"{v}/{total} ({100 * v / total:.1f}%)"
        elif k.endswith("_time"):
            text = value_text(k, v)
        else:
            text = fixed(v, 3) if isinstance(v, float) else fmt_num(v)
        lines.append(Line(WORDS["rubric_line"].format(name=humanize_key(k), value=text)))
    return lines


def sample(ev: dict[str, Any]) -> list[Line]:
    """One model output with its prompt, answers and reward."""
    correct = ev.get("correct")
    mark = "✓" if correct is True else "✗" if correct is False else "?"
    where = ", ".join(
        x
        for x in (
            f"step {fmt_num(ev['step'])}" if ev.get("step") is not None else "",
            label(ev["split"]) if ev.get("split") else "",
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
