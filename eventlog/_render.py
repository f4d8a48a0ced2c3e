"""One renderer for the live console and ``eventlog replay``.

:class:`Renderer` turns an event dict into styled lines: it dispatches each
event type to its console style (``_styles``: banner or compact) or to the
blocks every style shares (``_blocks``). It never prints and never reads a
clock: everything it shows (elapsed, ETA, durations) is in the event, so a
replay shows exactly what the run printed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventlog._blocks import Line, generic, group_detail, group_summary, sample
from eventlog._columns import Column, StepTable
from eventlog._styles import STYLES, BannerStyle, CompactStyle, Style

__all__ = ["STYLES", "Line", "Renderer"]

_VERBOSE_ONLY = frozenset({"group_summary", "group_detail", "sample"})
_ONE_LINE_AS_FIELDS = frozenset({"step_metrics", "group_summary", "group_detail", "sample", "phase_start"})

Handler = Callable[[dict[str, Any]], list[Line]]


class Renderer:
    """Turn events into lines in the ``banner`` or ``compact`` style.

    Args:
        style: ``banner`` (the META LOG flow) or ``compact`` (a line per event).
        verbose: also show group summaries, advantage tables and samples.
        columns: the compact style's step-table columns.
        header_every: repeat the step-table header every N rows.
    """

    def __init__(
        self,
        style: str = "banner",
        *,
        verbose: bool = False,
        columns: Sequence[Column] | None = None,
        header_every: int = 20,
    ) -> None:
        if style not in STYLES:
            msg = f"style {style!r}: expected one of {', '.join(STYLES)}"
            raise ValueError(msg)
        self.style = style
        self.verbose = verbose
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
            "eval_summary": look.eval_summary,
            "checkpoint": look.checkpoint,
            "log": look.log,
            "group_summary": group_summary,
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

    def _generic(self, ev: dict[str, Any]) -> list[Line]:
        return generic(ev, self.look.prefix)

    def oneline(self, ev: dict[str, Any]) -> str:
        """One line of text for any event (``eventlog grep``): multi-line blocks become key=value."""
        if ev.get("event") in _ONE_LINE_AS_FIELDS:
            return self._generic(ev)[0].text.removeprefix("• ").removeprefix("[EVENT] ")
        lines = [ln.text for ln in self.render(ev) if ln.style != "rule"]
        return " ".join(lines) if lines else self._generic(ev)[0].text
