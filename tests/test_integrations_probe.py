"""What a Trainer user sees first: the step banner's epoch (a real tiny Trainer run, its console)."""

from __future__ import annotations

import re
from pathlib import Path

from test_integrations import need, train

from conftest import read_events


class TestTrainerConsole:
    def test_step_banner_counts_epochs_from_one(self, tmp_path: Path) -> None:
        """HF's state.epoch is progress (0.0, 0.125, ...): the banner shows the epoch being trained, 1-based, as
        the seed format does ([Epoch 1/1]); step_metrics keep HF's fractional epoch."""
        need("torch", "transformers")
        out = train("hf_trainer.py", str(tmp_path / "train"), "report_to", cwd=tmp_path)
        banners = re.findall(r"\[Epoch ([^\]]+)\] Step (\d+)/8", out.stdout)
        assert [("1/1", str(s)) for s in range(1, 9)] == banners, banners
        events = read_events(tmp_path / "train" / "eventlog" / "events.jsonl")
        starts = [e for e in events if e["event"] == "phase_start" and e["phase"] == "training_step"]
        assert [1] * 8 == [e["epoch"] for e in starts]
        assert [0.25, 0.5, 0.75, 1] == [e["epoch"] for e in events if e["event"] == "step_metrics"]
