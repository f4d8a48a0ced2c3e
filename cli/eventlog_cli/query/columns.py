"""Which columns ``table`` shows: ``--cols`` keys checked against the run, ``all``, globs, no repeats.

``--cols`` is a comma-separated list of keys: a metric name (any characters but a comma),
``metrics.NAME`` (a metric, even one named like a field: ``metrics.step``), ``timing.NAME``,
a step_metrics field or envelope key (``step``, ``epoch``, ``rank``...), ``all`` (step and
every metric) or a glob over metric names (``rewards/*``). An unknown key is an error with the
closest match; a key given twice is shown once.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from eventlog._columns import DEFAULT_COLUMNS
from eventlog._constants import ENVELOPE
from eventlog._schema import get_type
from eventlog_cli.query.names import unknown_name

__all__ = ["FIELDS", "default_keys", "metric_column", "select_columns"]

_STEP_TYPE = get_type("step_metrics")
FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [*ENVELOPE, *(f.name for f in (_STEP_TYPE.fields if _STEP_TYPE else ()) if f.name not in ("metrics", "timing"))]
    )
)


def metric_column(name: str) -> str:
    """The column key of a metric: its name, or ``metrics.NAME`` when a field has that name (``step``)."""
    return f"metrics.{name}" if name in FIELDS or name.startswith(("metrics.", "timing.")) else name


def default_keys(metrics: Sequence[str]) -> list[str]:
    """The default columns whose metric occurs in the run (step, epoch and timing always)."""
    return [
        c.key for c in DEFAULT_COLUMNS if c.key in ("step", "epoch") or c.key.startswith("timing.") or c.key in metrics
    ]


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
        if key == "all":
            out += ["step", *known]
        elif any(c in key for c in "*?["):
            hits = [metric_column(m) for m in metrics if fnmatch.fnmatchcase(m, key)]
            hits += [t for t in timing_keys if fnmatch.fnmatchcase(t, key)]
            if not hits:
                raise unknown_name("column matching", key, [*FIELDS, *known, *timing_keys])
            out += hits
        elif key in FIELDS or key in known or key in timing_keys or (key.startswith("metrics.") and key[8:] in metrics):
            out.append(key)
        else:
            raise unknown_name("column", key, [*known, *timing_keys, *FIELDS])
    return list(dict.fromkeys(out))
