"""Evals without a split beside evals of a split are a series of their own, never mixed into one.

A run that logs ``eval_summary`` both with ``"split": "val"`` and without a split (two evaluators,
or a loop that names only some) made one ``accuracy`` series of both in ``trend``, ``summary`` and
``compare`` when it had one named split (step 10 twice, the last value whichever came last), and
``summary`` dropped the unsplit evals when it had two named splits.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from conftest import cli


def _run(path: Path, evals: list[tuple[int, str | None, float]]) -> str:
    lines = [orjson.dumps({"v": 1, "ts": 1.0, "event": "run_start", "run": "r", "rank": 0, "seq": 0})]
    for i, (step, split, acc) in enumerate(evals):
        ev = {"v": 1, "ts": 2.0 + i, "event": "eval_summary", "run": "r", "rank": 0, "seq": i + 1, "step": step}
        ev["metrics"] = {"accuracy": acc}
        if split is not None:
            ev["split"] = split
        lines.append(orjson.dumps(ev))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return str(path)


ONE = [(10, None, 0.1), (10, "val", 0.5), (20, None, 0.2), (20, "val", 0.6)]
TWO = [(10, None, 0.1), (10, "val", 0.5), (10, "test", 0.7), (20, None, 0.2), (20, "val", 0.6), (20, "test", 0.8)]


@pytest.mark.parametrize("evals", [ONE, TWO], ids=["one named split", "two named splits"])
def test_trend_keeps_the_unsplit_series_apart(tmp_path: Path, evals: list[tuple[int, str | None, float]]) -> None:
    result = cli("trend", "accuracy", "--json", _run(tmp_path / "r.jsonl", evals))
    assert result.exit_code == 0, result.output
    series: dict[str | None, list[tuple[int, float]]] = {}
    for row in orjson.loads(result.stdout)["rows"]:
        series.setdefault(row["split"], []).append((row["step"], row["value"]))
    assert series[None] == [(10, 0.1), (20, 0.2)]
    assert series["val"] == [(10, 0.5), (20, 0.6)]


@pytest.mark.parametrize("evals", [ONE, TWO], ids=["one named split", "two named splits"])
def test_summary_names_each_series(tmp_path: Path, evals: list[tuple[int, str | None, float]]) -> None:
    result = cli("summary", "--json", _run(tmp_path / "r.jsonl", evals))
    assert result.exit_code == 0, result.output
    metrics = {m["metric"]: m["last"] for m in orjson.loads(result.stdout)["runs"][0]["metrics"]}
    assert metrics["eval.accuracy"] == 0.2  # the unsplit evals' own last value
    assert metrics["eval.accuracy [val]"] == 0.6


def test_compare_compares_split_by_split(tmp_path: Path) -> None:
    a, b = _run(tmp_path / "a.jsonl", ONE), _run(tmp_path / "b.jsonl", ONE)
    result = cli("compare", "--json", a, b)
    assert result.exit_code == 0, result.output
    finals = {(m["metric"], m["run"]): m["final"] for m in orjson.loads(result.stdout)["metrics"]}
    assert finals[("eval.accuracy", "r #1")] == 0.2
    assert finals[("eval.accuracy [val]", "r #1")] == 0.6
    assert finals[("eval.accuracy", "r #2")] == 0.2


def test_one_kind_alone_is_one_series(tmp_path: Path) -> None:
    only_val = [(10, "val", 0.5), (20, "val", 0.6)]
    result = cli("trend", "accuracy", "--json", _run(tmp_path / "r.jsonl", only_val))
    assert [r.get("split") for r in orjson.loads(result.stdout)["rows"]] == [None, None]  # no split key: one series
    result = cli("summary", "--json", str(tmp_path / "r.jsonl"))
    assert [m["metric"] for m in orjson.loads(result.stdout)["runs"][0]["metrics"]] == ["eval.accuracy"]
