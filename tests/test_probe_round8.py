"""What a user following the README met: the README's own loop, and other answers that were wrong or missing."""

from __future__ import annotations

import io
from pathlib import Path

import orjson

import eventlog
from conftest import cli, read_events


def _readme_loop(directory: Path, stream: io.StringIO) -> None:
    """The README's loop: the epoch and the totals are given to the phases, not to step_metrics."""
    eventlog.init(directory, run="exp1", console="compact", console_stream=stream)
    with eventlog.phase("training", total_steps=4, total_epochs=2) as training:
        for step in range(1, 5):
            with training.step_phase(step, epoch=1 + (step - 1) // 2):
                eventlog.emit("step_metrics", step=step, metrics={"loss": 1.0 / step})
                if step == 3:  # a late value of the step before: not given this step's epoch
                    eventlog.emit("step_metrics", step=2, metrics={"kl": 0.5})
        eventlog.emit("step_metrics", step=5, metrics={"loss": 0.1})  # outside any step phase
    with eventlog.phase("training", total_steps=9) as again, again.step_phase(6, epoch=3):
        eventlog.emit("step_metrics", step=6, epoch=2.5, metrics={"loss": 0.1})  # the caller's epoch wins
    eventlog.finish()


def test_step_metrics_in_a_step_phase_take_its_epoch_and_totals(tmp_path: Path) -> None:
    """The README's loop showed `ep nan` and `step 1` (not `1/4`) in the compact table, and `table` showed `-`."""
    stream = io.StringIO()
    _readme_loop(tmp_path / "run", stream)
    rows = [ln.split() for ln in stream.getvalue().splitlines() if ln.strip().startswith(("1/4", "4/4"))]
    assert [r[:2] for r in rows] == [["1/4", "1/2"], ["4/4", "2/2"]]
    got = [
        (e["step"], e.get("epoch"), e.get("total_epochs"), e.get("total_steps"))
        for e in read_events(tmp_path / "run" / "events.jsonl")
        if e["event"] == "step_metrics"
    ]
    assert got == [
        (1, 1, 2, 4),
        (2, 1, 2, 4),
        (3, 2, 2, 4),
        (2, None, None, None),  # emitted in step 3's phase: its epoch is not step 2's to know
        (4, 2, 2, 4),
        (5, None, None, None),
        (6, 2.5, None, 9),
    ]
    table = orjson.loads(cli("table", "--json", "--cols", "step,epoch,loss", str(tmp_path / "run")).stdout)
    assert [(r["step"], r["epoch"]) for r in table] == [(1, 1), (2, 1), (3, 2), (4, 2), (5, None), (6, 2.5)]
