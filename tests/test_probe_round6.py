"""Odd inputs a new user tried (a helper probing the CLI): each was a traceback, a hang or a wrong answer."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

from conftest import cli
from conftest import write_events as _write


def _steps(n: int, run: str = "r") -> list[dict]:
    return [{"event": "step_metrics", "run": run, "step": s, "metrics": {"loss": 1 / s}} for s in range(1, n + 1)]


def test_last_more_than_the_rows_shows_them_all(tmp_path: Path) -> None:
    path = _write(tmp_path / "run.jsonl", _steps(6))
    result = cli("table", "--last", "7", "--json", str(path))
    assert [r["step"] for r in orjson.loads(result.stdout)] == [1, 2, 3, 4, 5, 6]  # was []
    assert [r["step"] for r in orjson.loads(cli("table", "--last", "2", "--json", str(path)).stdout)] == [5, 6]


def test_negative_grep_context_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "run.jsonl", _steps(3))
    result = cli("grep", "-C", "-1", "loss", str(path))
    assert result.exit_code == 2
    assert "-1 is not in the range" in result.output


def test_watch_with_a_metric_never_numeric(tmp_path: Path) -> None:
    path = _write(tmp_path / "run.jsonl", [{"event": "step_metrics", "step": 1, "metrics": {"loss": "0.5"}}])
    result = cli("watch", "--once", str(path))
    assert result.exit_code == 0, result.output  # was IndexError


def test_watch_refuses_what_it_cannot_follow(tmp_path: Path) -> None:
    plain = _write(tmp_path / "run.jsonl", _steps(2))
    packed = tmp_path / "run.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    only_gz = tmp_path / "packed_run"
    only_gz.mkdir()
    (only_gz / "events.jsonl.gz").write_bytes(packed.read_bytes())
    for target in (str(packed), "-", str(only_gz)):
        result = cli("watch", "--once", target)
        assert result.exit_code == 2, result.output  # was "waiting for ... to appear" for ever
        assert "not stdin or gzip" in result.output


def test_trend_with_an_eval_without_step_beside_another_split(tmp_path: Path) -> None:
    evals = [
        {"event": "eval_summary", "step": 1, "split": "val", "metrics": {"accuracy": 0.5}},
        {"event": "eval_summary", "split": "test", "metrics": {"accuracy": 0.6}},
    ]
    result = cli("trend", "accuracy", str(_write(tmp_path / "run.jsonl", evals)))
    assert result.exit_code == 0, result.output  # was TypeError comparing None and int
    assert ["-", "0.6", "★"] in [line.split() for line in result.stdout.splitlines()]  # the step-less row, last


def test_summary_with_a_text_rank_or_ts(tmp_path: Path) -> None:
    for field, value in (("rank", "0"), ("ts", "x")):
        ev = {"event": "step_metrics", "step": 1, "metrics": {"loss": 1.0}}
        path = _write(tmp_path / f"{field}.jsonl", [ev])
        text = path.read_bytes().replace(
            b'"%s":%s' % (field.encode(), b"0" if field == "rank" else b"1750000000.0"),
            b'"%s":"%s"' % (field.encode(), value.encode()),
        )
        assert text != path.read_bytes()
        path.write_bytes(text)
        result = cli("summary", str(path))
        assert result.exit_code == 0, result.output  # was a polars ComputeError / InvalidOperationError
        if field == "rank":  # os.environ["RANK"] logged as is: that rank (round 9), with its step
            assert "steps 1/-" in result.output
            assert "not numbers" not in result.output
        else:
            assert f"{field}: 1 value(s) are not numbers" in result.output


def test_two_runs_in_one_file_are_not_a_resume(tmp_path: Path) -> None:
    events = [{"event": "run_start", "run": "r"}, *_steps(2), {"event": "run_start", "run": "r2"}, *_steps(2, "r2")]
    result = cli("table", str(_write(tmp_path / "run.jsonl", events)))
    assert result.exit_code == 0, result.output
    assert "resumed" not in result.output
    again = [{"event": "run_start", "run": "r"}, *_steps(2), {"event": "run_start", "run": "r"}, *_steps(3)]
    assert "resumed" in cli("table", str(_write(tmp_path / "again.jsonl", again))).output


def test_filter_keeps_nan_and_infinity_spelled(tmp_path: Path) -> None:
    """A json.dumps file's bare NaN / Infinity come out as the event files spell them, not as null."""
    path = tmp_path / "run.jsonl"
    path.write_text(
        '{"v": 1, "ts": 1.0, "event": "step_metrics", "run": "r", "rank": 0, "seq": 0, "step": 1, '
        '"metrics": {"loss": NaN, "kl": Infinity, "x": -Infinity}}\n'
    )
    out = cli("filter", str(path)).stdout
    assert orjson.loads(out)["metrics"] == {"loss": "NaN", "kl": "Infinity", "x": "-Infinity"}


def test_samples_with_one_golden_answer_and_no_extracted(tmp_path: Path) -> None:
    sample = {"event": "sample", "step": 1, "split": "val", "index": 0, "golden": "notalist", "extracted": None}
    out = cli("samples", str(_write(tmp_path / "run.jsonl", [{**sample, "output": "o"}]))).stdout
    assert "Golden:    notalist" in out  # was "n, o, t, a, l, i, s, t"
    assert "Extracted: -" in out  # was "None"


def test_a_glob_spelled_with_metrics_prefix(tmp_path: Path) -> None:
    ev = {"event": "step_metrics", "step": 1, "metrics": {"reward_mean": 1.0, "reward_std": 2.0, "loss": 3.0}}
    path = _write(tmp_path / "run.jsonl", [ev])
    both = [cli("table", "--cols", spec, "--json", str(path)).stdout for spec in ("metrics.reward_*", "reward_*")]
    assert both[0] == both[1]
    assert list(orjson.loads(both[0])[0]) == ["step", "reward_mean", "reward_std"]
