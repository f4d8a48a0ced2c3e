"""Which columns ``table`` shows: ``--cols`` keys checked against the run, ``all``, globs, no repeats.

``--cols`` is a comma-separated list of keys: a metric name (any characters but a comma),
``metrics.NAME`` (a metric, even one named like a field: ``metrics.step``), ``timing.NAME``,
a step_metrics field or envelope key (``step``, ``epoch``, ``rank``...), ``all`` (step and
every metric) or a glob over metric names (``rewards/*``). An unknown key is an error with the
closest match; a key given twice is shown once. The row keys are always kept, whatever the
selection: ``step`` leads unless named (:func:`with_row_keys`); ``table`` adds run and rank
when there are several.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Sequence

from eventlog._columns import DEFAULT_COLUMNS, Column
from eventlog._columns import column_for as _declared_for
from eventlog._constants import ENVELOPE
from eventlog._schema import get_type
from eventlog._text import label
from eventlog_cli.query.names import unknown_name

__all__ = [
    "FIELDS",
    "MISSING",
    "ROLES",
    "column_for",
    "default_keys",
    "left_out",
    "metric_column",
    "select_columns",
    "with_row_keys",
]

_STEP_TYPE = get_type("step_metrics")
FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [*ENVELOPE, *(f.name for f in (_STEP_TYPE.fields if _STEP_TYPE else ()) if f.name not in ("metrics", "timing"))]
    )
)


def _role(*columns: Column) -> tuple[Column, ...]:
    return columns


_BASE = {c.key: c for c in DEFAULT_COLUMNS}
ROLES: tuple[tuple[Column, ...], ...] = (
    _role(
        _BASE["reward_mean"],
        Column("reward", 8, "reward", "f4", "mean reward of the step's completions (TRL)"),
        Column("critic/score/mean", 8, "score", "f4", "mean sequence score (verl)"),
        Column("critic/rewards/mean", 8, "reward", "f4", "mean sequence reward (verl)"),
    ),
    _role(
        _BASE["loss"],
        Column("train/loss", 9, "loss", "g4", "training loss"),
        Column("actor/pg_loss", 9, "pg_loss", "g4", "policy-gradient loss (verl)"),
    ),
    _role(
        _BASE["kl"],
        Column("actor/kl_loss", 9, "kl", "g3", "KL loss to the reference policy (verl)"),
        Column("actor/ppo_kl", 9, "kl", "g3", "KL between the old and new policy (verl)"),
    ),
    _role(_BASE["entropy"], Column("actor/entropy", 7, "ent", "f3", "mean policy entropy (verl)")),
    _role(
        _BASE["grad_norm"],
        Column("train/grad_norm", 8, "gnorm", "g3", "gradient norm before clipping"),
        Column("actor/grad_norm", 8, "gnorm", "g3", "gradient norm before clipping (verl)"),
    ),
    _role(
        Column("learning_rate", 8, "lr", "g3", "learning rate"),
        Column("train/learning_rate", 8, "lr", "g3", "learning rate"),
        Column("actor/lr", 8, "lr", "g3", "actor learning rate (verl)"),
        Column("lr", 8, "lr", "g3", "learning rate"),
    ),
    _role(
        Column("completions/mean_length", 7, "len", "g4", "mean completion length in tokens (TRL)"),
        Column("response_length/mean", 7, "len", "g4", "mean response length in tokens (verl)"),
    ),
)
"""The default table's metric columns: per role, the names eventlog, HF/TRL and verl give it; the first present is
shown, under a short header (the least important roles, last, are left out when the table would not fit)."""
_DECLARED = {c.key: c for role in ROLES for c in role}


MISSING = "-"
"""What the CLI's step tables (``table``, ``watch``) show for a step without the value; a NaN shows ``nan``."""


def column_for(key: str) -> Column:
    """The declared column of ``key`` (eventlog's, or a TRL/HF/verl name of :data:`ROLES`), else a generic one.

    Its missing cells show :data:`MISSING` (the console's own table keeps seed 003's ``nan``).
    """
    return dataclasses.replace(_DECLARED[key] if key in _DECLARED else _declared_for(key), missing=MISSING)


