"""Names shared by the library, the CLI and ``eventlog.testing``: envelope, levels, phases, the non-finite codec.

Nothing here imports anything from eventlog; every other module may import it.

Non-finite floats are stored as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (the Protobuf JSON mapping's spelling): orjson alone would
write ``null``, indistinguishable from a missing value. :func:`encode_nonfinite`
and :func:`decode_nonfinite` are the one place that spelling lives.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "ENVELOPE",
    "LEVELS",
    "LEVEL_ALIASES",
    "NONFINITE",
    "PHASES",
    "PHASE_CHECKPOINT",
    "PHASE_INITIALIZATION",
    "PHASE_PERIODIC_VALIDATION",
    "PHASE_POST_TRAINING_VALIDATION",
    "PHASE_PRE_TRAINING_VALIDATION",
    "PHASE_TRAINING",
    "PHASE_TRAINING_STEP",
    "PHASE_VALIDATION",
    "RESERVED",
    "SCHEMA_VERSION",
    "STATUS_PHASE",
    "STATUS_RUN",
    "decode_nonfinite",
    "encode_nonfinite",
    "is_number",
]

SCHEMA_VERSION = 1
ENVELOPE: tuple[str, ...] = ("v", "ts", "event", "run", "rank", "seq")
RESERVED = frozenset(ENVELOPE)

LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")
LEVEL_ALIASES = {"warn": "warning", "exception": "error", "fatal": "critical", "msg": "info"}
STATUS_RUN: tuple[str, ...] = ("completed", "failed", "interrupted")
STATUS_PHASE: tuple[str, ...] = ("ok", "failed", "interrupted")

PHASE_INITIALIZATION = "initialization"
PHASE_PRE_TRAINING_VALIDATION = "pre_training_validation"
PHASE_VALIDATION = "validation"
PHASE_TRAINING = "training"
PHASE_TRAINING_STEP = "training_step"
PHASE_PERIODIC_VALIDATION = "periodic_validation"
PHASE_CHECKPOINT = "checkpoint"
PHASE_POST_TRAINING_VALIDATION = "post_training_validation"
PHASES: tuple[str, ...] = (
    PHASE_INITIALIZATION,
    PHASE_PRE_TRAINING_VALIDATION,
    PHASE_VALIDATION,
    PHASE_TRAINING,
    PHASE_TRAINING_STEP,
    PHASE_PERIODIC_VALIDATION,
    PHASE_CHECKPOINT,
    PHASE_POST_TRAINING_VALIDATION,
)

# --- the non-finite codec ------------------------------------------------------------

NONFINITE: dict[str, float] = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_nonfinite(v: float) -> str:
    """A non-finite float's stored spelling: ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    if v != v:
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def decode_nonfinite(v: Any) -> Any:
    """``"NaN"``/``"Infinity"``/``"-Infinity"`` → the float; anything else unchanged."""
    return NONFINITE[v] if type(v) is str and v in NONFINITE else v


def is_number(x: Any) -> bool:
    """A decoded JSON number, or one of the non-finite spellings (bools are not numbers)."""
    return (isinstance(x, (int, float)) and type(x) is not bool) or (isinstance(x, str) and x in NONFINITE)
