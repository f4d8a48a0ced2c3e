"""The event model's declarations: :class:`Field`, :class:`EventType` and the built-in types (schema v1).

The declaration is the schema: ``_schema`` checks payloads against it and
writes JSON Schema from it, ``eventlog.testing`` decodes with it, and the CLI
reads each field's ``Kind.reader`` from it. What a field kind means lives in
``_kinds``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventlog._constants import LEVELS, STATUS_PHASE, STATUS_RUN
from eventlog._kinds import KINDS, Kind, KindName, enum_acceptor
from eventlog.exceptions import ValidationError

__all__ = ["BUILTIN", "EventType", "Field", "KindName"]


@dataclass(frozen=True, slots=True)
class Field:
    """One payload field of an event type.

    ``kind`` names a field kind of ``_kinds.KINDS`` (``int``, ``number``,
    ``string``, ``numbers`` for name → number, ...); ``enum`` limits a string.
    """

    name: str
    kind: KindName
    required: bool = False
    description: str = ""
    enum: tuple[str, ...] | None = None

    @property
    def spec(self) -> Kind:
        """What the field's kind means (checks, schema, reader dtype)."""
        return KINDS[self.kind]


@dataclass(frozen=True, slots=True)
class EventType:
    """An event type: its name, fields and what extra fields may hold.

    ``extra`` is the kind of fields not declared (``None``: none allowed).
    """

    name: str
    description: str
    fields: tuple[Field, ...] = ()
    extra: KindName | None = None
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)
    required: frozenset[str] = field(init=False, repr=False, compare=False)
    fast: dict[str, Callable[[Any], Any]] = field(init=False, repr=False, compare=False)
    lean: dict[str, Callable[[Any], Any]] = field(init=False, repr=False, compare=False)
    maps: frozenset[str] = field(init=False, repr=False, compare=False)  # the number maps (lean: a bool scan)

    def __post_init__(self) -> None:
        for kind in (*(f.kind for f in self.fields), self.extra):
            if kind is not None and kind not in KINDS:
                msg = f"event type {self.name!r}: unknown field kind {kind!r}; expected one of {', '.join(KINDS)}"
                raise ValidationError(msg)
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})
        object.__setattr__(self, "required", frozenset(f.name for f in self.fields if f.required))
        fast = {f.name: enum_acceptor(f.enum) if f.enum is not None else KINDS[f.kind].accept for f in self.fields}
        object.__setattr__(self, "fast", {k: v for k, v in fast.items() if v is not None})
        lean = {f.name: KINDS[f.kind].lean for f in self.fields if f.enum is None}  # emit(): see _kinds
        object.__setattr__(self, "lean", {**self.fast, **{k: v for k, v in lean.items() if v is not None}})
        object.__setattr__(self, "maps", frozenset(f.name for f in self.fields if f.kind == "numbers"))


def _f(
    name: str, kind: KindName, required: bool = False, description: str = "", enum: tuple[str, ...] | None = None
) -> Field:
    return Field(name, kind, required, description, enum)