def metric_column(name: str) -> str:
    """The column key of a metric: its name, or ``metrics.NAME`` when a field has that name (``step``)."""
    return f"metrics.{name}" if name in FIELDS or name.startswith(("metrics.", "timing.")) else name


def default_keys(metrics: Sequence[str], width: int | None = None) -> list[str]:
    """The default columns: step, epoch, per role of :data:`ROLES` the first of its names the run has, the step time.

    ``width``: roles are left out from the last (length, learning rate...) while the table would be wider.
    """
    present = set(metrics)
    head = [c for c in DEFAULT_COLUMNS if c.key in ("step", "epoch")]
    tail = [c for c in DEFAULT_COLUMNS if c.key.startswith("timing.")]
    chosen = [next(c for c in role if c.key in present) for role in ROLES if any(c.key in present for c in role)]
    if not chosen:  # no metric has a role (a loop's own names): the run's metrics, in logged order, as many as fit
        chosen = [dataclasses.replace(column_for(k), key=k) for k in map(metric_column, metrics)]  # keep metrics.step
    while width is not None and len(chosen) > 1 and sum(c.width + 1 for c in (*head, *chosen, *tail)) > width:
        chosen.pop()
    return [c.key for c in (*head, *chosen, *tail)]


def left_out(metrics: Sequence[str], keys: Sequence[str]) -> str | None:
    """A note when the default columns hide metrics: how many, the first of them, how to choose."""
    present = set(metrics)
    if not metrics:
        return None
    shown = {k.removeprefix("metrics.") for k in keys if k not in FIELDS and not k.startswith("timing.")}
    hidden = [m for m in metrics if m not in shown]
    if not hidden:
        return None
    if not any(c.key in present for role in ROLES for c in role):
        return (
            f"note: no metric of this run has a default column (reward, loss, kl...); {len(shown)} of its "
            f"{len(metrics)} metrics fit the width: choose them with --cols NAME,... or --cols all"
        )
    names = ", ".join(label(m) for m in hidden[:4]) + (", ..." if len(hidden) > 4 else "")
    return f"note: {len(hidden)} more metric(s) not in the default columns ({names}): --cols NAME,... or --cols all"


def select_columns(spec: str, metrics: Sequence[str], timing: Sequence[str]) -> list[str]:
    """The column keys ``spec`` names, in order, each once.

    Args:
        spec: the ``--cols`` value.
        metrics: the metric names present in the run; ``timing``: the timing names.

    Raises:
        DataError: a key names nothing in the run (with the closest match and the list).
    """
    known = [metric_column(m) for m in metrics]
    timing_keys = [f"timing.{t}" for t in timing]
    out: list[str] = []
    for key in (k.strip() for k in spec.split(",")):
        if not key:
            continue
        exact = key in FIELDS or key in known or key in timing_keys
        exact = exact or (key.startswith("metrics.") and key[8:] in metrics)
        if key == "all":
            out += ["step", *known]
        elif exact:  # a name that is also a glob (``acc[val]``): the metric of that name, as ``trend`` reads it
            out.append(key)
        elif any(c in key for c in "*?["):
            hits = [
                metric_column(m)
                for m in metrics
                if fnmatch.fnmatchcase(m, key) or fnmatch.fnmatchcase(f"metrics.{m}", key)
            ]
            hits += [t for t in timing_keys if fnmatch.fnmatchcase(t, key)]
            if not hits:
                raise unknown_name("column matching", key, [*FIELDS, *known, *timing_keys])
            out += hits
        else:
            raise unknown_name("column", key, [*known, *timing_keys, *FIELDS])
    return with_row_keys(out)


def with_row_keys(keys: Sequence[str]) -> list[str]:
    """``keys`` once each, with ``step`` first unless they name it (then where they name it): a row is
    always identified by its step, whatever columns were chosen (``--cols 'rewards/*'``)."""
    out = list(dict.fromkeys(keys))
    return out if "step" in out else ["step", *out]
