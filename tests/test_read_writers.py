"""The read layer on any writer's JSONL: spellings, escapes, chunked streams, odd paths, export names, --where depth.

The acceptance tests (test_real_runs.py, test_reliability2.py) pin the commands on two re-encodings;
these pin the mechanism underneath on the spellings they do not try.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eventlog_cli._app import app
from eventlog_cli.commands.export import file_stem
from eventlog_cli.errors import UsageError
from eventlog_cli.query import compile_where
from eventlog_cli.read import _paths, load


def ev(event: str, seq: int, **payload: Any) -> dict[str, Any]:
    return {"v": 1, "ts": 1000.0 + seq, "event": event, "run": "w", "rank": 0, "seq": seq, **payload}


def run_events() -> list[dict[str, Any]]:
    out = [ev("run_start", 0, config={"event": "step_metrics", "metrics": {"decoy": 1}})]
    for s in (1, 2, 3):
        m = {"loss": 1.0 / s, "acc{top1}": 0.25 * s, 'say "hi": x': float(s), "rewards/acc": 0.1 * s, "é": 2.0 * s}
        out.append(ev("step_metrics", len(out), step=s, metrics=m))
    out.append(ev("eval_summary", len(out), step=3, split="val", metrics={"accuracy": 0.5}))
    out.append(ev("run_end", len(out), status="completed", duration=9.0))
    return out


def compact(e: dict[str, Any]) -> str:
    return json.dumps(e, separators=(",", ":"), ensure_ascii=False)


def spaced_colons(e: dict[str, Any]) -> str:
    """A writer that puts spaces on both sides of ':' (valid JSON, no library does it by default)."""
    return json.dumps(e, separators=(" , ", " : "))


def sorted_nested_first(e: dict[str, Any]) -> str:
    """Sorted keys: run_start's config (holding a nested "event" and "metrics") comes before the real ones."""
    return json.dumps(e, sort_keys=True, separators=(",", ":"))


def escaped_type_and_keys(e: dict[str, Any]) -> str:
    """The envelope in eventlog's order, but '/' written '\\/' and the type's 's' as \\u0073 (PHP-like)."""
    text = compact(e).replace("/", "\\/")
    return text.replace(f'"event":"{e["event"]}"', '"event":"' + e["event"].replace("s", "\\u0073") + '"')


WRITERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "spaced_colons": spaced_colons,
    "sorted_nested_first": sorted_nested_first,
    "escaped_type_and_keys": escaped_type_and_keys,
}
COMMANDS = [
    ["table", "--json"],
    ["table", "--json", "--cols", "step,rewards/acc,acc{top1}"],
    ["trend", "rewards/acc", "--json"],
    ["trend", "step.acc{top1}", "--json"],
    ["eval", "--json"],
    ["summary", "--json"],
    ["filter", "--event", "step_metrics"],
    ["validate", "--json"],
]


