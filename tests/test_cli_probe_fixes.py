"""Five small fixes a probe found, each on the probe's own run: every split of an eval step shown,
no ``nan`` for a missing table cell, the step kept by ``--cols``, run directories named when a
directory holds none itself, ``console=False``. Each test failed before its fix.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import eventlog
from conftest import cli
from eventlog import ConfigError
from eventlog._config import load_config


def probe_run(where: str = "r", run: str = "r") -> str:
    """The probe's run: one step without epoch or timing, two eval splits at that step."""
    eventlog.init(where, run=run, console="off")
    eventlog.emit("step_metrics", step=3, metrics={"train/loss": 1.0, "rewards/a/mean": 0.5, "rewards/b/mean": 0.2})
    eventlog.emit("eval_summary", step=3, split="g0", metrics={"accuracy": 0.25, "loss": 1.0})
    eventlog.emit("eval_summary", step=3, split="g1", metrics={"accuracy": 0.75, "f1": 0.5})
    eventlog.finish()
    return where


# --- 1. eval shows every split of the step ------------------------------------------------------


class TestEvalSplits:
    def test_json_has_each_split(self) -> None:
        data = json.loads(cli("eval", "--json", probe_run()).stdout)
        assert [
            {"step": 3, "accuracy": 0.25, "loss": 1.0, "split": "g0"},
            {"step": 3, "accuracy": 0.75, "f1": 0.5, "split": "g1"},
        ] == data

    def test_text_and_csv_have_each_split(self, golden: Any) -> None:
        r = probe_run()
        result = cli("eval", r)
        assert 0 == result.exit_code, result.output
        for label, value in (
            ("accuracy [g0]", "0.25"),
            ("loss [g0]", "1"),
            ("accuracy [g1]", "0.75"),
            ("f1 [g1]", "0.5"),
        ):
            assert any(
                line.split()[:-1] == label.split() and line.split()[-1] == value for line in result.stdout.splitlines()
            )
        golden("cli_eval_splits", result.stdout)
        lines = cli("eval", "--csv", r).stdout.splitlines()
        assert ["split,metric,value", "g0,accuracy,0.25", "g0,loss,1.0", "g1,accuracy,0.75", "g1,f1,0.5"] == lines

    def test_at_a_given_step_too(self) -> None:
        data = json.loads(cli("eval", "--json", "--step", "3", probe_run()).stdout)
        assert ["g0", "g1"] == [d["split"] for d in data]

    def test_one_split_is_still_the_flat_object(self) -> None:
        data = json.loads(cli("eval", "--json", "--split", "g0", probe_run()).stdout)
        assert {"step": 3, "accuracy": 0.25, "loss": 1.0, "split": "g0"} == data
        assert "metric,value" == cli("eval", "--csv", "--split", "g0", "r").stdout.splitlines()[0]


# --- 2. a missing table cell is "-", a NaN stays nan --------------------------------------------


def test_missing_epoch_and_time_are_not_nan() -> None:
    lines = cli("table", probe_run()).stdout.splitlines()
    assert ["step", "ep", "loss", "time"] == lines[0].split()
    assert ["3", "-", "1", "-"] == lines[1].split()
    md = cli("table", "--markdown", "r").stdout.splitlines()
    assert "| 3 | - | 1 | - |" == md[2]


def test_a_nan_metric_still_prints_nan() -> None:
    eventlog.init("n", run="n", console="off")
    eventlog.emit("step_metrics", step=1, metrics={"loss": float("nan")})
    eventlog.finish()
    assert ["1", "-", "nan", "-"] == cli("table", "n").stdout.splitlines()[1].split()


# --- 3. --cols never drops the row keys ---------------------------------------------------------


def test_cols_glob_keeps_the_step() -> None:
    r = probe_run()
    lines = cli("table", "--cols", "rewards/*", r).stdout.splitlines()
    assert "step" == lines[0].split()[0] and ["3", "0.5", "0.2"] == lines[1].split()
    rows = json.loads(cli("table", "--cols", "rewards/*", "--json", r).stdout)
    assert [{"step": 3, "rewards/a/mean": 0.5, "rewards/b/mean": 0.2}] == rows
    assert (
        "step,rewards/a/mean,rewards/b/mean" == cli("table", "--cols", "rewards/*", "--csv", r).stdout.splitlines()[0]
    )


def test_cols_keeps_run_and_step_with_several_runs() -> None:
    probe_run("a", run="alpha")
    eventlog._run.reset()
    probe_run("b", run="beta")
    rows = json.loads(cli("table", "--cols", "train/loss", "--json", "a", "b").stdout)
    assert [{"run": "alpha", "step": 3, "train/loss": 1.0}, {"run": "beta", "step": 3, "train/loss": 1.0}] == rows


def test_cols_naming_the_step_keeps_its_place() -> None:
    rows = json.loads(cli("table", "--cols", "train/loss,step", "--json", probe_run()).stdout)
    assert ["train/loss", "step"] == list(rows[0])


# --- 4. a directory of run directories --------------------------------------------------------


def test_a_directory_of_runs_names_them() -> None:
    for name in ("a", "b"):
        probe_run(f"up/{name}")
        eventlog._run.reset()
    result = cli("summary", "up")
    assert 1 == result.exit_code
    assert 1 == len(result.stderr.splitlines()), result.stderr
    line = result.stderr
    assert "no *.jsonl files in this directory" in line
    assert "up/a" in line and "up/b" in line and "up/*" in line
    assert 0 == cli("summary", "up/*").exit_code  # the way the message gives works (a quoted glob too)


def test_many_runs_below_are_named_up_to_a_few() -> None:
    for i in range(6):
        Path(f"up/deep/s{i}").mkdir(parents=True)
        Path(f"up/deep/s{i}/events.jsonl").write_text("")
    line = cli("summary", "up").stderr
    assert 1 == len(line.splitlines())
    assert "up/deep/s0" in line and "up/deep/s5" not in line and "3 more" in line
    assert "up/*/*" in line


def test_an_empty_directory_keeps_the_plain_message() -> None:
    Path("empty/sub").mkdir(parents=True)
    line = cli("summary", "empty").stderr
    assert "no *.jsonl files in this directory; pass a run directory or a .jsonl file" in line


# --- 5. console=False / True --------------------------------------------------------------------


class TestConsoleBool:
    def test_false_is_off_and_true_the_default_style(self) -> None:
        assert "off" == load_config({"console": False}, env={}).console
        assert "banner" == load_config({"console": True}, env={}).console
        assert "off" == load_config(env={"EVENTLOG_CONSOLE": "false"}).console

    def test_init_console_false_prints_nothing(self) -> None:
        out = io.StringIO()
        eventlog.init("q", run="q", console=False, console_stream=out)
        eventlog.emit("step_metrics", step=1, metrics={"loss": 1.0})
        eventlog.finish()
        assert "" == out.getvalue()

    @pytest.mark.parametrize(
        ("given", "env"), [({"console": 2}, {}), ({"console": "loud"}, {}), ({}, {"EVENTLOG_CONSOLE": "x"})]
    )
    def test_other_values_are_still_refused(self, given: dict[str, Any], env: dict[str, str]) -> None:
        with pytest.raises(ConfigError, match="expected one of banner, compact, off"):
            load_config(given, env=env)


def test_one_run_below_is_named_as_the_path_to_pass() -> None:
    probe_run("up/x/y/r")
    line = cli("table", "up").stderr
    assert line.endswith("the run directory is below it: up/x/y/r; pass it instead\n"), line
