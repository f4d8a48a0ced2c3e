"""Bugs fixed by the CLI restructuring: payload fields that start with ``_``, and the configured columns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import FakeClock, build_fixture_run, cli

PRIVATE = {"_line": "mine", "_file": "theirs", "_note": 7}


def append(run: str, *events: dict[str, Any]) -> None:
    with open(f"{run}/events.jsonl", "a", encoding="utf-8") as f:
        for seq, ev in enumerate(events, start=54):
            f.write(json.dumps({"v": 1, "ts": 1.8e9 + seq, "run": "fx", "rank": 0, "seq": seq, **ev}) + "\n")


@pytest.fixture
def fx(tmp_path: Path, clock: FakeClock) -> str:
    build_fixture_run(Path("fx"))
    return "fx"


class TestPayloadFieldsStartingWithUnderscore:
    def test_samples_json_keeps_them_exactly(self, fx: str) -> None:
        """samples --json writes a user's _line, _file and _note as written, not the reader's bookkeeping."""
        append(fx, {"event": "sample", "step": 9, "output": "o", **PRIVATE})
        rows = json.loads(cli("samples", "--step", "9", "--json", fx).stdout)
        assert [PRIVATE] == [{k: v for k, v in r.items() if k.startswith("_")} for r in rows]

    def test_groups_json_keeps_them(self, fx: str) -> None:
        """groups --json keeps payload fields starting with _ in summaries and details."""
        append(
            fx,
            {"event": "group_summary", "step": 9, "groups_total": 1, **PRIVATE},
            {"event": "group_detail", "step": 9, "group": 0, "rewards": [1.0], **PRIVATE},
        )
        data = json.loads(cli("groups", "--step", "9", "--json", fx).stdout)
        summary = next(s for s in data["summaries"] if s["step"] == 9)
        assert (PRIVATE, PRIVATE) == (
            {k: summary[k] for k in PRIVATE},
            {k: data["details"][0].get(k) for k in PRIVATE},
        )

    def test_filter_writes_the_event_unchanged(self, fx: str) -> None:
        """filter passes an event with _line/_file fields through byte for byte in meaning."""
        ev = {"event": "log", "level": "info", "msg": "m", **PRIVATE}
        append(fx, ev)
        out = [json.loads(x) for x in cli("filter", "--event", "log", fx).stdout.splitlines()]
        assert PRIVATE == {k: out[-1].get(k) for k in PRIVATE}

    def test_grep_json_keeps_them(self, fx: str) -> None:
        """grep --json shows the matching event whole, its _ fields included."""
        append(fx, {"event": "log", "level": "info", "msg": "needle", **PRIVATE})
        hits = json.loads(cli("grep", "--json", "needle", fx).stdout)
        assert PRIVATE == {k: hits[-1]["event"].get(k) for k in PRIVATE}


class TestConfiguredColumns:
    def test_eventlog_columns_is_honoured(self, fx: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """EVENTLOG_COLUMNS picks the table's columns, as it does for the live console."""
        expected = cli("table", "--cols", "step,loss", fx).stdout
        monkeypatch.setenv("EVENTLOG_COLUMNS", "step,loss")
        assert expected == cli("table", fx).stdout

    def test_pyproject_columns_are_honoured(self, fx: str) -> None:
        """[tool.eventlog] columns in pyproject.toml picks the table's columns."""
        expected = cli("table", "--cols", "step,kl", fx).stdout
        Path("pyproject.toml").write_text('[tool.eventlog]\ncolumns = ["step", "kl"]\n')
        assert expected == cli("table", fx).stdout

    def test_environment_beats_the_file(self, fx: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """EVENTLOG_COLUMNS wins over the config file, as at run time."""
        expected = cli("table", "--cols", "step,loss", fx).stdout
        Path("eventlog.toml").write_text('columns = ["step", "kl"]\n')
        monkeypatch.setenv("EVENTLOG_COLUMNS", "step,loss")
        assert expected == cli("table", fx).stdout

    def test_bad_value_is_one_line_naming_the_variable(self, fx: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """An empty EVENTLOG_COLUMNS is a one-line error naming it, exit 1."""
        monkeypatch.setenv("EVENTLOG_COLUMNS", ",")
        result = cli("table", fx)
        assert 1 == result.exit_code
        assert 1 == len(result.stderr.splitlines())
        assert result.stderr.startswith("eventlog: EVENTLOG_COLUMNS=','")