BUILTIN: tuple[EventType, ...] = (
    EventType(
        "run_start",
        "A run (one process of it) begins: its metadata.",
        (
            _f("config", "object", description="the run's configuration"),
            _f("argv", "strings", description="command line"),
            _f("host", "string"),
            _f("pid", "int"),
            _f("parent_pid", "int", description="a child process that joined its parent's run: the parent's pid"),
            _f("world_size", "int"),
            _f("total_steps", "int"),
            _f("total_epochs", "int"),
            _f("git", "any", description="commit, branch, dirty flag"),
            _f("tags", "strings"),
        ),
    ),
    EventType(
        "run_end",
        "The run ends: completed, failed or interrupted.",
        (
            _f("status", "string", True, enum=STATUS_RUN),
            _f("duration", "number", description="seconds since run_start"),
            _f("error", "string"),
            _f("mode", "string", description="e.g. validation_only"),
            _f("events_dropped", "int", description="events lost to I/O errors or a full queue"),
        ),
    ),
    EventType(
        "phase_start",
        "A phase begins (every [META] PHASE banner).",
        (
            _f("phase", "string", True, "phase name"),
            _f("id", "int", True, "unique within run and rank"),
            _f("parent", "int", description="id of the enclosing phase"),
            _f("step", "int"),
            _f("label", "string", description="banner text instead of the name"),
            _f("elapsed", "number", description="seconds since the enclosing progress clock started"),
            _f("eta", "number", description="estimated seconds left"),
        ),
        extra="scalar",
    ),
    EventType(
        "phase_end",
        "A phase ends, with its status, duration and summary numbers.",
        (
            _f("phase", "string", True),
            _f("id", "int", True),
            _f("status", "string", True, enum=STATUS_PHASE),
            _f("duration", "number", True, "seconds"),
            _f("parent", "int"),
            _f("step", "int"),
            _f("label", "string"),
            _f("error", "string"),
        ),
        extra="scalar",
    ),
    EventType(
        "val_batch",
        "Progress of a validation loop.",
        (
            _f("batch", "int", True, "1-based batch number"),
            _f("total_batches", "int", True),
            _f("questions", "int"),
            _f("total_questions", "int"),
            _f("avg_reward", "number"),
            _f("elapsed", "number"),
            _f("eta", "number"),
            _f("step", "int"),
        ),
        extra="number",
    ),
    EventType(
        "step_metrics",
        "Metrics of one training step.",
        (
            _f("step", "int", True),
            _f("metrics", "numbers", True, "name → number; null: not measured"),
            _f("epoch", "number", description="may be fractional (HF reports 0.25 after a quarter epoch)"),
            _f("total_epochs", "int"),
            _f("total_steps", "int"),
            _f("timing", "numbers", description="name → seconds"),
            _f("active_traj", "ints"),
        ),
    ),
    EventType(
        "group_summary",
        "The GRPO group summary of one step; extra number/str fields (frac_reward_zero_std...) are kept.",
        (
            _f("step", "int", True),
            _f("groups_total", "int", True),
            _f("groups_kept", "int", True),
            _f("groups_filtered", "int"),
            _f("rollouts_total", "int"),
            _f("rollouts_early_exit", "int"),
            _f("rollout_time", "number"),
            _f("train_time", "number"),
            _f("tokens_total", "int"),
            _f("tokens_trainable", "int"),
        ),
        extra="scalar",
    ),
    EventType(
        "group_detail",
        "One group's rewards and its turn-by-turn advantages.",
        (
            _f("step", "int", True),
            _f("group", "int", True),
            _f("rewards", "number_list", description="one reward per rollout"),
            _f("turn_advantages", "number_lists", description="rollouts × turns; null for a turn not taken"),
        ),
    ),
    EventType(
        "checkpoint",
        "A checkpoint was written.",
        (
            _f("step", "int", True),
            _f("path", "string", True),
            _f("size_bytes", "int"),
            _f("duration", "number"),
        ),
    ),
    EventType(
        "eval_summary",
        "All statistics of one evaluation (what eval_step_XXXX.json held).",
        (
            _f("step", "int", True),
            _f("metrics", "numbers", True, "name → number; accuracy when there is one"),
            _f("split", "string"),
            _f("total", "int"),
            _f("duration", "number"),
        ),
    ),
    EventType(
        "sample",
        "One model output with its prompt, answers and reward; extra number/str fields are kept.",
        (
            _f("output", "string", True),
            _f("step", "int"),
            _f("split", "string"),
            _f("index", "int"),
            _f("prompt", "string"),
            _f("golden", "strings"),
            _f("extracted", "string"),
            _f("reward", "number"),
            _f("correct", "bool"),
        ),
        extra="scalar",
    ),
    EventType(
        "config_update",
        "Hyperparameters known only after run_start (Lightning's log_hyperparams, a tracker's init).",
        (
            _f("config", "object", True, "the new or changed keys; stored with string keys"),
            _f("source", "string", description="who reported them, e.g. lightning"),
        ),
    ),
    EventType(
        "log",
        "A free-form message (from get_logger() or stdlib logging).",
        (
            _f("level", "string", True, enum=LEVELS),
            _f("msg", "string", True),
            _f("logger", "string"),
            _f("phase_id", "int", description="the phase it was logged in"),
            _f("step", "int", description="the step it was logged in"),
        ),
        extra="any",
    ),
)
