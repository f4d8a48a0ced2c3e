"""Core behaviour the framework integrations rely on (issue 13), each pinned on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import eventlog
from conftest import cli, read_events


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
        """The table prints a fractional epoch with two decimals at most (not 0.333333), unclipped."""
        eventlog.emit("step_metrics", step=1, epoch=1 / 3, total_epochs=2, metrics={"loss": 1.0})
        eventlog.finish()
        out = cli("table", "--cols", "step,epoch,loss", str(run_dir))
        assert 0 == out.exit_code
        assert "      1  0.33         1\n" == out.stdout.splitlines(keepends=True)[1]  # 0.33/2 does not fit: 0.33


class TestNotMeasured:
    def test_none_metric_is_kept_as_null_distinct_from_nan(self, run_dir: Path) -> None:
        """metrics={"a": None, "b": nan} stores null and "NaN": not measured vs diverged."""
        eventlog.emit("step_metrics", step=1, metrics={"a": None, "b": float("nan"), "c": 1.0})
        eventlog.emit("eval_summary", step=1, metrics={"accuracy": None})
        eventlog.finish()
        assert {"a": None, "b": "NaN", "c": 1.0} == _events(run_dir, "step_metrics")[0]["metrics"]
        assert {"accuracy": None} == _events(run_dir, "eval_summary")[0]["metrics"]

    def test_cli_reads_null_metric_as_empty_and_validate_passes(self, run_dir: Path) -> None:
        """validate accepts null metrics; the table shows '-' for null (not measured) and nan for NaN, no warning.

        (The console's own table keeps seed 003's ``nan`` for both.)"""
        eventlog.emit("step_metrics", step=1, metrics={"a": None, "b": float("nan")})
        eventlog.emit("step_metrics", step=2, metrics={"a": 0.5, "b": 1.0})
        eventlog.finish()
        assert 0 == cli("validate", str(run_dir)).exit_code
        out = cli("table", "--cols", "step,a,b", str(run_dir))
        assert 0 == out.exit_code
        rows = [ln.split() for ln in out.stdout.splitlines()[1:]]
        assert [["1", "-", "nan"], ["2", "0.5", "1"]] == rows
        assert "not numbers" not in out.stderr
        for cmd in ("summary", "replay"):
            assert 0 == cli(cmd, str(run_dir)).exit_code

    def test_console_prints_a_null_metric(self, tmp_path: Path) -> None:
        """The live console shows a not-measured metric instead of failing."""
        import io

        buf = io.StringIO()
        eventlog.init(tmp_path / "c", run="c", console="compact", console_stream=buf)
        eventlog.emit("step_metrics", step=1, metrics={"loss": None, "kl": 0.5})
        eventlog.finish()
        assert "kl" in buf.getvalue()


class TestFloatWhereIntBelongs:
    @pytest.mark.parametrize("kind", ["torch", "numpy", "float"])
    def test_strict_mode_raises_a_clear_error(self, run_dir: Path, kind: str) -> None:
        """step=tensor(3.0) / float32(3.0) / 3.0 raises ValidationError naming the field, not a raw TypeError."""
        value = _float_value(kind, 3.0)
        with pytest.raises(eventlog.ValidationError, match=r"event 'step_metrics' field 'step': expected an int, got"):
            eventlog.emit("step_metrics", step=value, metrics={"loss": 1.0})

    @pytest.mark.parametrize("kind", ["torch", "numpy", "float"])
    def test_lenient_mode_coerces_and_warns_once(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
    ) -> None:
        """Without strict mode the value is stored as an int, with one warning for three calls."""
        import warnings

        monkeypatch.delenv("EVENTLOG_STRICT")
        eventlog.init(tmp_path / "r", run="r", console="off")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for step in (3.0, 4.0, 5.6):
                eventlog.emit("step_metrics", step=_float_value(kind, step), metrics={"loss": 1.0})
        texts = [str(w.message) for w in caught if "field 'step'" in str(w.message)]
        assert 1 == len(texts)
        assert texts[0].endswith("pass int(value); stored 3")
        assert [3, 4, 6] == [e["step"] for e in _events(tmp_path / "r", "step_metrics")]
        eventlog.finish()
        assert 0 == cli("validate", str(tmp_path / "r")).exit_code

    def test_int_tensor_is_accepted(self, run_dir: Path) -> None:
        """An integer tensor or numpy int is an int."""
        import numpy as np

        torch = pytest.importorskip("torch")
        eventlog.emit("step_metrics", step=torch.tensor(7), metrics={}, total_steps=np.int64(9))
        ev = _events(run_dir, "step_metrics")[0]
        assert (7, 9) == (ev["step"], ev["total_steps"])


def _float_value(kind: str, v: float) -> Any:
    if kind == "torch":
        torch = pytest.importorskip("torch")
        return torch.tensor(v)
    if kind == "numpy":
        import numpy as np

        return np.float32(v)
    return v


class TestConfigKeys:
    def test_non_string_keys_are_stored_as_json_spells_them(self, tmp_path: Path) -> None:
        """id2label={0: "neg"} (every HF model config) is stored with string keys, not as one repr string."""
        cfg = {"id2label": {0: "neg", 1: "pos"}, "flags": {True: 1, None: 2, 1.5: 3}, "lr": 0.1}
        eventlog.init(tmp_path / "r", run="r", console="off", config=cfg)
        start = _events(tmp_path / "r", "run_start")[0]
        assert {
            "id2label": {"0": "neg", "1": "pos"},
            "flags": {"true": 1, "null": 2, "1.5": 3},
            "lr": 0.1,
        } == start["config"]

    def test_colliding_keys_are_an_error_naming_both(self, run_dir: Path) -> None:
        """{1: "a", "1": "b"} cannot be stored without loss: a clear error."""
        with pytest.raises(eventlog.EncodeError, match="keys '1' and 1 collide"):
            eventlog.emit("log", level="info", msg="x", config={"1": "b", 1: "a"})


class TestConfigUpdate:
    def test_config_update_is_validated(self, run_dir: Path) -> None:
        """config_update needs a config object; source is optional."""
        with pytest.raises(eventlog.ValidationError, match="'config'"):
            eventlog.emit("config_update", source="lightning")
        eventlog.emit("config_update", config={"lr": 0.001, 3: "x"}, source="lightning")
        assert {"lr": 0.001, "3": "x"} == _events(run_dir, "config_update")[0]["config"]

    def test_summary_shows_each_update(self, run_dir: Path) -> None:
        """summary prints each config_update as it prints the config (nested values as JSON); --json lists them."""
        import json

        eventlog.emit("config_update", config={"lr": 0.001, "model": {"layers": 2}}, source="lightning")
        eventlog.emit("config_update", config={"note": "\x1b[31mred"})
        eventlog.finish()
        out = cli("summary", str(run_dir))
        assert 0 == out.exit_code
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("config update")]
        assert [
            'config update (lightning): lr=0.001  model={"layers":2}',
            "config update: note=\\x1b[31mred",
        ] == lines
        data = json.loads(cli("summary", "--json", str(run_dir)).stdout)
        data = data["runs"][0] if "runs" in data else data  # either JSON shape
        assert [{"source": "lightning", "config": {"lr": 0.001, "model": {"layers": 2}}}] == data["config_updates"][:1]
        assert 0 == cli("validate", str(run_dir)).exit_code


class TestFinishStatus:
    def test_failed_status_and_error_are_recorded_without_the_exit_hook(self) -> None:
        """finish(status="failed", error=...) writes that run_end; a clean exit afterwards changes nothing."""
        from conftest import run_python

        code = (
            "import sys, eventlog\n"
            "eventlog.init(sys.argv[1], run='r', console='off')\n"
            "with eventlog.phase('training'):\n"
            "    eventlog.finish(status='failed', error='loss diverged at step 7')\n"
            "eventlog.finish()\n"
        )
        out = run_python(code, "r")
        assert 0 == out.returncode, out.stderr
        ends = [e for e in read_events(Path("r") / "events.jsonl") if e["event"] in ("run_end", "phase_end")]
        assert [("phase_end", "interrupted"), ("run_end", "failed")] == [(e["event"], e["status"]) for e in ends]
        assert "loss diverged at step 7" == ends[-1]["error"]
        summary = cli("summary", "r")
        assert "run r: failed" in summary.stdout
        assert "error: loss diverged at step 7" in summary.stdout

    def test_unknown_status_is_refused_in_strict_mode(self, run_dir: Path) -> None:
        """A typo in the status is a clear error, and the run stays open."""
        with pytest.raises(eventlog.ValidationError, match="finish\\(status='fail'\\): expected one of"):
            eventlog.finish(status="fail")
        eventlog.finish(status="failed", error="x")
        assert ["failed"] == [e["status"] for e in _events_file(run_dir, "run_end")]


def _events_file(run_dir: Path, name: str) -> list[dict[str, Any]]:
    return [e for e in read_events(run_dir / "events.jsonl") if e["event"] == name]


class TestExtraFields:
    def test_sample_and_group_summary_keep_extra_fields_through_export(self, run_dir: Path) -> None:
        """Per-function rewards, advantage, frac_reward_zero_std: written, valid, and exported as columns."""
        import polars as pl

        eventlog.emit(
            "sample", step=1, prompt="2+2?", output="4", reward=1.5, reward_fmt=0.5, reward_acc=1.0, advantage=0.7
        )
        eventlog.emit(
            "group_summary",
            step=1,
            groups_total=2,
            groups_kept=1,
            num_generations=4,
            frac_reward_zero_std=0.5,
            reward_acc_std=0.25,
            note="trl",
        )
        with pytest.raises(eventlog.ValidationError, match="advantage"):
            eventlog.emit("sample", output="x", advantage=[0.1, 0.2])  # extras are scalars
        eventlog.finish()
        assert 0 == cli("validate", str(run_dir)).exit_code
        out = cli("export", str(run_dir), "--out", "exp")
        assert 0 == out.exit_code
        sample = pl.read_parquet("exp/sample.parquet").row(0, named=True)
        assert (0.5, 1.0, 0.7) == (sample["reward_fmt"], sample["reward_acc"], sample["advantage"])
        groups = pl.read_parquet("exp/group_summary.parquet").row(0, named=True)
        assert (4, 0.5, 0.25, "trl") == (
            groups["num_generations"],
            groups["frac_reward_zero_std"],
            groups["reward_acc_std"],
            groups["note"],
        )

    def test_groups_and_samples_show_the_extra_fields(self, run_dir: Path) -> None:
        """groups prints a line of extra fields per step; samples an Extra: line per sample."""
        eventlog.emit("sample", step=1, output="4", reward=1.0, reward_acc=1.0, advantage=0.5)
        eventlog.emit("group_summary", step=1, groups_total=2, groups_kept=1, frac_reward_zero_std=0.5)
        eventlog.finish()
        groups = cli("groups", str(run_dir))
        assert 0 == groups.exit_code
        assert "step 1: frac_reward_zero_std=0.5" in groups.stdout
        samples = cli("samples", str(run_dir))
        assert 0 == samples.exit_code
        assert "Extra:     reward_acc=1 advantage=0.5" in samples.stdout


class TestIntegrationRuns:
    def test_a_second_training_after_finish_gets_its_own_run(self, tmp_path: Path) -> None:
        """After finish(), the next integration run does not reuse the EVENTLOG_DIR the first init() exported."""
        from eventlog.integrations._common import ensure_run

        first, owns = ensure_run(None, "a", default_dir=tmp_path / "a")
        assert owns and (tmp_path / "a", "a") == (first.dir, first.run)
        same, owns = ensure_run(None, "b", default_dir=tmp_path / "b")
        assert (same, owns) == (first, False)  # joined while it is open
        eventlog.finish()
        second, owns = ensure_run(None, "b", default_dir=tmp_path / "b")
        assert owns and (tmp_path / "b", "b") == (second.dir, second.run)
        eventlog.finish()
        assert ["run_start", "run_end"] == [e["event"] for e in read_events(tmp_path / "b" / "events.jsonl")]

    def test_operator_settings_win_over_the_default(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """EVENTLOG_DIR / EVENTLOG_RUN set before the process started are used instead of the default."""
        from eventlog.integrations._common import ensure_run

        monkeypatch.setenv("EVENTLOG_DIR", str(tmp_path / "ops"))
        monkeypatch.setenv("EVENTLOG_RUN", "ops-run")
        st, _ = ensure_run(None, None, default_dir=tmp_path / "default")
        assert (tmp_path / "ops", "ops-run") == (st.dir, st.run)
