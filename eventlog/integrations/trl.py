"""TRL ``GRPOTrainer`` → eventlog: everything ``EventlogCallback`` records, plus completions and group statistics.

    from eventlog.integrations.trl import EventlogGRPOCallback
    trainer = GRPOTrainer(...)
    trainer.add_callback(EventlogGRPOCallback(trainer))

At each logging step it writes one ``sample`` event per completion TRL kept for that step
(prompt, completion, reward per reward function, total reward, advantage) and one
``group_summary`` (groups, zero-std groups, ``num_generations``, reward and std per function).
Importing this module imports transformers (not trl: the trainer is passed in).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import eventlog
from eventlog.integrations._common import as_number, guarded, hf_is_final
from eventlog.integrations.transformers import EventlogCallback

__all__ = ["EventlogGRPOCallback", "flatten_messages"]

_NAME = re.compile(r"[^A-Za-z0-9_]+")


class EventlogGRPOCallback(EventlogCallback):
    """:class:`EventlogCallback` for ``GRPOTrainer``, which also records what TRL keeps for itself.

    Args:
        trainer: the ``GRPOTrainer`` (its completion buffer is read at each logging step).
        max_samples: at most this many ``sample`` events per logging step (None: all).
        **kwargs: as for :class:`EventlogCallback` (dir, run, settings).
    """

    def __init__(self, trainer: Any, *, max_samples: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trainer = trainer
        self.max_samples = max_samples
        self._last_batch: tuple[int, int] | None = None

    @guarded
    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().on_log(args, state, control, logs=logs, **kwargs)
        if not logs or not self._zero or hf_is_final(logs):
            return
        split = "eval" if any(k.startswith("eval_") for k in logs) else "train"
        self._record_completions(int(state.global_step), split, logs)

    def _record_completions(self, step: int, split: str, logs: Mapping[str, Any]) -> None:
        buf = getattr(self.trainer, "_logs", None)
        if not isinstance(buf, Mapping) or not buf.get("completion"):
            return
        prompts, completions = list(buf["prompt"]), list(buf["completion"])
        marker = (len(completions), id(completions[-1]))
        if marker == self._last_batch:  # the same generation batch as the last logging step
            return
        self._last_batch = marker
        names = list(getattr(self.trainer, "reward_func_names", []) or list(buf.get("rewards", {})))
        per_func = {n: list(buf["rewards"].get(n, [])) for n in names}
        advantages = list(buf.get("advantages", []))
        weights = _weights(self.trainer, len(names))
        totals = [
            _total([per_func[n][i] if i < len(per_func[n]) else None for n in names], weights)
            for i in range(len(completions))
        ]
        limit = len(completions) if self.max_samples is None else min(self.max_samples, len(completions))
        for i in range(limit):
            fields: dict[str, Any] = {
                "step": step,
                "split": split,
                "index": i,
                "prompt": flatten_messages(prompts[i]) if i < len(prompts) else "",
                "output": flatten_messages(completions[i]),
            }
            if totals[i] is not None:
                fields["reward"] = totals[i]
            for n in names:
                if i < len(per_func[n]):
                    fields[_field(n)] = _num(per_func[n][i])
            if i < len(advantages):
                fields["advantage"] = _num(advantages[i])
            eventlog.emit("sample", **fields)
        if split == "train":
            self._group_summary(step, totals, per_func, logs)

    def _group_summary(
        self, step: int, totals: list[float | None], per_func: dict[str, list[Any]], logs: Mapping[str, Any]
    ) -> None:
        g = int(getattr(self.trainer, "num_generations", 0) or 0)
        if g <= 0 or len(totals) < g:
            return
        groups = [totals[i : i + g] for i in range(0, len(totals) - len(totals) % g, g)]
        zero_std = sum(1 for grp in groups if (_std(grp) or 0.0) < 1e-8)
        fields: dict[str, Any] = {
            "step": step,
            "groups_total": len(groups),
            "groups_kept": len(groups) - zero_std,  # a zero-std group has zero advantage: it teaches nothing
            "groups_filtered": zero_std,
            "rollouts_total": len(totals),
            "num_generations": g,
        }
        for key in ("frac_reward_zero_std", "reward", "reward_std"):
            n = as_number(logs.get(key))
            if n is not False and n is not None:
                fields[key] = n
        for name in per_func:
            for stat in ("mean", "std"):
                n = as_number(logs.get(f"rewards/{name}/{stat}"))
                if n is not False and n is not None:
                    fields[f"{_field(name)}_{stat}"] = n
        eventlog.emit("group_summary", **fields)
        for i, grp in enumerate(groups):
            eventlog.emit("group_detail", step=step, group=i, rewards=[math.nan if r is None else r for r in grp])


def flatten_messages(value: Any) -> str:
    """A prompt or completion as text: chat messages become ``role: content`` lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        content = value.get("content", "")
        if isinstance(content, list):  # multimodal parts: keep the text ones
            content = " ".join(str(p["text"]) for p in content if isinstance(p, Mapping) and p.get("text"))
        return f"{value.get('role', '?')}: {content}"
    if isinstance(value, Sequence):
        return "\n".join(flatten_messages(m) for m in value)
    return str(value)


def _weights(trainer: Any, n: int) -> list[float]:
    w = getattr(trainer, "reward_weights", None)
    try:
        values = [float(x) for x in (w.tolist() if w is not None and hasattr(w, "tolist") else list(w or []))]
    except (TypeError, ValueError):
        values = []
    return values if len(values) == n else [1.0] * n


def _num(v: Any) -> float | None:
    n = as_number(v)
    return None if n is False or n is None else float(n)


def _total(values: list[Any], weights: list[float]) -> float | None:
    """TRL's total reward: the weighted sum over functions, NaN (a function returned None) skipped."""
    present = [(w, float(v)) for v, w in zip(values, weights, strict=True) if _num(v) is not None and not math.isnan(v)]
    return sum(w * v for w, v in present) if present else None


def _std(values: list[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    if len(xs) < 2:
        return 0.0 if xs else None
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _field(name: str) -> str:
    """``reward_short`` → ``reward_short``, ``accuracy`` → ``reward_accuracy``: one field name per function."""
    name = _NAME.sub("_", name).strip("_") or "fn"
    if name.startswith("reward_") and name not in ("reward_std", "reward_mean"):
        return name
    return f"reward_fn_{name}" if name in ("reward", "std", "mean") else f"reward_{name}"
