"""Terminal charts (plotext) and trend --plot."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import FakeClock, build_fixture_run
from eventlog_cli._app import app
from eventlog_cli.commands import trend
from eventlog_cli.commands._termplot import terminal_chart


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


class TestTrendPlot:
    def test_plot_on_a_terminal(
        self, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, golden
    ) -> None:
        """trend --plot on a terminal draws the chart with a line per run, then the best of each."""
        build_fixture_run(Path("a"), run="base")
        build_fixture_run(Path("b"), run="other")
        monkeypatch.setattr(trend, "is_terminal", lambda: True)
        result = CliRunner().invoke(app, ["trend", "accuracy", "a", "b", "--plot"], catch_exceptions=False)
        assert 0 == result.exit_code, result.stderr
        assert "\x1b" not in result.stdout
        golden("cli_trend_plot", result.stdout)

    def test_plot_off_a_terminal_is_the_sparkline_view(self, tmp_path: Path, clock: FakeClock) -> None:
        """Piped, --plot changes nothing: the same tables and sparklines."""
        build_fixture_run(Path("a"), run="base")
        plain = CliRunner().invoke(app, ["trend", "accuracy", "a"], catch_exceptions=False).stdout
        piped = CliRunner().invoke(app, ["trend", "accuracy", "a", "--plot"], catch_exceptions=False).stdout
        assert plain == piped
        assert "▁" in piped
