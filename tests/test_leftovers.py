"""Small defects found by trying the merged main as a new user (issue 12): each test failed before its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import eventlog
from conftest import cli


def _write(path: Path, *events: dict[str, Any], tail: str = "", envelope_first: bool = False) -> None:
    """Events as json.dumps writes them: ``"seq": 0``; the event type after the envelope, or first like eventlog's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, ev in enumerate(events):
        head: dict[str, Any] = {"v": 1, "ts": 1.7e9 + i}
        if envelope_first:
            head["event"] = ev["event"]
        lines.append(json.dumps({**head, "run": "x", "rank": 0, "seq": i, **ev}) + "\n")
    path.write_text("".join(lines) + tail, encoding="utf-8")


STEPS = [{"event": "run_start"}] + [{"event": "step_metrics", "step": s, "metrics": {"loss": 1.0 / s}} for s in (1, 2)]


class TestPathWithBrackets:
    """polars' scan_lines reads a path as a glob unless told not to: runs/exp[1] read as nothing."""

    @pytest.mark.parametrize("target", ["exp[1]", "exp[1]/events.jsonl"])
    def test_table_reads_the_file_and_names_the_torn_line(self, target: str) -> None:
        _write(Path("exp[1]/events.jsonl"), *STEPS, tail='{"v":1,"ts":3')
        r = cli("table", "--json", target)
        assert r.exit_code == 0, r.output
        assert [row["step"] for row in json.loads(r.stdout)] == [1, 2]
        assert "exp[1]/events.jsonl:4: the last line is incomplete" in r.stderr

    def test_validate_counts_every_event(self) -> None:
        _write(Path("exp[1]/events.jsonl"), *STEPS, tail='{"v":1,"ts":3')
        r = cli("validate", "exp[1]")
        assert "3 events checked" in r.stdout
        assert "Traceback" not in r.output


class TestResumeAfterAnotherWriter:
    def test_seq_continues_after_json_dumps_default_separators(self) -> None:
        """``"seq": 4`` (json.dumps' ", " and ": ") is continued, not restarted at 0."""
        path = Path("runs/r/events.jsonl")
        _write(path, *STEPS, {"event": "log", "level": "info", "msg": "m"})
        assert '"seq": 3' in path.read_text()
        eventlog.init("runs/r", run="x", console="off")
        eventlog.finish()
        seqs = [json.loads(line)["seq"] for line in path.read_text().splitlines()]
        assert seqs == list(range(len(seqs))) and len(seqs) == 6

    def test_a_nested_seq_key_is_not_the_envelopes(self) -> None:
        """The envelope's seq is the top-level one, wherever a writer puts it in the line."""
        path = Path("runs/r/events.jsonl")
        path.parent.mkdir(parents=True)
        line = {"event": "log", "level": "info", "msg": "m", "extra": {"seq": 99}, "v": 1, "ts": 1.7e9, "seq": 7}
        path.write_text(json.dumps(line) + "\n")
        eventlog.init("runs/r", run="x", console="off")
        eventlog.finish()
        assert [json.loads(x)["seq"] for x in path.read_text().splitlines()][1:] == [8, 9]

    def test_a_bare_nan_line_still_gives_its_seq(self) -> None:
        """json.dumps writes a bare NaN, which a strict decoder refuses: the seq is still found."""
        path = Path("runs/r/events.jsonl")
        _write(path, {"event": "step_metrics", "step": 1, "metrics": {"loss": float("nan")}}, {"event": "log"})
        assert "NaN" in path.read_text()
        eventlog.init("runs/r", run="x", console="off")
        eventlog.finish()
        assert '"seq":2' in path.read_text().splitlines()[2]


class TestFifo:
    def test_init_on_a_fifo_with_no_reader_is_a_one_line_config_error(self) -> None:
        """Run in a child with a timeout: before, open() blocked forever waiting for a reader."""
        os.makedirs("runs/f")
        os.mkfifo("runs/f/events.jsonl")
        code = (
            "import eventlog\ntry:\n    eventlog.init('runs/f', run='f', console='off')\n"
            "except Exception as e:\n    print(type(e).__name__, e)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.stdout.splitlines() == [
            "ConfigError runs/f/events.jsonl is a FIFO that no process reads; "
            "remove it, open a reader first, or pass another dir to init()"
        ]

    def test_a_fifo_with_a_reader_gets_the_events(self) -> None:
        """A reader holds the FIFO open (a consumer, or the slow disk of test_reliability2): events stream into it."""
        os.makedirs("runs/f")
        os.mkfifo("runs/f/events.jsonl")
        reader = os.open("runs/f/events.jsonl", os.O_RDONLY | os.O_NONBLOCK)
        try:
            eventlog.init("runs/f", run="f", console="off")
            eventlog.finish()
            got = os.read(reader, 1 << 16).decode().splitlines()
        finally:
            os.close(reader)
        assert [json.loads(x)["event"] for x in got] == ["run_start", "run_end"]


