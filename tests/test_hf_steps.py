"""HF ``log_history`` steps written by another tool: ``2.0`` and ``"3"`` are those steps, ``true`` is no step.

``"step": true`` aborted the import (a bool is an int to Python; the writer refused it), and a step
``2.0`` or ``"3"`` was recorded at step 0. A step that is no whole number is noted and recorded at 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from conftest import cli


def test_whole_number_steps_are_kept_and_a_bool_is_noted(tmp_path: Path) -> None:
    state = tmp_path / "ck" / "trainer_state.json"
    state.parent.mkdir()
    history = [{"loss": 1.0, "step": True}, {"loss": 0.5, "step": 2.0}, {"loss": 0.4, "step": "3"}]
    history.append({"loss": 0.3, "step": 4.5})
    state.write_text(json.dumps({"global_step": 4, "max_steps": 4, "log_history": history}))
    out = tmp_path / "run"
    result = cli("import", str(state), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "log_history[0] has no integer step; recorded at step 0" in result.output
    assert "log_history[3] has no integer step; recorded at step 0" in result.output
    table = cli("table", "--cols", "step,loss", "--json", str(out))
    rows = [(r["step"], r["loss"]) for r in orjson.loads(table.stdout)]
    assert (2, 0.5) in rows and (3, 0.4) in rows
