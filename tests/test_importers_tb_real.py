"""eventlog import on TensorBoard logs as torch's SummaryWriter really writes them, odd content included."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from conftest import cli, read_events

T0 = 1_700_000_000


def by_type(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


def write_run(logdir: Path) -> None:
    """add_scalar with spaces and '/', NaN/Inf, add_scalars (child directories), add_hparams (a timestamp
    directory), histograms, text and images mixed in, then a restarted run (a second event file, steps 3-6)."""
    np = pytest.importorskip("numpy")
    tb = pytest.importorskip("torch.utils.tensorboard")
    w = tb.SummaryWriter(log_dir=str(logdir))
    for step in range(1, 5):
        t = T0 + step
        w.add_scalar("Loss/train total", 1.0 / step, step, walltime=t)
        w.add_scalar("grad norm", math.nan if step == 2 else (math.inf if step == 3 else 0.5), step, walltime=t)
        w.add_scalars("loss", {"train": 2.0 / step, "val": 4.0 / step}, step, walltime=t)
        w.add_histogram("weights/layer 1", np.arange(10.0), step, walltime=t)
        w.add_text("notes", f"step {step} ok", step, walltime=t)
        w.add_image("img", np.zeros((3, 4, 4)), step, walltime=t)
        if step % 2 == 0:
            w.add_scalar("eval/accuracy", 0.25 * step, step, walltime=t)
    w.add_hparams({"lr": 0.1, "bs": 8, "opt": "adam"}, {"hparam/accuracy": 0.875})
    w.close()
    w = tb.SummaryWriter(log_dir=str(logdir))
    for step in range(3, 7):
        w.add_scalar("Loss/train total", 0.5 / step, step, walltime=T0 + 100 + step)
    w.close()


class TestSummaryWriterRun:
    def test_add_scalars_and_add_hparams_directories_are_one_run(self, tmp_path: Path) -> None:
        """The child directories SummaryWriter makes for add_scalars and add_hparams belong to the run in the root."""
        write_run(tmp_path / "logs")
        assert 4 == len({p.parent for p in (tmp_path / "logs").rglob("*tfevents*")})
        result = cli("import", str(tmp_path / "logs"), "--out", "run")
        assert 0 == result.exit_code, result.output
        events = read_events(Path("run/events.jsonl"))
        steps = {e["step"]: e["metrics"] for e in by_type(events, "step_metrics")}
        assert [0, 1, 2, 3, 4, 5, 6] == sorted(steps)
        assert {"Loss/train total": 1.0, "grad norm": 0.5, "loss": 2.0} == steps[1]  # loss_train/ → train/loss
        assert "NaN" == steps[2]["grad norm"] and "Infinity" == steps[3]["grad norm"]
        assert pytest.approx(0.5 / 6) == steps[6]["Loss/train total"]  # the restarted run's values win
        assert {"hparam/accuracy": 0.875} == steps[0]
        evals = [(e["step"], e["split"], e["metrics"]) for e in by_type(events, "eval_summary")]
        assert (2, "eval", {"accuracy": 0.5}) in evals
        assert [(s, pytest.approx(4.0 / s)) for s in (1, 2, 3, 4)] == [
            (s, m["loss"]) for s, split, m in evals if split == "val"
        ]  # loss_val/ → val/loss: an evaluation
        assert {"lr": 0.1, "bs": 8.0, "opt": "adam"} == events[0]["config"]["hparams"]
        assert ["step 1 ok", "step 2 ok", "step 3 ok", "step 4 ok"] == [e["msg"] for e in by_type(events, "log")]
        assert "histograms series not imported" in result.stderr and "images series not imported" in result.stderr
        assert "hparams series" not in result.stderr
        assert "add_scalars" in result.stderr  # the renaming is said
        for args in (["validate"], ["summary"], ["table"], ["trend", "accuracy"], ["trend", "eval.loss"]):
            r = cli(*args, "run")
            assert 0 == r.exit_code, f"{args}: {r.output}"

    def test_several_runs_side_by_side_are_still_refused(self, tmp_path: Path) -> None:
        """A root with no event files of its own and two run directories: import each directory."""
        tb = pytest.importorskip("torch.utils.tensorboard")
        for name in ("run_a", "run_b"):
            w = tb.SummaryWriter(log_dir=str(tmp_path / "logs" / name))
            w.add_scalars("loss", {"train": 1.0}, 1)
            w.add_scalar("loss", 1.0, 1)
            w.close()
        result = cli("import", str(tmp_path / "logs"), "--out", "run")
        assert 1 == result.exit_code
        assert "import each directory as its own run" in result.stderr

    def test_a_foreign_subdirectory_is_refused(self, tmp_path: Path) -> None:
        """A subdirectory that is neither add_scalars' nor add_hparams' is another run: refused, nothing written."""
        tb = pytest.importorskip("torch.utils.tensorboard")
        for d in (tmp_path / "logs", tmp_path / "logs" / "other"):
            w = tb.SummaryWriter(log_dir=str(d))
            w.add_scalar("loss", 1.0, 1)
            w.close()
        result = cli("import", str(tmp_path / "logs"), "--out", "run")
        assert 1 == result.exit_code
        assert "import each directory as its own run" in result.stderr
        assert not Path("run/events.jsonl").exists()
