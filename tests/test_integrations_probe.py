"""What a Trainer user sees first: the step banner's epoch (a real tiny Trainer run, its console)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from test_integrations import need, train, train_with

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


ACCELERATE_NO_STEP = """
from accelerate import Accelerator
from eventlog.integrations import accelerate as el_accelerate
el_accelerate.register()
accelerator = Accelerator(log_with="eventlog", cpu=True)
accelerator.init_trackers("nostep", config={"lr": 0.1})
for i in range(3):
    accelerator.log({"train/loss": 1.0 / (i + 1), "eval/accuracy": 0.25 * i})
accelerator.log({"train/loss": 0.125}, step=10)
accelerator.log({"train/loss": 0.0625})
accelerator.end_training()
"""


class TestAccelerateLog:
    def test_log_without_step_counts_calls_instead_of_stacking_them_at_step_0(self, tmp_path: Path) -> None:
        """accelerator.log(values) with no step (as most scripts call it): each call its own step, after the last
        step seen (as wandb counts), so table/trend keep every value instead of the last one at step 0."""
        need("torch", "accelerate")
        (tmp_path / "user.py").write_text(ACCELERATE_NO_STEP, encoding="utf-8")
        train_with([sys.executable, "user.py"], cwd=tmp_path)
        events = read_events(tmp_path / "runs" / "nostep" / "events.jsonl")
        assert [(1, 1.0), (2, 0.5), (3, 1 / 3), (10, 0.125), (11, 0.0625)] == [
            (e["step"], e["metrics"]["train/loss"]) for e in events if e["event"] == "step_metrics"
        ]
        assert [(1, 0.0), (2, 0.25), (3, 0.5)] == [
            (e["step"], e["metrics"]["accuracy"]) for e in events if e["event"] == "eval_summary"
        ]
