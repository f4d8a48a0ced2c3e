"""The framework integrations, with the real frameworks training tiny models for a few steps.

Each training script in tests/frameworks/ runs in its own interpreter (as a user's script would, so the
run ends at process exit), then the installed ``eventlog`` command checks and reads the result.
Frameworks come from the ``integrations`` extra (``make test`` installs it); without it these tests are
skipped, unless EVENTLOG_FRAMEWORK_TESTS=required (set by ``make test``), where a missing one fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from conftest import ROOT, read_events

SCRIPTS = Path(__file__).parent / "frameworks"
EVENTLOG = Path(sys.executable).parent / "eventlog"
pytestmark = pytest.mark.timeout(600)


def need(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        if os.environ.get("EVENTLOG_FRAMEWORK_TESTS") == "required":
            pytest.fail(f"{', '.join(missing)} not installed: pip install -e '.[integrations]' (see Makefile)")
        pytest.skip(f"{', '.join(missing)} not installed (the integrations extra)")


def train(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return train_with([sys.executable, str(SCRIPTS / script)], *args, cwd=cwd)


def train_with(command: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTLOG_") and k not in ("RANK", "WORLD_SIZE")}
    env.update(
        EVENTLOG_STRICT="1",
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS="1",
    )
    out = subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=540)
    assert 0 == out.returncode, f"{command[-1]} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def eventlog_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it."""
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([str(EVENTLOG), *args], capture_output=True, text=True, env=env, timeout=120)


def check_cli(run_dir: Path, metric: str) -> dict[str, Any]:
    """validate, summary, table and trend all succeed on the run; returns summary --json."""
    v = eventlog_cli("validate", str(run_dir))
    assert 0 == v.returncode, v.stdout + v.stderr
    assert ", 0 problem(s)" in v.stdout
    for args in (["summary"], ["table"], ["trend", metric]):
        r = eventlog_cli(*args, str(run_dir))
        assert 0 == r.returncode, f"{args}: {r.stderr}"
        assert r.stdout.strip()
        assert "Traceback" not in r.stderr
    data = json.loads(eventlog_cli("summary", "--json", str(run_dir)).stdout)
    return data["runs"][0] if isinstance(data, dict) and "runs" in data else data  # either JSON shape


