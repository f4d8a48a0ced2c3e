"""Other writers' odd envelopes and fields that raised a traceback, and a column name read as a glob.

Found by a helper writing files as other tools would (each failed before its fix).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from conftest import cli


def _write(path: Path, events: list[dict[str, Any]]) -> str:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return str(path)


def _ev(seq: int, event: str, ts: Any = None, run: Any = "r", **more: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "ts": 1_700_000_000.0 + seq if ts is None else ts,
        "event": event,
        "run": run,
        "rank": 0,
        "seq": seq,
        **more,
    }


def _run(path: Path, run: Any = "r", start_ts: Any = None, status: Any = "completed") -> str:
    return _write(
        path,
        [
            _ev(0, "run_start", ts=start_ts, run=run),
            _ev(1, "step_metrics", run=run, step=1, metrics={"loss": 1.0}),
            _ev(2, "step_metrics", run=run, step=2, metrics={"loss": 0.5}),
            _ev(3, "run_end", run=run, status=status),
        ],
    )


@pytest.mark.parametrize("run", [5, 2.5])
def test_a_number_as_the_run_name_is_compared_reported_and_plotted(tmp_path: Path, run: Any) -> None:
    """polars raised ``cannot compare string with numeric type`` picking the run's rows."""
    path = _run(tmp_path / "e.jsonl", run=run)
    compared = cli("compare", path, path)
    assert 0 == compared.exit_code
    assert "0.5" in compared.stdout
    assert 0 == cli("report", path, "-o", str(tmp_path / "r.html")).exit_code
    assert f'</span>{run}</td><td class="status-completed">' in (tmp_path / "r.html").read_text()
    assert 0 == cli("plot", "loss", path, "-o", str(tmp_path / "p.png")).exit_code
    assert (tmp_path / "p.png").stat().st_size > 0


@pytest.mark.parametrize("ts", [1_700_000_000_000_000_000, 1e20, "yesterday"])
def test_a_start_time_that_is_no_time_is_a_question_mark_in_the_report(tmp_path: Path, ts: Any) -> None:
    """Nanoseconds (``time.time_ns()``) raised OSError, 1e20 OverflowError, in the report's header."""
    path = _run(tmp_path / "e.jsonl", start_ts=ts)
    path_ok = _run(tmp_path / "ok.jsonl")
    for p, name in ((path, "r"), (path_ok, "ok")):
        text = Path(p).read_text().replace('"event":"run_start"', '"event":"run_start","host":"h1"', 1)
        Path(p).write_text(text)
        assert 0 == cli("report", p, "-o", str(tmp_path / f"{name}.html")).exit_code
    assert "<td>h1</td><td>?</td>" in (tmp_path / "r.html").read_text()
    assert "<td>h1</td><td>2023-11-14 22:13:20 UTC</td>" in (tmp_path / "ok.html").read_text()  # the same row, read


@pytest.mark.parametrize("status", [None, 0, 2.5, ["completed"]])
def test_a_run_end_status_that_is_no_text_is_a_question_mark(tmp_path: Path, status: Any) -> None:
    path = _run(tmp_path / "e.jsonl", status=status)
    assert 0 == cli("report", path, "-o", str(tmp_path / "r.html")).exit_code
    assert "run r: ?" == cli("summary", path).stdout.splitlines()[0]


def test_a_phase_start_whose_ts_is_text_starts_when_the_event_before_it(tmp_path: Path) -> None:
    """``TypeError: unsupported operand type(s) for -: 'str' and 'float'`` in phases, summary, report, compare."""
    path = _write(
        tmp_path / "e.jsonl",
        [
            _ev(0, "run_start"),
            _ev(1, "phase_start", ts="1700000001.0", phase="training", id=0),
            _ev(2, "phase_end", phase="training", id=0, status="ok", duration=1.0),
        ],
    )
    phases = cli("phases", path)
    assert ["training", "+00:00", "1.0s", "ok"] == phases.stdout.splitlines()[2].split()
    assert "training      1   1.0s" in cli("summary", path).stdout
    assert 0 == cli("compare", path, path).exit_code
    assert 0 == cli("report", path, "-o", str(tmp_path / "r.html")).exit_code


@pytest.mark.parametrize("metrics", [[1, 2], "loss=1", 3])
def test_replay_of_metrics_that_are_no_map_shows_the_step(tmp_path: Path, metrics: Any) -> None:
    """``IndexError`` in the step line's renderer; ``validate`` names the line."""
    path = _write(
        tmp_path / "e.jsonl", [_ev(0, "run_start"), _ev(1, "step_metrics", step=1, metrics=metrics, timing="1s")]
    )
    assert "[Step 1]" in cli("replay", path).stdout
    assert "e.jsonl:2" in cli("validate", path).stdout


