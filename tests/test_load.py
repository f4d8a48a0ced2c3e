"""The loader against a plain Python reading of a synthetic run: same numbers, late keys and NaN kept."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from conftest import ROOT
from eventlog_cli._app import app

sys.path.insert(0, str(ROOT / "bench"))
import generate


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate.write(tmp_path_factory.mktemp("syn") / "run.jsonl", 100_000)  # ~6,000 steps: past both late keys


def python_events(path: Path, event: str) -> list[dict[str, Any]]:
    return [e for e in map(orjson.loads, path.read_bytes().splitlines()) if e["event"] == event]


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN whether it is spelled "NaN" or is a float."""

    def norm(x: Any) -> Any:
        return "nan" if x == "NaN" or (isinstance(x, float) and math.isnan(x)) else x

    return norm(a) == norm(b)


class TestAgainstPython:
    def test_trend_matches_a_line_loop(self, synthetic: Path) -> None:
        """trend pass_at_8 (first seen at step 5000) equals what a plain orjson loop finds."""
        result = CliRunner().invoke(app, ["trend", "pass_at_8", "--json", str(synthetic)])
        rows = json.loads(result.stdout)["rows"]
        expected = [
            (e["step"], e["metrics"]["pass_at_8"])
            for e in python_events(synthetic, "eval_summary")
            if "pass_at_8" in e["metrics"]
        ]
        assert expected and expected == [(r["step"], r["value"]) for r in rows]

    def test_table_matches_a_line_loop(self, synthetic: Path) -> None:
        """table keeps NaN losses and a metric key that appears late, row for row."""
        cols = ["step", "loss", "clip_frac", "reward_mean"]
        result = CliRunner().invoke(app, ["table", "--json", "--cols", ",".join(cols), str(synthetic)])
        rows = json.loads(result.stdout)
        expected = [
            {"step": e["step"], **{c: e["metrics"].get(c) for c in cols[1:]}}
            for e in python_events(synthetic, "step_metrics")
        ]
        assert len(expected) == len(rows)
        assert any(r["loss"] == "NaN" for r in rows)
        assert any(r["clip_frac"] is not None for r in rows) and rows[0]["clip_frac"] is None
        assert all(same(x[c], y[c]) for x, y in zip(expected, rows, strict=True) for c in cols)