def by_type(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


class TestImportWeight:
    def test_integrations_package_imports_no_framework(self) -> None:
        """import eventlog and eventlog.integrations load none of torch, transformers, trl, lightning, accelerate."""
        code = (
            "import sys, eventlog, eventlog.integrations; print(' '.join(sorted(m for m in sys.modules if "
            "m.split('.')[0] in {'torch','transformers','trl','lightning','pytorch_lightning','accelerate',"
            "'tensorboard','numpy'})))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert "" == out.stdout.strip()


@pytest.fixture(scope="module")
def hf_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need("torch", "transformers")
    out = tmp_path_factory.mktemp("hf")
    train("hf_trainer.py", str(out / "train"), "callback", cwd=out)
    return out / "train"


class TestTransformers:
    def test_trainer_run_is_recorded(self, hf_run: Path) -> None:
        """Fractional epochs, named eval datasets as splits, checkpoints, the final record, a later evaluate()."""
        events = read_events(hf_run / "eventlog" / "events.jsonl")
        steps = by_type(events, "step_metrics")
        assert [(2, 0.25), (4, 0.5), (6, 0.75), (8, 1)] == [(e["step"], e["epoch"]) for e in steps]
        assert {"loss", "grad_norm", "learning_rate"} <= set(steps[0]["metrics"])
        evals = [(e["step"], e["split"]) for e in by_type(events, "eval_summary")]
        assert [(3, "g0"), (3, "g1"), (6, "g0"), (6, "g1"), (8, "g0"), (8, "g1"), (8, "eval"), (8, "test")] == evals
        assert {"loss", "accuracy", "runtime"} <= set(by_type(events, "eval_summary")[0]["metrics"])
        ckpts = by_type(events, "checkpoint")
        assert [4, 8] == [c["step"] for c in ckpts]
        assert all(c["path"].endswith(f"checkpoint-{c['step']}") and c["size_bytes"] > 0 for c in ckpts)
        start = events[0]
        assert ("run_start", "hf-tiny") == (start["event"], start["run"])
        assert {"0": "neg", "1": "pos"} == start["config"]["model"]["id2label"]
        ends = {e["phase"]: e for e in by_type(events, "phase_end")}
        assert "train_loss" in ends["training"] and "train_runtime" in ends["training"]
        assert 8 == len([e for e in by_type(events, "phase_end") if e["phase"] == "training_step"])
        last_eval = by_type(events, "phase_start")[-1]
        assert ("validation", None) == (last_eval["phase"], last_eval.get("parent"))  # after training: top level
        assert all(e["status"] == "ok" for e in by_type(events, "phase_end"))  # predict() closed its phase too
        assert ("run_end", "completed") == (events[-1]["event"], events[-1]["status"])

    def test_cli_reads_the_run(self, hf_run: Path) -> None:
        """validate, summary, table and trend work on it; summary shows 8/8 steps and both checkpoints."""
        summary = check_cli(hf_run / "eventlog", "accuracy")
        assert ("completed", 8, 8) == (summary["status"], summary["steps_done"], summary["total_steps"])
        assert 2 == len(summary["checkpoints"])
        table = eventlog_cli("table", "--cols", "step,loss", str(hf_run / "eventlog")).stdout.splitlines()
        assert ["2/8", "4/8", "6/8", "8/8"] == [row.split()[0] for row in table[1:]]

    def test_every_logged_value_as_trainer_logged_it(self, tmp_path: Path) -> None:
        """Counting input tokens (transformers 5 then puts train_runtime in every step's log), a metric named
        decode_runtime, a custom value logged beside an eval one, evaluate(metric_key_prefix="val"): the run
        holds every value of Trainer's own log_history at its step and split, and so does its import.

        Before: no step_metrics at all (each step's log was taken for the final record), decode_runtime made
        splits of its own, custom_score was dropped, val_* were training metrics, epochs were rounded."""
        need("torch", "transformers")
        train("hf_trainer.py", str(tmp_path / "t"), "tokens", cwd=tmp_path)
        history = orjson.loads((tmp_path / "t" / "trainer_state.json").read_bytes())["log_history"]
        imported = tmp_path / "imported"
        assert (
            0 == eventlog_cli("import", str(tmp_path / "t" / "trainer_state.json"), "--out", str(imported)).returncode
        )
        for run in (tmp_path / "t" / "eventlog", imported):
            events = read_events(next(run.glob("events*.jsonl")))
            steps = {e["step"]: e for e in by_type(events, "step_metrics") if "loss" in e["metrics"]}
            logged = [r for r in history if "loss" in r]
            assert [3, 6] == sorted(steps) == [r["step"] for r in logged]
            for r in logged:
                got = steps[r["step"]]
                assert (r["loss"], r["grad_norm"], r["learning_rate"], r["epoch"]) == (
                    got["metrics"]["loss"],
                    got["metrics"]["grad_norm"],
                    got["metrics"]["learning_rate"],
                    got["epoch"],
                )
            evals = {(e["step"], e["split"]): e["metrics"] for e in by_type(events, "eval_summary")}
            assert {"g0", "g1", "val", "eval"} <= {split for _, split in evals}  # and predict()'s test, live
            assert 2.5 == evals[(8, "eval")]["extra"]
            assert 0.5 == evals[(3, "g0")]["decode_runtime"]
            assert next(r["val_loss"] for r in history if "val_loss" in r) == evals[(8, "val")]["loss"]
            assert any(e["metrics"].get("custom_score") == 1.5 for e in by_type(events, "step_metrics"))
            summary = orjson.loads(eventlog_cli("summary", "--json", str(run)).stdout)["runs"][0]
            assert (summary["steps_done"], summary["total_steps"]) == (8, 8)  # was 6: the last step logging

    def test_report_to_eventlog_after_register(self, tmp_path: Path) -> None:
        """register() makes TrainingArguments(report_to="eventlog") record the same run."""
        need("torch", "transformers")
        train("hf_trainer.py", str(tmp_path / "t"), "report_to", cwd=tmp_path)
        events = read_events(tmp_path / "t" / "eventlog" / "events.jsonl")
        assert [2, 4, 6, 8] == [e["step"] for e in by_type(events, "step_metrics")]
        assert 0 == eventlog_cli("validate", str(tmp_path / "t" / "eventlog")).returncode


class TestTRL:
    def test_grpo_samples_and_group_stats(self, tmp_path: Path) -> None:
        """GRPOTrainer with two reward functions: completions as samples, group statistics, None metrics valid."""
        need("torch", "transformers", "trl", "datasets")
        train("trl_grpo.py", str(tmp_path / "g"), cwd=tmp_path)
        run_dir = tmp_path / "g" / "eventlog"
        events = read_events(run_dir / "events.jsonl")
        steps = by_type(events, "step_metrics")
        assert [1, 2, 3] == [e["step"] for e in steps]
        assert {"reward", "reward_std", "frac_reward_zero_std", "rewards/reward_short/mean"} <= set(steps[0]["metrics"])
        # seeded: at step 1 one completion says yes or no, so reward_says_yes has one value, its std NaN → None
        assert steps[0]["metrics"]["rewards/reward_says_yes/std"] is None
        samples = by_type(events, "sample")
        assert 12 == len(samples)  # 3 steps × 4 completions
        s = samples[0]
        assert {"prompt", "output", "reward_short", "reward_says_yes", "advantage", "step", "split"} <= set(s)
        assert s["reward_short"] == pytest.approx(-len(s["output"].split()) / 8)
        groups = by_type(events, "group_summary")
        assert [1, 2, 3] == [g["step"] for g in groups]
        assert all(g["num_generations"] == 4 and g["groups_total"] == 1 and "frac_reward_zero_std" in g for g in groups)
        assert "reward_short_mean" in groups[0]
        summary = check_cli(run_dir, "step.reward")
        assert ("completed", 3) == (summary["status"], summary["steps_done"])
        listed = eventlog_cli("samples", str(run_dir))
        assert 0 == listed.returncode and "Prompt:" in listed.stdout
        assert 0 == eventlog_cli("groups", str(run_dir)).returncode


class TestLightning:
    def test_fit_and_test_are_recorded(self, tmp_path: Path) -> None:
        """train keys → step_metrics, val_/val/ and test_ keys → eval_summary, hparams → config_update, checkpoints."""
        need("torch", "lightning")
        train("lightning_fit.py", str(tmp_path / "l"), cwd=tmp_path)
        run_dir = tmp_path / "l" / "tiny" / "v0"
        events = read_events(run_dir / "events.jsonl")
        assert [{"lr": 0.05, "hidden": 4}] == [e["config"] for e in by_type(events, "config_update")]
        assert all("train_loss" in e["metrics"] for e in by_type(events, "step_metrics"))
        evals = by_type(events, "eval_summary")
        assert ["val", "val", "test"] == [e["split"] for e in evals]
        assert {"loss", "accuracy"} == set(evals[0]["metrics"])
        assert [4, 8] == [c["step"] for c in by_type(events, "checkpoint")]
        summary = check_cli(run_dir, "loss")
        assert "completed" == summary["status"]
        assert [{"source": "lightning", "config": {"lr": 0.05, "hidden": 4}}] == summary["config_updates"]

    def test_failed_fit_ends_the_run_as_failed_with_the_error(self, tmp_path: Path) -> None:
        """An exception in training_step: run_end failed with the exception's text, open phases closed."""
        need("torch", "lightning")
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTLOG_")}
        env.update(EVENTLOG_STRICT="1", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
        out = subprocess.run(
            [sys.executable, str(SCRIPTS / "lightning_fit.py"), str(tmp_path / "l"), "fail"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=300,
        )
        assert 0 != out.returncode
        assert "loss diverged at step 3" in out.stderr
        events = read_events(tmp_path / "l" / "tiny" / "v0" / "events.jsonl")
        end = events[-1]
        assert ("run_end", "failed") == (end["event"], end["status"])
        assert "RuntimeError: loss diverged at step 3" == end["error"]
        assert [1] == [e["step"] for e in by_type(events, "step_metrics")]  # logged every 2 steps, failed at 3
        summary = check_cli(tmp_path / "l" / "tiny" / "v0", "step.train_loss")
        assert "failed" == summary["status"]


class TestAccelerate:
    def test_log_with_eventlog(self, tmp_path: Path) -> None:
        """Accelerator(log_with="eventlog") after register(): config in run_start, steps, evals, end_training()."""
        need("torch", "accelerate")
        train("accelerate_loop.py", str(tmp_path / "a"), cwd=tmp_path)
        run_dir = tmp_path / "a" / "acc-tiny"
        events = read_events(run_dir / "events.jsonl")
        assert {"lr": 0.1, "layers": [2, 1], "id2label": {"0": "a", "1": "b"}} == events[0]["config"]
        assert list(range(1, 9)) == [e["step"] for e in by_type(events, "step_metrics")]
        assert [(4, "eval"), (8, "eval")] == [(e["step"], e["split"]) for e in by_type(events, "eval_summary")]
        summary = check_cli(run_dir, "accuracy")
        assert ("completed", 8) == (summary["status"], summary["steps_done"])


def _metrics_by_step(events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {e["step"]: e["metrics"] for e in by_type(events, "step_metrics")}


def _evals(events: list[dict[str, Any]]) -> list[tuple[int, str, dict[str, Any]]]:
    """The evaluations, without predict()'s (Trainer keeps those out of its logs: no file has them)."""
    return [(e["step"], e["split"], e["metrics"]) for e in by_type(events, "eval_summary") if e["split"] != "test"]


class TestImportFromRealTools:
    def test_trainer_state_import_matches_what_the_callback_recorded(self, hf_run: Path, tmp_path: Path) -> None:
        """eventlog import of the run's trainer_state.json gives the same steps, epochs, metrics and evals."""
        out = eventlog_cli("import", str(hf_run / "trainer_state.json"), "--out", str(tmp_path / "imp"))
        assert 0 == out.returncode, out.stderr
        assert "[hf]" in out.stdout
        live = read_events(hf_run / "eventlog" / "events.jsonl")
        imported = read_events(tmp_path / "imp" / "events.jsonl")
        assert _metrics_by_step(live) == _metrics_by_step(imported)
        assert [(e["step"], e["epoch"]) for e in by_type(live, "step_metrics")] == [
            (e["step"], e["epoch"]) for e in by_type(imported, "step_metrics")
        ]
        assert _evals(live) == _evals(imported)
        training = [e for e in by_type(imported, "phase_end") if e["phase"] == "training"][0]
        live_training = [e for e in by_type(live, "phase_end") if e["phase"] == "training"][0]
        assert live_training["train_loss"] == training["train_loss"]
        assert "completed" == imported[-1]["status"]
        summary = check_cli(tmp_path / "imp", "accuracy")
        assert (8, 8) == (summary["steps_done"], summary["total_steps"])

    def test_checkpoint_trainer_state_imports_as_interrupted(self, hf_run: Path, tmp_path: Path) -> None:
        """checkpoint-4/trainer_state.json (saved mid-run, no final record): steps up to 4, status interrupted."""
        out = eventlog_cli("import", str(hf_run / "checkpoint-4"), "--out", str(tmp_path / "c"))
        assert 0 == out.returncode, out.stderr
        assert "recorded as interrupted" in out.stderr
        events = read_events(tmp_path / "c" / "events.jsonl")
        assert [2, 4] == [e["step"] for e in by_type(events, "step_metrics")]
        assert "checkpoint-4" == events[0]["run"]
        assert ("run_end", "interrupted") == (events[-1]["event"], events[-1]["status"])
        assert 0 == eventlog_cli("validate", str(tmp_path / "c")).returncode

    def test_tensorboard_import_matches_what_the_callback_recorded(self, hf_run: Path, tmp_path: Path) -> None:
        """The same run's TensorBoard files (written by Trainer's TensorBoardCallback) import to the same numbers."""
        out = eventlog_cli("import", str(hf_run / "tb"), "--out", str(tmp_path / "tb"))
        assert 0 == out.returncode, out.stderr
        assert "[tensorboard]" in out.stdout
        live = read_events(hf_run / "eventlog" / "events.jsonl")
        imported = read_events(tmp_path / "tb" / "events.jsonl")
        want = _metrics_by_step(live)
        got = _metrics_by_step(imported)
        assert sorted(want) == sorted(got)
        for step, metrics in want.items():
            for name in ("loss", "grad_norm", "learning_rate"):
                assert metrics[name] == pytest.approx(got[step][name], rel=1e-6)  # TensorBoard keeps float32
        assert [(s, split) for s, split, _ in _evals(live)] == [(s, split) for s, split, _ in _evals(imported)]
        for (_, _, a), (_, _, b) in zip(_evals(live), _evals(imported), strict=True):
            assert a["accuracy"] == pytest.approx(b["accuracy"], rel=1e-6)
        texts = {e["tag"] for e in by_type(imported, "log")}
        assert {"args/text_summary", "model_config/text_summary"} <= texts  # Trainer's text summaries, as log events
        check_cli(tmp_path / "tb", "accuracy")


class TestTorchrun:
    def test_two_ranks_gloo(self, tmp_path: Path) -> None:
        """torchrun with 2 CPU ranks (gloo): one file per rank, metrics and the console on rank 0 only."""
        need("torch", "transformers")
        torchrun = Path(sys.executable).parent / "torchrun"
        out = train_with(
            [str(torchrun), "--nproc_per_node", "2", "--master_port", "29533", str(SCRIPTS / "hf_trainer.py")],
            str(tmp_path / "d"),
            "callback",
            cwd=tmp_path,
        )
        run_dir = tmp_path / "d" / "eventlog"
        rank0, rank1 = read_events(run_dir / "events.jsonl"), read_events(run_dir / "events.rank1.jsonl")
        assert {0} == {e["rank"] for e in rank0} and {1} == {e["rank"] for e in rank1}
        assert 4 == len(by_type(rank0, "step_metrics"))
        assert [] == by_type(rank1, "step_metrics") + by_type(rank1, "eval_summary") + by_type(rank1, "checkpoint")
        assert 8 == len([e for e in by_type(rank1, "phase_start") if e["phase"] == "training_step"])
        assert 1 == out.stdout.count("ALL PHASES COMPLETE")  # the console is rank 0's alone
        assert "completed" == check_cli(run_dir, "step.loss")["status"]


class TestHooksNeverBreakTraining:
    def test_a_failing_hook_warns_once_in_lenient_mode_and_raises_in_strict(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A hook that fails (here: arguments it cannot read) is one warning without strict mode, an error with it."""
        need("transformers")
        import warnings
        from types import SimpleNamespace

        from eventlog.integrations.transformers import EventlogCallback

        state = SimpleNamespace(is_world_process_zero=True, global_step=1, max_steps=2, epoch=0.5)
        args = SimpleNamespace(process_index=0, output_dir=str(tmp_path))  # no to_dict(): setup fails
        with pytest.raises(AttributeError):
            EventlogCallback().on_log(args, state, None, logs={"loss": 1.0})
        monkeypatch.delenv("EVENTLOG_STRICT")
        cb = EventlogCallback()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                assert cb.on_log(args, state, None, logs={"loss": 1.0}) is None
        texts = [str(w.message) for w in caught if "training goes on" in str(w.message)]
        assert 1 == len(texts)
        assert "EventlogCallback.on_log failed (AttributeError" in texts[0]


class TestEvalRecords:
    def test_named_eval_datasets_become_splits(self) -> None:
        """eval_g0_* / eval_* keys split by the prefixes Trainer's *_runtime keys reveal."""
        from eventlog.integrations._common import hf_eval_records

        logs = {"eval_g0_loss": 1.0, "eval_g0_runtime": 0.5, "eval_g0_top_k": 3, "eval_loss": 2.0, "epoch": 1.5}
        assert {
            "g0": ({"loss": 1.0, "runtime": 0.5, "top_k": 3, "epoch": 1.5}, 0.5),
            "eval": ({"loss": 2.0, "epoch": 1.5}, None),
        } == hf_eval_records(logs)
        assert {} == hf_eval_records({"loss": 1.0, "epoch": 1})