def write(path: Path, dumps: Callable[[dict[str, Any]], str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(dumps(e) + "\n" for e in run_events()), encoding="utf-8")
    return path


def invoke(args: list[str], stdin: bytes | None = None) -> tuple[int, Any]:
    result = CliRunner().invoke(app, args, input=stdin)
    out = result.stdout
    if args[0] == "filter":
        return result.exit_code, [json.loads(x) for x in out.splitlines()]
    return result.exit_code, json.loads(out) if out.strip() else out


class TestAnySpelling:
    @pytest.mark.parametrize("writer", list(WRITERS))
    def test_same_answer_as_compact(self, writer: str, tmp_path: Path) -> None:
        """Spaces around ':', a nested "event" before the real one, escaped types and keys: the same answers."""
        a = write(tmp_path / "a" / "events.jsonl", compact)
        b = write(tmp_path / "b" / "events.jsonl", WRITERS[writer])
        for cmd in COMMANDS:
            want, got = invoke([*cmd, str(a)]), invoke([*cmd, str(b)])
            if cmd[0] == "summary":  # the warnings name the file, the run its directory
                text = json.dumps(got[1]).replace(str(b), str(a)).replace(str(b.parent), str(a.parent))
                got = (got[0], json.loads(text))
                # Metrics are listed as first seen in the file: a writer that sorts the keys inside
                # "metrics" changes that order (the data's own order), not the values.
                for out in (want[1], got[1]):
                    for run in out["runs"]:
                        run["metrics"].sort(key=lambda m: m["metric"])
            assert want == got, cmd
            assert 0 == want[0], (cmd, want)

    def test_every_metric_of_a_line_with_odd_keys(self, tmp_path: Path) -> None:
        """Keys holding braces, an escaped quote and a colon, or a non-ASCII letter are all found, in order."""
        loaded = load([str(write(tmp_path / "r" / "events.jsonl", escaped_type_and_keys))])
        assert ["loss", "acc{top1}", 'say "hi": x', "rewards/acc", "é"] == loaded.keys("step_metrics")
        frame = loaded.frame("step_metrics")
        assert [0.25, 0.5, 0.75] == frame["metrics.acc{top1}"].to_list()
        assert [1.0, 2.0, 3.0] == frame['metrics.say "hi": x'].to_list()

    def test_a_nested_metric_value_falls_back_to_decoding(self, tmp_path: Path) -> None:
        """A metrics object the pattern cannot read (a nested value) is decoded: its keys are still found."""
        path = tmp_path / "events.jsonl"
        lines = [ev("step_metrics", 0, step=1, metrics={"loss": 1.0, "per_layer": {"a": 1}})]
        path.write_text("".join(compact(e) + "\n" for e in lines), encoding="utf-8")
        assert ["loss", "per_layer"] == load([str(path)]).keys("step_metrics")

    def test_the_type_is_rechecked_after_decoding(self, tmp_path: Path) -> None:
        """A line whose prefix says one type but whose last "event" key says another is read as the last."""
        path = tmp_path / "events.jsonl"
        path.write_text('{"v":1,"ts":1,"event":"log","run":"w","rank":0,"seq":0,"event":"run_end"}\n', "utf-8")
        loaded = load([str(path)])
        assert [] == loaded.records(["log"])
        assert ["run_end"] == [r.event["event"] for r in loaded.records()]

    def test_seq_gap_in_any_spelling_and_beyond_int64(self, tmp_path: Path) -> None:
        """seq is read from any spelling; a seq beyond 2**64-1 is left unchecked, never a traceback."""
        path = tmp_path / "events.jsonl"
        events = [ev("log", s, level="info", msg="m") for s in (0, 1, 3)] + [ev("log", 2**70, level="info", msg="m")]
        path.write_text("".join(spaced_colons(e) + "\n" for e in events), encoding="utf-8")
        assert [f"{path}: 1 seq number(s) missing between 0 and 3 (events were lost)"] == load(
            [str(path)]
        ).seq_problems()


class TestStreams:
    def _lines(self, n: int) -> bytes:
        out = [compact(ev("log", i, level="info", msg="x" * 50)) for i in range(n)]
        out[7] = '{"v":1,"ts":1,"event":"log"'  # a damaged line 8
        out[n - 3] = "[1, 2]"  # a JSON array at line n-2
        return ("\n".join(out) + "\n" + '{"v":1,"ts":').encode()  # and a torn tail at line n+1

    @pytest.mark.parametrize("chunk", [64, 1000, 1 << 20])
    def test_line_numbers_across_chunks(self, chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A gzip file read in chunks of any size gives the same lines and the same line numbers as plain text."""
        data = self._lines(200)
        (tmp_path / "plain.jsonl").write_bytes(data)
        (tmp_path / "packed.jsonl").write_bytes(gzip.compress(data))  # sniffed: no .gz in the name
        monkeypatch.setattr(_paths, "CHUNK", chunk)
        plain, packed = load([str(tmp_path / "plain.jsonl")]), load([str(tmp_path / "packed.jsonl")])
        assert plain.lines.select("n", "event").rows() == packed.lines.select("n", "event").rows()
        assert 198 == plain.lines.height  # the damaged line 8 is checked whole at the scan, and set aside there
        assert len(plain.records()) == len(packed.records()) == 198
        where = [(s.line, s.torn) for s in packed.skipped]
        assert sorted((s.line, s.torn) for s in plain.skipped) == sorted(where)
        assert {(8, False), (198, False), (201, True)} == set(where)

    def test_gzip_on_stdin(self, tmp_path: Path) -> None:
        """stdin is sniffed: gzip or plain, the same events."""
        data = "".join(compact(e) + "\n" for e in run_events()).encode()
        plain = invoke(["filter", "-"], stdin=data)
        packed = invoke(["filter", "-"], stdin=gzip.compress(data))
        assert (0, run_events()) == plain == packed

    def test_damaged_gzip_is_one_line(self, tmp_path: Path) -> None:
        """Damaged, not just cut short (a short one is read up to the cut: test_probe_round7)."""
        path = tmp_path / "events.jsonl.gz"
        packed = bytearray(gzip.compress(b'{"v":1}\n' * 1000))
        packed[-6] ^= 0xFF  # the CRC no longer matches
        path.write_bytes(bytes(packed))
        result = CliRunner().invoke(app, ["table", str(path)])
        assert 1 == result.exit_code
        assert "cannot decompress" in result.stderr
        assert 1 == len(result.stderr.strip().splitlines())


class TestPaths:
    def test_glob_of_run_directories(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """'runs/*' reads every run directory and every file the pattern names; an empty directory is no error."""
        write(tmp_path / "runs" / "a" / "events.jsonl", compact)
        write(tmp_path / "runs" / "b" / "events.rank1.jsonl", compact)
        (tmp_path / "runs" / "empty").mkdir()
        monkeypatch.chdir(tmp_path)
        assert ["runs/a/events.jsonl", "runs/b/events.rank1.jsonl"] == _paths.resolve_paths(["runs/*"])

    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
    def test_a_fifo_given_by_a_glob_is_skipped(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path / "a.jsonl", compact)
        os.mkfifo(tmp_path / "b.jsonl")
        assert [str(tmp_path / "a.jsonl")] == _paths.resolve_paths([str(tmp_path / "*.jsonl")])
        assert "b.jsonl: a FIFO, not a file; skipped" in capsys.readouterr().err

    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
    def test_a_pipe_named_on_the_command_line_is_read(self, tmp_path: Path) -> None:
        """`eventlog table <(zcat run.jsonl.gz)`: a FIFO named explicitly is read as a stream, gzip sniffed."""
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        data = gzip.compress("".join(compact(e) + "\n" for e in run_events()).encode())

        def feed() -> None:
            with open(fifo, "wb") as f:
                f.write(data)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        code, got = invoke(["filter", str(fifo)])
        writer.join(10)
        assert (0, run_events()) == (code, got)


class TestExportNames:
    def test_one_to_one(self) -> None:
        names = ["a.b", "a_b", "a b", "a%2Eb", "A", "", "~", "é", "x" * 300, "x" * 299 + "y", "../up", "a/b"]
        stems = [file_stem(n) for n in names]
        assert len(set(stems)) == len(names)
        assert all(len(s.encode()) <= 180 and "/" not in s and not s.startswith(".") for s in stems)
        assert ["a_b", "a-b"] == [file_stem("a_b"), file_stem("a-b")]  # readable names stay as they are


class TestWhereDepth:
    def test_a_run_of_nots(self) -> None:
        assert compile_where("not " * 5001 + "step >= 2")({"step": 1})
        assert not compile_where("not " * 5000 + "step >= 2")({"step": 1})

    def test_deep_parentheses_are_one_line(self) -> None:
        assert compile_where("(" * 100 + "step >= 2" + ")" * 100)({"step": 3})
        with pytest.raises(UsageError) as err:
            compile_where("(" * 101 + "step >= 2" + ")" * 101)
        assert "parentheses nested deeper than 100 levels at column 101" in str(err.value)
        assert "\n" not in str(err.value)


class TestWideIntegers:
    def test_a_step_beyond_int64_is_shown_as_itself(self, tmp_path: Path) -> None:
        """Whole numbers past 2**63-1 (up to Int128) are read back, never shown as null."""
        path = tmp_path / "events.jsonl"
        events = [ev("step_metrics", i, step=s, metrics={"loss": 1.0}) for i, s in enumerate((1, 2**63, 2**64 - 1))]
        path.write_text("".join(compact(e) + "\n" for e in events), encoding="utf-8")
        code, rows = invoke(["table", "--json", str(path)])
        assert (0, [1, 2**63, 2**64 - 1]) == (code, [r["step"] for r in rows])
        normal = load([str(write(tmp_path / "r" / "events.jsonl", compact))]).frame("step_metrics")
        assert ("Int64", "Int64") == (str(normal.schema["step"]), str(normal.schema["seq"]))  # narrowed when they fit
