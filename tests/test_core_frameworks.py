"""Core behaviour the framework integrations rely on (issue 13), each pinned on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import eventlog
from conftest import read_events
from eventlog_cli._app import app


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    eventlog.init(tmp_path / "r", run="r", console="off")
    return tmp_path / "r"


def _events(run_dir: Path, name: str) -> list[dict[str, Any]]:
    eventlog.flush()
    return [e for e in read_events(run_dir / "events.jsonl") if e["event"] == name]


class TestFractionalEpoch:
    def test_fractional_epoch_is_kept_and_valid(self, run_dir: Path) -> None:
        """step_metrics keeps epoch=0.25 as HF reports it, and validate accepts the file."""
        eventlog.emit("step_metrics", step=1, epoch=0.25, metrics={"loss": 1.0})
        eventlog.emit("step_metrics", step=2, epoch=2, metrics={"loss": 0.5})
        eventlog.finish()
        assert [0.25, 2] == [e["epoch"] for e in _events(run_dir, "step_metrics")]
        assert 0 == cli("validate", str(run_dir)).exit_code

    def test_table_shows_fractional_epoch_rounded(self, run_dir: Path) -> None:
        """The table prints a fractional epoch with two decimals at most (not 0.333333)."""
        eventlog.emit("step_metrics", step=1, epoch=1 / 3, total_epochs=2, metrics={"loss": 1.0})
        eventlog.finish()
        out = cli("table", "--cols", "step,epoch,loss", str(run_dir))
        assert 0 == out.exit_code
        assert "      1 0.33…         1\n" == out.stdout.splitlines(keepends=True)[1]
