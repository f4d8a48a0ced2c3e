"""A phase_end whose duration another writer's clock made negative is no time, in phases and in summary alike.

phases printed it as 0.0s (fmt_duration clamps) while summary's share said -25.0% and
phases --json -1.0; a NaN duration stays unknown (``?``), never 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from conftest import cli


def _run(path: Path, duration: Any) -> str:
    base = {"v": 1, "run": "r", "rank": 0}
    events = [
        {**base, "ts": 1.0, "seq": 0, "event": "run_start"},
        {**base, "ts": 2.0, "seq": 1, "event": "phase_start", "phase": "validation", "id": 1, "step": 1},
        {**base, "ts": 3.0, "seq": 2, "event": "phase_end", "phase": "validation", "id": 1, "step": 1}
        | {"duration": duration, "status": "ok"},
        {**base, "ts": 5.0, "seq": 3, "event": "run_end", "status": "completed"},
    ]
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    return str(path)


def test_a_negative_duration_is_no_time(tmp_path: Path) -> None:
    path = _run(tmp_path / "r.jsonl", -1.0)
    phases = cli("phases", "--json", path)
    assert [r["duration"] for r in orjson.loads(phases.stdout)["phases"]] == [0.0]
    summary = cli("summary", "--json", path)
    shares = [p["share"] for p in orjson.loads(summary.stdout)["runs"][0]["phases"]]
    assert shares == [0.0]
    assert "-25.0%" not in cli("summary", path).stdout


@pytest.mark.parametrize("duration", ["NaN"])
def test_a_nan_duration_stays_unknown(tmp_path: Path, duration: str) -> None:
    text = cli("phases", _run(tmp_path / "r.jsonl", duration)).stdout
    assert "validation" in text and "0.0s" not in text
