"""A value that is not a number is named by its line, and by its file when a run has several (rank files).

"metrics.loss: 1 value(s) are not numbers (line 3)" did not say which of a directory's rank files
line 3 was in; with several files each place is ``path:line``. Both the typed reader and the
forgiving path (a value of another type than the schema's) say it so.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from conftest import cli


def _write(path: Path, rank: int, bad_at: int | None, extra: bool = False) -> None:
    lines = []
    for i in range(4):
        metrics: dict[str, object] = {"loss": "high" if i == bad_at else 0.5 - i / 10}
        ev: dict[str, object] = {"v": 1, "ts": 10.0 + i, "event": "step_metrics", "run": "r", "rank": rank}
        ev.update(seq=i, step=i + 1, metrics=metrics)
        if extra and i == 0:
            ev["epoch"] = [1]  # a list where the schema has a number: the forgiving path reads the type
        lines.append(orjson.dumps(ev))
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_one_file_names_the_line(tmp_path: Path) -> None:
    _write(tmp_path / "events.jsonl", 0, 2)
    result = cli("table", "--cols", "step,loss", "--json", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "metrics.loss: 1 value(s) are not numbers (line 3); shown as empty" in result.stderr


def test_rank_files_name_the_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path / "events.jsonl", 0, None)
    _write(tmp_path / "events.rank1.jsonl", 1, 1)
    result = cli("table", "--cols", "step,loss", "--json", str(tmp_path))
    assert result.exit_code == 0, result.output
    where = f"{tmp_path / 'events.rank1.jsonl'}:2"
    assert f"metrics.loss: 1 value(s) are not numbers (at {where}); shown as empty" in result.stderr


def test_the_forgiving_path_names_the_file_too(tmp_path: Path) -> None:
    _write(tmp_path / "events.jsonl", 0, 3, extra=True)
    _write(tmp_path / "events.rank1.jsonl", 1, 0, extra=True)
    result = cli("table", "--cols", "step,loss", "--json", str(tmp_path))
    assert result.exit_code == 0, result.output
    first, second = tmp_path / "events.jsonl", tmp_path / "events.rank1.jsonl"
    assert f"metrics.loss: 2 value(s) are not numbers (at {second}:1, {first}:4); shown as empty" in result.stderr
    assert [1, 2, 3, 4] == sorted({r["step"] for r in orjson.loads(result.stdout)})
