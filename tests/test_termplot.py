"""Terminal charts (plotext) for trend --plot."""

from __future__ import annotations

import math

from eventlog_cli._termplot import terminal_chart


class TestTerminalChart:
    def test_two_runs(self, golden) -> None:
        """Axes, ticks, a legend line per run; a NaN point left out; no escape sequence without colour."""
        text = terminal_chart(
            [("base", [0, 2, 4], [0.25, 0.5, 0.75]), ("other\x1b[31m", [0, 2, 4], [0.2, math.nan, 0.9])],
            "eval.accuracy",
            width=60,
            height=14,
        )
        assert "\x1b" not in text
        golden("termplot_two_runs", text + "\n")