class TestNoRunWarning:
    @pytest.mark.parametrize("call", ["flush", "finish", "current_run", "set_step"])
    def test_calls_that_lose_nothing_do_not_warn(self, call: str) -> None:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            getattr(eventlog, call)(*([3] if call == "set_step" else []))
        assert [str(w.message) for w in seen] == []

    def test_an_emit_warns_once_naming_the_event(self) -> None:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            eventlog.flush()
            eventlog.emit("log", level="info", msg="lost")
            eventlog.emit("log", level="info", msg="lost too")
        assert [str(w.message) for w in seen] == [
            "eventlog: event 'log' emitted before init(); it and later events are not recorded "
            "until eventlog.init() is called"
        ]


class TestClosedPipe:
    @pytest.mark.parametrize("command", ["summary", "table"])
    def test_a_reader_that_stops_early_is_exit_0_quietly(self, command: str) -> None:
        """``eventlog summary run | head -3``: rich's own handler exited 1; a closed pipe is exit 0 (commands._exit)."""
        _write(Path("r/events.jsonl"), *STEPS)
        exe = str(Path(sys.executable).with_name("eventlog"))
        p = subprocess.Popen([exe, command, "r"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert p.stdout is not None and p.stderr is not None
        p.stdout.close()  # before the command writes anything: its first write meets a closed pipe
        err = p.stderr.read()
        assert (p.wait(timeout=60), err) == (0, b"")


class TestJsonDumpsNaN:
    """A file written with json.dumps: a NaN loss is the bare token NaN, which orjson refuses."""

    @pytest.mark.parametrize("envelope_first", [False, True])
    def test_table_keeps_the_step_with_its_nan(self, envelope_first: bool) -> None:
        _write(
            Path("d/events.jsonl"),
            *[
                {"event": "step_metrics", "step": s, "metrics": {"loss": v}}
                for s, v in ((1, 1.0), (2, float("nan")), (3, float("inf")))
            ],
        )
        r = cli("table", "--json", "d")
        rows = json.loads(r.stdout)
        assert [row["step"] for row in rows] == [1, 2, 3]
        assert [row["loss"] for row in rows] == [1.0, "NaN", "Infinity"]
        assert r.stderr == ""

    def test_summary_names_the_nan_step(self) -> None:
        _write(
            Path("d/events.jsonl"),
            *[{"event": "step_metrics", "step": s, "metrics": {"loss": v}} for s, v in ((1, 1.0), (2, float("nan")))],
        )
        assert "metrics.loss is NaN/Inf at step(s) 2" in cli("summary", "d").stdout


class TestLinesSkippedWhileDecoding:
    def test_a_damaged_line_with_a_valid_envelope_prefix_is_named_on_stderr(self) -> None:
        """It was dropped silently; then named while decoding; now checked whole by the scan and named in its report."""
        _write(Path("b/events.jsonl"), *STEPS, envelope_first=True)
        text = Path("b/events.jsonl").read_text().splitlines()
        text[1] = text[1][:-1] + "x}"
        Path("b/events.jsonl").write_text("\n".join(text) + "\n")
        r = cli("table", "--json", "b")
        assert [row["step"] for row in json.loads(r.stdout)] == [2]
        assert r.stderr.count("1 damaged line(s) skipped: events.jsonl:2 (not valid JSON") == 1
        assert 1 == len(r.stderr.splitlines())


def test_trend_of_one_point_says_point() -> None:
    """A single point was shown as "(1 points)"."""
    _write(Path("one/events.jsonl"), {"event": "step_metrics", "step": 1, "metrics": {"loss": 1.0}})
    assert "(1 point)" in cli("trend", "loss", "one").stdout
