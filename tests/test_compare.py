"""eventlog compare: config differences, metrics side by side, evals by step, phase shares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from conftest import FakeClock, build_fixture_run, cli


def append_config_update(run_dir: Path, config: dict[str, Any]) -> None:
    """A config_update after the run's last event (next seq, same run and rank)."""
    path = run_dir / "events.jsonl"
    last = orjson.loads(path.read_bytes().splitlines()[-1])
    ev = {"v": 1, "ts": last["ts"] + 1, "event": "config_update", "run": last["run"], "rank": 0}
    ev |= {"seq": last["seq"] + 1, "config": config}
    with path.open("ab") as f:
        f.write(orjson.dumps(ev) + b"\n")


@pytest.fixture
def two(tmp_path: Path, clock: FakeClock) -> tuple[str, str]:
    build_fixture_run(Path("a"))
    build_fixture_run(Path("b"))
    append_config_update(Path("b"), {"lr": 0.2, "warmup": 5})
    return "a", "b"


class TestCompare:
    def test_table(self, two: tuple[str, str], golden) -> None:
        """Runs, config changes and additions, metrics with differences, evals by step, phase shares."""
        result = cli("compare", *two)
        assert 0 == result.exit_code, result.stderr
        golden("cli_compare", result.stdout)

    def test_json(self, two: tuple[str, str]) -> None:
        """--json: same-id runs stay apart, config diff keyed by label, final/best with differences."""
        data = json.loads(cli("compare", "--json", *two).stdout)
        assert ["a", "b"] == [r["label"] for r in data["runs"]]
        config = {c["key"]: c for c in data["config"]}
        assert {"a": 0.1, "b": 0.2} == config["lr"]["values"]
        assert ("added", {"b": 5}) == (config["warmup"]["status"], config["warmup"]["values"])
        acc = [m for m in data["metrics"] if m["metric"] == "eval.accuracy"]
        assert ["a", "b"] == [m["run"] for m in acc]
        assert [0.75, 0.75] == [m["final"] for m in acc]
        assert [None, 0.0] == [m["diff_final"] for m in acc]
        loss = next(m for m in data["metrics"] if m["metric"] == "step.loss")
        assert (0.125, 4) == (loss["best"], loss["best_step"])  # the NaN at step 3 is never the best
        assert [0, 2, 4] == [r["step"] for r in data["evals"][0]["rows"]]

    def test_csv_is_the_metrics_table(self, two: tuple[str, str]) -> None:
        """--csv: a row per metric and run, the JSON's metrics rows."""
        lines = cli("compare", "--csv", *two).stdout.splitlines()
        assert "metric,run,final,final_step,best,best_step,diff_final,diff_best" == lines[0]
        assert "eval.accuracy,a,0.75,4,0.75,4,," == lines[1]
        assert "eval.accuracy,b,0.75,4,0.75,4,0.0,0.0" == lines[2]

    def test_one_run_is_a_usage_error(self, two: tuple[str, str]) -> None:
        """compare with one run: one line, exit 2."""
        result = cli("compare", "a")
        assert 2 == result.exit_code
        assert "eventlog: compare needs at least two runs; a holds one\n" == result.stderr

    def test_help(self) -> None:
        """-h and --help work."""
        for flag in ("--help", "-h"):
            result = cli("compare", flag)
            assert 0 == result.exit_code and "Usage" in result.stdout