def test_a_column_name_that_is_also_a_glob_is_that_column(tmp_path: Path) -> None:
    """``--cols 'acc[val]'`` showed ``accv`` (the glob ``acc[val]`` matches it) and not the metric ``acc[val]``."""
    path = _write(
        tmp_path / "e.jsonl",
        [
            _ev(0, "run_start"),
            *(_ev(s, "step_metrics", step=s, metrics={"acc[val]": s, "accv": 100 + s}) for s in (1, 2)),
        ],
    )
    assert ["step", "acc[val]"] == cli("table", "--cols", "acc[val]", path).stdout.splitlines()[0].split()
    assert ["step", "accv"] == cli("table", "--cols", "acc[v]*", path).stdout.splitlines()[0].split()


def _ranked(path: Path, rank: Any, **odd: Any) -> str:
    """A small run whose events all carry ``rank``; ``odd`` replaces fields of its log and phase events."""
    path.mkdir()
    events = [
        _ev(0, "run_start"),
        _ev(1, "phase_start", phase="training", id=odd.get("id", 0)),
        _ev(2, "step_metrics", step=1, metrics={"loss": 1.0}),
        _ev(3, "log", level=odd.get("level", "warning"), msg="x", phase_id=odd.get("id", 0)),
        _ev(4, "phase_end", phase="training", id=odd.get("id", 0), status="ok", duration=2.0),
        _ev(5, "eval_summary", step=1, split="val", metrics={"acc": 0.5}),
        _ev(6, "run_end", status="completed"),
    ]
    return _write(path / "events.jsonl", [{**e, "rank": rank} for e in events])


ODD_COMMANDS = [
    ["replay"],
    ["grep", "x"],
    ["summary"],
    ["phases"],
    ["validate"],
    ["watch", "--once"],
    ["compare", "{path}"],
    ["report", "-o", "{tmp}/r.html"],
    ["plot", "loss", "-o", "{tmp}/p.png"],
]


@pytest.mark.parametrize("args", ODD_COMMANDS, ids=lambda a: a[0])
@pytest.mark.parametrize(
    "odd", [{"rank": [1]}, {"rank": {"a": 1}}, {"id": {"a": 1}}, {"id": [0]}, {"level": ["warning"]}], ids=str
)
def test_a_list_or_object_as_a_rank_phase_id_or_level_is_a_value_of_its_own(
    tmp_path: Path, args: list[str], odd: dict[str, Any]
) -> None:
    """``TypeError: unhashable type`` in summary, phases, validate, watch, compare, report, replay and grep."""
    path = _ranked(tmp_path / "run", odd.pop("rank", 0), **odd)
    result = cli(*(a.format(path=path, tmp=tmp_path) for a in args), path)
    assert result.exit_code in (0, 1), result.output


def test_a_rank_written_as_text_is_that_rank(tmp_path: Path) -> None:
    """``"rank": os.environ["RANK"]``: the run read as interrupted, with no steps, and watch saw no rank 0."""
    path = _ranked(tmp_path / "run", "0")
    assert ["run", "r:", "completed"] == cli("summary", path).stdout.splitlines()[0].split()
    assert ["1", "-", "1"] == cli("table", path).stdout.splitlines()[1].split()[:3]
    assert "no events of rank 0" not in cli("watch", "--once", path).stdout


@pytest.mark.parametrize("field,value", [("rewards", 0.5), ("rewards", {"a": 1}), ("turn_advantages", [0.1, 0.2])])
def test_groups_of_a_detail_whose_lists_are_not_lists(tmp_path: Path, field: str, value: Any) -> None:
    """``TypeError: object of type 'float' has no len()`` / ``KeyError: 0`` in the advantages table."""
    detail = {"step": 1, "group": 0, "rewards": [1.0, 0.0], "turn_advantages": [[0.1], [0.2]], field: value}
    path = _write(tmp_path / "e.jsonl", [_ev(0, "run_start"), _ev(1, "group_detail", **detail)])
    result = cli("groups", path)
    assert 0 == result.exit_code
    assert "Turn-by-turn advantages: step 1, group 0" in result.stdout


def test_a_group_count_written_as_a_list_leaves_the_report_chart_without_it(tmp_path: Path) -> None:
    """polars ``conversion from str to f64 failed in column 'groups_kept'``."""
    summary = {"step": 1, "groups_total": 4, "groups_kept": [3], "groups_filtered": 1}
    path = _write(tmp_path / "e.jsonl", [_ev(0, "run_start"), _ev(1, "group_summary", **summary)])
    assert 0 == cli("report", path, "-o", str(tmp_path / "r.html")).exit_code
