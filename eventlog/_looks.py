"""How each phase looks on the console: one table, ``phase name → icon, banner words, done words``.

The banner style prints ``{icon} {banner}`` when a phase starts and
``✅ {done}`` when it ends ok; ``{label}`` is the phase's label or its name
in capitals (``PRE-TRAINING VALIDATION``). Edit the words here, and only
here, to change what the console says about a phase.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventlog._constants import (
    PHASE_CHECKPOINT,
    PHASE_INITIALIZATION,
    PHASE_PERIODIC_VALIDATION,
    PHASE_POST_TRAINING_VALIDATION,
    PHASE_PRE_TRAINING_VALIDATION,
    PHASE_TRAINING,
    PHASE_TRAINING_STEP,
    PHASE_VALIDATION,
)

__all__ = ["LOOKS", "PhaseLook", "look_of"]


@dataclass(frozen=True, slots=True)
class PhaseLook:
    """The console words of one phase.

    Attributes:
        icon: shown before the start banner.
        banner: the start banner's words (``{label}`` is filled in).
        done: the words when it ends ok; None: no line at all.
        progress: the start banner's second line is the step progress (epoch, step, ETA)
            instead of the phase's own numbers.
        quiet: the compact style shows neither its start nor an ok end.
    """

    icon: str = "▶️"
    banner: str = "[META] PHASE: {label}"
    done: str | None = "[META] {label} PHASE COMPLETE"
    progress: bool = False
    quiet: bool = False


DEFAULT = PhaseLook()

LOOKS: dict[str, PhaseLook] = {
    PHASE_INITIALIZATION: PhaseLook(icon="🔧"),
    PHASE_PRE_TRAINING_VALIDATION: PhaseLook(icon="🧪"),
    PHASE_VALIDATION: PhaseLook(icon="🔍", done="[META] {label} COMPLETE"),
    PHASE_TRAINING: PhaseLook(icon="🚀", done="[META] {label} COMPLETE"),
    PHASE_TRAINING_STEP: PhaseLook(icon="🔄", done=None, progress=True, quiet=True),
    PHASE_PERIODIC_VALIDATION: PhaseLook(icon="🧪"),
    PHASE_CHECKPOINT: PhaseLook(icon="💾", done="[META] CHECKPOINT SAVED SUCCESSFULLY"),
    PHASE_POST_TRAINING_VALIDATION: PhaseLook(icon="🧪"),
}


def look_of(name: str) -> PhaseLook:
    """The look of a phase (an unknown phase gets the default words)."""
    return LOOKS.get(name, DEFAULT)
