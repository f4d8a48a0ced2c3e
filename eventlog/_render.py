"""One renderer for the live console and ``eventlog replay``.

:class:`Renderer` turns an event dict into styled lines: it dispatches each
event type to its console style (``_styles``: banner or compact) or to the
blocks every style shares (``_blocks``). It never prints and never reads a
clock: everything it shows (elapsed, ETA, durations) is in the event, so a
replay shows exactly what the run printed. The one thing not in the event is
where an eval's stats file was saved: ``eval_saved`` answers it (the run's
eval-file writer live, the files beside the events file in ``eventlog replay``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventlog._blocks import Line, generic, group_detail, group_summary, group_summary_line, rubric, sample
from eventlog._columns import Column, StepTable
from eventlog._constants import LEVELS
from eventlog._looks import WORDS
from eventlog._styles import STYLES, BannerStyle, CompactStyle, Style
from eventlog._text import sanitize

__all__ = ["STYLES", "Line", "Renderer"]

_VERBOSE_ONLY = frozenset({"group_detail", "sample"})
_ONE_LINE_AS_FIELDS = frozenset({"step_metrics", "group_summary", "group_detail", "sample", "phase_start"})

Handler = Callable[[dict[str, Any]], list[Line]]


class Renderer:
    """Turn events into lines in the ``banner`` or ``compact`` style.

    Args:
        style: ``banner`` (the META LOG flow) or ``compact`` (a line per event).
        verbose: also show group summaries, advantage tables and samples.
        columns: the compact style's step-table columns.
        header_every: repeat the step-table header every N rows.
        console_level: the lowest ``log`` level shown (``debug`` shows every log).
        eval_saved: for an ``eval_summary``, the path its stats file was saved to (or None):
            the console then names it (``💾 Eval stats saved to: …``).
    """

    def __init__(
        self,
        style: str = "banner",
        *,
        verbose: bool = False,
        columns: Sequence[Column] | None = None,
        header_every: int = 20,
        console_level: str = "debug",
        eval_saved: Callable[[dict[str, Any]], str | None] | None = None,
    ) -> None:
        if style not in STYLES:
            msg = f"style {style!r}: expected one of {', '.join(STYLES)}"
            raise ValueError(msg)
        self.style = style
        self.verbose = verbose
        self.min_level = LEVELS.index(console_level) if console_level in LEVELS else 0
        self.eval_saved = eval_saved
        self.table = StepTable(columns, header_every)
        look: Style = CompactStyle(self.table) if style == "compact" else BannerStyle()
        self.look = look
        self._handlers: dict[str, Handler] = {
            "run_start": look.run_start,
            "run_end": look.run_end,
            "phase_start": look.phase_start,
            "phase_end": look.phase_end,
            "val_batch": look.val_batch,
            "step_metrics": look.step_metrics,
            "eval_summary": self._eval_summary,
            "checkpoint": look.checkpoint,
            "log": self._log,
            "group_summary": group_summary if verbose else group_summary_line,
            "group_detail": group_detail,
            "sample": sample,
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

    def _log(self, ev: dict[str, Any]) -> list[Line]:
        level = str(ev.get("level", "info")).lower()
        if level in LEVELS and LEVELS.index(level) < self.min_level:
            return []
        return self.look.log(ev)

    def _eval_summary(self, ev: dict[str, Any]) -> list[Line]:
        """The style's eval line; in verbose mode the rubric statistics; the saved file's path."""
        lines = self.look.eval_summary(ev)
        if self.verbose:
            lines += rubric(ev)
        path = self.eval_saved(ev) if self.eval_saved is not None else None
        if path:
            lines.append(Line(WORDS["eval_saved"].format(path=sanitize(path)), "dim"))
        return lines

    def _generic(self, ev: dict[str, Any]) -> list[Line]:
        return generic(ev, self.look.prefix)

    def oneline(self, ev: dict[str, Any]) -> str:
        """One line of text for any event (``eventlog grep``): multi-line blocks become key=value."""
        if ev.get("event") in _ONE_LINE_AS_FIELDS:
            return self._generic(ev)[0].text.removeprefix("• ").removeprefix("[EVENT] ")
        lines = [ln.text for ln in self.render(ev) if ln.style != "rule"]
        return " ".join(lines) if lines else self._generic(ev)[0].text
