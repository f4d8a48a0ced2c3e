"""eventlog import on verl console logs as verl prints them (tests/data/verl/make_logs.py, verl's own functions)."""

from __future__ import annotations

import importlib.util
import json
import math
import numbers
from pathlib import Path
from typing import Any

import pytest

from conftest import cli, read_events

DATA = Path(__file__).parent / "data" / "verl"
EVAL_PREFIXES = ("val-core/", "val-aux/", "val/")


def make_logs() -> Any:
    pytest.importorskip("numpy")
    pytest.importorskip("tqdm")
    spec = importlib.util.spec_from_file_location("verl_make_logs", DATA / "make_logs.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def number(v: Any) -> Any:
    """A source value as the run stores it (NaN as "NaN", numpy scalars as Python numbers)."""
    f = float(v)
    if math.isnan(f):
        return "NaN"
    return int(v) if isinstance(v, numbers.Integral) else f


def split_evals(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for k, v in values.items():
        prefix = next(p for p in EVAL_PREFIXES if k.startswith(p))
        out.setdefault(prefix[:-1], {})[k[len(prefix) :]] = number(v)
    return out


def by_type(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


def import_log(src: Path, out: str = "run") -> list[dict[str, Any]]:
    result = cli("import", str(src), "--out", out)
    assert 0 == result.exit_code, result.output
    return read_events(Path(out) / "events.jsonl")


class TestFixtures:
    def test_committed_logs_are_what_the_generator_writes(self) -> None:
        """The committed logs are exactly verl's functions' output (regenerate with make_logs.py)."""
        mod = make_logs()
        assert mod.ppo_ray() == (DATA / "ppo_ray.log").read_bytes().decode()
        assert mod.sft_torchrun() == (DATA / "sft_torchrun.log").read_bytes().decode()


class TestPPOUnderRay:
    def test_every_value_matches_the_source(self) -> None:
        """Steps, timings and evals equal verl's dicts; each evaluation once; the run completed; nothing left over."""
        mod = make_logs()
        events = import_log(DATA / "ppo_ray.log")
        steps = by_type(events, "step_metrics")
        assert list(range(1, 7)) == [e["step"] for e in steps]
        expected_evals: list[tuple[int, str, dict[str, Any]]] = []
        for e in steps:
            src = mod.step_metrics(e["step"])
            if e["step"] % 2 == 0 or e["step"] == 6:
                src["timing_s/testing"] = 20.5
                src.update(mod.val_metrics(e["step"]))
            numeric = {k: v for k, v in src.items() if isinstance(v, numbers.Number)}
            assert {k: number(v) for k, v in numeric.items() if not k.startswith(("timing_s/", *EVAL_PREFIXES))} == e[
                "metrics"
            ], e["step"]
            assert {k[len("timing_s/") :]: number(v) for k, v in numeric.items() if k.startswith("timing_s/")} == e[
                "timing"
            ]
        for step in (0, 2, 4, 6):
            expected_evals += [(step, s, m) for s, m in sorted(split_evals(mod.val_metrics(step)).items())]
        got = [(e["step"], e["split"], e["metrics"]) for e in by_type(events, "eval_summary")]
        assert expected_evals == sorted(got, key=lambda t: (t[0], t[1]))  # the initial/final prints are not doubled
        assert [] == by_type(events, "log"), by_type(events, "log")
        assert "completed" == events[-1]["status"]

    def test_cli_shows_the_source_values(self) -> None:
        """validate, summary, table, trend and eval on the imported run show verl's numbers."""
        import_log(DATA / "ppo_ray.log")
        assert 0 == cli("validate", "run").exit_code
        summary = cli("summary", "run")
        assert "run ppo_ray: completed" in summary.stdout, summary.stdout
        table = cli("table", "--cols", "critic/score/mean,actor/pg_loss", "--json", "run")
        assert 0 == table.exit_code, table.stdout
        assert [0.23, 0.31, 0.39, 0.47, 0.55, 0.63] == [
            pytest.approx(r["critic/score/mean"]) for r in json.loads(table.stdout)
        ]
        assert [-0.0031, -0.0062, "NaN", -0.0124, -0.0155, -0.0186] == [
            r["actor/pg_loss"] for r in json.loads(table.stdout)
        ]
        trend = cli("trend", "openai/gsm8k/acc/mean@1", "--json", "run")
        assert 0 == trend.exit_code, trend.stdout
        points = json.loads(trend.stdout)
        assert [(0, 0.2109375), (2, 0.34375), (4, 0.4453125), (6, 0.51953125)] == [
            (r["step"], r["value"]) for r in points["rows"]
        ]  # each evaluation once: the initial print and the step:0 line are one
        evals = json.loads(cli("eval", "--json", "run").stdout)  # verl's val-aux and val-core: both splits shown
        assert [(6, "val-aux"), (6, "val-core")] == [(e["step"], e["split"]) for e in evals]
        assert 0.51953125 == evals[1]["openai/gsm8k/acc/mean@1"]


class TestSFTUnderTorchrun:
    def test_steps_glued_after_tqdm_frames_and_val_loss(self) -> None:
        """fsdp_sft_trainer's lines after tqdm's \\r frames: every step, val/loss as evals, completed."""
        events = import_log(DATA / "sft_torchrun.log")
        steps = by_type(events, "step_metrics")
        assert [1, 2, 3, 4, 5] == [e["step"] for e in steps]
        assert pytest.approx(1.9 / 3) == steps[2]["metrics"]["train/loss"]
        assert 41011 == steps[2]["metrics"]["train/global_tokens"]
        assert [(2, {"loss": 1.0}), (4, {"loss": 0.5}), (5, {"loss": 0.4})] == [
            (e["step"], e["metrics"]) for e in by_type(events, "eval_summary")
        ]
        assert "completed" == events[-1]["status"]


class TestVerlPrints:
    @pytest.mark.parametrize("final", ["Final validation metrics: None", "'Final validation metrics: None'"])
    def test_final_validation_metrics_none_is_a_completed_run(self, tmp_path: Path, final: str) -> None:
        """verl prints (SFT) or pprints (PPO) 'Final validation metrics: None' after a last step without validation."""
        src = tmp_path / "ppo.log"
        src.write_text(f"step:1 - actor/pg_loss:0.5\nstep:2 - actor/pg_loss:0.25\n{final}\n")
        events = import_log(src)
        assert "completed" == events[-1]["status"]
        assert [] == by_type(events, "eval_summary")

    def test_resumed_run_initial_validation_is_at_the_resumed_step(self, tmp_path: Path) -> None:
        """A run resumed at global step 100 logs its initial validation at step 100, not 0."""
        src = tmp_path / "ppo.log"
        src.write_text(
            "Initial validation metrics: {'val-core/gsm8k/acc/mean@1': np.float64(0.5)}\n"
            "step:100 - val-core/gsm8k/acc/mean@1:np.float64(0.5)\n"
            "step:101 - actor/pg_loss:0.25\n"
        )
        events = import_log(src)
        assert [(100, {"gsm8k/acc/mean@1": 0.5})] == [
            (e["step"], e["metrics"]) for e in by_type(events, "eval_summary")
        ]

    def test_console_off_initial_and_final_still_imported(self, tmp_path: Path) -> None:
        """With no console logger only the prints exist: initial at step 0, final at the last step seen (0)."""
        src = tmp_path / "ppo.log"
        src.write_text(
            "Initial validation metrics: {'val-core/gsm8k/acc/mean@1': 0.25}\n"
            "Final validation metrics: {'val-core/gsm8k/acc/mean@1': 0.75}\n"
        )
        events = import_log(src)
        assert [(0, 0.25), (0, 0.75)] == [
            (e["step"], e["metrics"]["gsm8k/acc/mean@1"]) for e in by_type(events, "eval_summary")
        ]
        assert "completed" == events[-1]["status"]

    def test_torn_last_line_of_a_log_being_written_is_skipped_with_a_note(self, tmp_path: Path) -> None:
        """A log still being written can end mid-number ('0.12' of '0.1234'): that line is not imported as data."""
        src = tmp_path / "ppo.log"
        src.write_text("step:1 - a:0.5 - b:0.1234\nstep:2 - a:0.25 - b:0.12", encoding="utf-8")
        result = cli("import", str(src), "--out", "run")
        assert 0 == result.exit_code, result.output
        assert "line 2 has no end (still being written?): not imported" in result.stderr
        events = read_events(Path("run/events.jsonl"))
        assert [(1, {"a": 0.5, "b": 0.1234})] == [(e["step"], e["metrics"]) for e in by_type(events, "step_metrics")]
        assert "interrupted" == events[-1]["status"]
