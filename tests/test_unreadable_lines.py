"""Lines no command can use whole are set aside by the scan with their line number, never a traceback later.

Found by trying other writers' output: a lone surrogate escape beside json.dumps' bare ``NaN`` (the lenient
path took the line that msgspec refuses alone, and printing it raised UnicodeEncodeError), and lists or
objects nested deeper than orjson writes (254 levels: ``filter`` and ``export`` raised) or than msgspec reads
(about 1,000: RecursionError in every command). The limit is 250 levels, so an output that wraps an event in a
list still writes it.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from eventlog_cli._app import app
from eventlog_cli.read import TOO_DEEP, load, loads_lenient, too_deep

COMMANDS = [
    ["replay"],
    ["grep", "x"],
    ["filter"],
    ["filter", "--event", "log"],
    ["validate"],
    ["summary"],
    ["samples"],
    ["table"],
]


def _cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def _file(path: Path, middle: bytes) -> str:
    start = b'{"v":1,"ts":1.0,"event":"run_start","run":"r","rank":0,"seq":0}'
    metrics = b'{"v":1,"ts":1.5,"event":"step_metrics","run":"r","rank":0,"seq":1,"step":1,"metrics":{"loss":1.0}}'
    end = b'{"v":1,"ts":9.0,"event":"log","run":"r","rank":0,"seq":3,"level":"info","msg":"x after"}'
    path.write_bytes(b"\n".join([start, metrics, middle, end]) + b"\n")
    return str(path)


def _nested(depth: int) -> bytes:
    return (
        b'{"v":1,"ts":2.0,"event":"log","run":"r","rank":0,"seq":2,"level":"info","msg":"x deep","extra":'
        + b"[" * depth
        + b"]" * depth
        + b"}"
    )


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_lone_surrogate_beside_a_bare_nan_is_damage_as_it_is_alone(tmp_path: Path, args: list[str]) -> None:
    line = b'{"v":1,"ts":2.0,"event":"log","run":"r","rank":0,"seq":2,"level":"info","msg":"x \\ud800","v2":NaN}'
    path = _file(tmp_path / "e.jsonl", line)
    result = _cli(*args, path)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if args[0] not in ("table", "samples"):  # they read step_metrics, sample events: not this line
        assert "e.jsonl:3" in result.stderr + result.stdout or "line 3" in result.stdout, result.stderr
    assert "\ud800" not in result.stdout


def test_loads_lenient_refuses_a_lone_surrogate_at_any_depth() -> None:
    assert loads_lenient(b'{"a":NaN,"b":{"k\\udc00":1}}') is None
    assert loads_lenient(b'{"a":NaN,"b":["\\ud83d\\ude00"]}') == {
        "a": pytest.approx(float("nan"), nan_ok=True),
        "b": ["\U0001f600"],
    }


@pytest.mark.parametrize("depth", [256, 600, 1000, 3000])
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_line_nested_too_deeply_is_named_and_the_rest_is_read(tmp_path: Path, args: list[str], depth: int) -> None:
    path = _file(tmp_path / "e.jsonl", _nested(depth))
    result = _cli(*args, path)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if args[0] == "table":
        assert "loss" in result.stdout
    if args[0] in ("table", "samples") or (args[0] == "summary" and depth < 1000):
        return  # they read step_metrics, sample events, or a log line's level and message only: not its depth
    assert "e.jsonl:3" in result.stderr + result.stdout or "line 3" in result.stdout, result.stderr
    if args[0] in ("replay", "grep", "filter"):
        assert "x after" in result.stdout
        assert "x deep" not in result.stdout


def test_a_long_string_of_brackets_costs_no_more_than_its_size(tmp_path: Path) -> None:
    """A model's JSON or code output: 2 million brackets in one string (a regex over the line took 2 GB)."""
    line = orjson.dumps({**orjson.loads(_nested(1)), "extra": orjson.dumps([[i, i] for i in range(200_000)]).decode()})
    assert not too_deep(line, orjson.loads(line))
    path = _file(tmp_path / "e.jsonl", line)
    result = _cli("filter", "--event", "log", path)
    assert 0 == result.exit_code, result.stderr
    assert orjson.loads(line) == orjson.loads(result.stdout.splitlines()[0])


def test_the_reason_says_what_and_why(tmp_path: Path) -> None:
    loaded = load([_file(tmp_path / "e.jsonl", _nested(300))])
    assert ["x after"] == [r.event.get("msg") for r in loaded.stream(["log"])]
    assert [(3, TOO_DEEP)] == [(s.line, s.reason) for s in loaded.skipped]
    deeper = load([_file(tmp_path / "f.jsonl", _nested(3000))])  # msgspec's limit: set aside by the scan
    assert [(3, TOO_DEEP)] == [(s.line, s.reason) for s in deeper.skipped]
    assert "250" in TOO_DEEP


def test_as_deep_as_the_limit_is_read_and_written_back_whole(tmp_path: Path) -> None:
    """250 levels (the envelope's object and 249 lists), and a string of 600 brackets that are not nesting."""
    line = _nested(249)[:-1] + b',"s":"' + b"[" * 600 + b'"}'
    assert not too_deep(line, orjson.loads(line))
    assert too_deep(_nested(250), orjson.loads(_nested(250)))
    path = _file(tmp_path / "e.jsonl", line)
    result = _cli("filter", "--event", "log", path)
    assert 0 == result.exit_code, result.stderr
    assert [orjson.loads(line)] == [orjson.loads(x) for x in result.stdout.splitlines()][:1]
    assert "" == result.stderr
