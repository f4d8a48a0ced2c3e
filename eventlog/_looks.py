"""What the console says, word for word: the phase-look table and the other fixed words.

The words are those of the user's seed documents (``[META] PHASE: TRAINING
START``, ``PHASE COMPLETE: VALIDATION``, ``CHECKPOINT SAVING (Step 100)``...),
which users grep for. The banner style prints ``{icon} {banner}`` when a
phase starts and ``{done}`` when it ends ok; ``{label}`` is the phase's label
as written, or its name in capitals (``PRE-TRAINING VALIDATION``), and
``{at_step}`` is `` (Step N)`` when the phase has a step, else nothing.
Under each banner come the phase's numbers: first ``facts`` / ``totals`` (in
their order and words), then any other number as ``Key: value``. Edit the
words here, and only here, to change what the console says.
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

__all__ = ["LOOKS", "WORDS", "PhaseLook", "look_of"]


@dataclass(frozen=True, slots=True)
class PhaseLook:
    """The console words of one phase.

    Attributes:
        icon: shown before the start banner.
        banner: the start banner's words (``{label}``, ``{at_step}`` are filled in).
        done: the whole line when it ends ok; None: no line at all.
        facts: ``(field, words)`` shown first under the start banner, in this order.
        totals: ``(field, words)`` shown first under the done line, in this order.
        quiet_totals: fields not shown under the done line (``Duration``: the totals say it).
        progress: the start banner's second line is the step progress (epoch, step, ETA)
            instead of the phase's own numbers.
        quiet: the compact style shows neither its start nor an ok end.
    """

    icon: str = "▶️"
    banner: str = "[META] PHASE: {label}{at_step}"
    done: str | None = "✅ [META] PHASE COMPLETE: {label}"
    facts: tuple[tuple[str, str], ...] = ()
    totals: tuple[tuple[str, str], ...] = ()
    quiet_totals: frozenset[str] = frozenset()
    progress: bool = False
    quiet: bool = False


DEFAULT = PhaseLook()
_PLAIN = "[META] PHASE: {label}"  # no (Step N): the seed shows the step elsewhere, or none

LOOKS: dict[str, PhaseLook] = {
    PHASE_INITIALIZATION: PhaseLook(icon="🔧", banner=_PLAIN, done=None),
    PHASE_PRE_TRAINING_VALIDATION: PhaseLook(icon="🧪", banner=_PLAIN, done=None),
    PHASE_VALIDATION: PhaseLook(
        icon="🔍",
        banner=_PLAIN,
        facts=(
            ("total_batches", "Total batches: {}"),
            ("total_questions", "Total questions: {}"),
            ("batch_size", "Batch size: {}"),
        ),
        totals=(
            ("questions_processed", "Total questions processed: {}"),
            ("duration", "Total time: {}"),
            ("avg_batch_time", "Avg time per batch: {}"),
        ),
        quiet_totals=frozenset({"batches"}),
    ),
    PHASE_TRAINING: PhaseLook(
        icon="🚀",
        banner="[META] PHASE: {label} START",
        done="🎉 [META] PHASE: {label} COMPLETE",
        facts=(("total_epochs", "Total epochs: {}"), ("total_steps", "Total steps: {}")),
        totals=(("steps_completed", "Total steps completed: {}"), ("duration", "Total time: {}")),
    ),
    PHASE_TRAINING_STEP: PhaseLook(icon="🔄", banner=_PLAIN, done=None, progress=True, quiet=True),
    PHASE_PERIODIC_VALIDATION: PhaseLook(icon="🧪", done=None),
    PHASE_CHECKPOINT: PhaseLook(
        icon="💾",
        banner="[META] PHASE: {label}{at_step}",
        done="✅ [META] CHECKPOINT SAVED SUCCESSFULLY",
        totals=(("size_bytes", "Size: {}"), ("duration", "Total time: {}")),
    ),
    PHASE_POST_TRAINING_VALIDATION: PhaseLook(icon="🧪", banner=_PLAIN, done=None),
}

# The label a phase shows when it was given none (else its name in capitals).
DEFAULT_LABELS: dict[str, str] = {PHASE_CHECKPOINT: "CHECKPOINT SAVING"}


def look_of(name: str) -> PhaseLook:
    """The look of a phase (an unknown phase gets the default words)."""
    return LOOKS.get(name, DEFAULT)


# The other fixed words of the console: runs, failures, steps, evals and GRPO blocks.
WORDS: dict[str, str] = {
    "at_step": " (Step {step})",
    "run_start": "📝 [META] RUN START | {bits}",
    "run_done": "🏁 [META] ALL PHASES COMPLETE - Training Finished Successfully!",
    "run_done_validation_only": "🏁 [META] PHASE: COMPLETE - Validation Only Mode",
    "run_failed": "❌ [META] RUN FAILED",
    "run_interrupted": "⚠️  [META] RUN INTERRUPTED",
    "phase_failed": "❌ [META] PHASE FAILED: {label}",
    "phase_interrupted": "⚠️  [META] PHASE INTERRUPTED: {label}",
    "active_traj": "ACTIVE_TRAJ_NUM: [{}]",
    "metrics": "📊 Metrics: {}",
    "step_line": "[Step {step}] {body}",
    "validation": "📊 Validation {}",
    "eval": "📈 [META] EVAL {}",
    "eval_saved": "💾 Eval stats saved to: {path}",
    "rubric_title": "📊 Detailed Rubric Statistics:",
    "rubric_line": "   {name}: {value}",
    "groups_concise": "  Groups: {kept}/{total} kept ({filtered} filtered), {early}/{rollouts} finished early",
    "group_summary_title": "📊 Group Summary (Step {step}):",
    "advantage_title": "📊 Turn-by-Turn Advantage Table (Step {step}, Group {group}):",
}

# The verbose group summary: (field, words) in the seed's order.
GROUP_SUMMARY_LINES: tuple[tuple[str, str], ...] = (
    ("groups_total", "  - Total groups: {}"),
    ("groups_kept", "  - Groups kept for training: {}"),
    ("groups_filtered", "  - Groups filtered (low variance): {}"),
    ("rollouts_early_exit", "  - Rollouts that finished early (didn't exhaust turns): {}"),
    ("rollout_time", "  - Total rollout time: {}"),
    ("train_time", "  - Total training time: {}"),
    ("tokens_total", "  - Total tokens: {}"),
    ("tokens_trainable", "  - Trainable tokens: {}"),
)
