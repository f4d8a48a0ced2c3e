"""Streamed reading (issue 12, bounded memory at any size): ``Loaded.stream()`` gives what ``records()`` gives,
in the same order, and grep, replay, filter, samples and validate answer as they did when they held every event."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from eventlog_cli._app import app
from eventlog_cli.read import _stream, load


def _lines(path: Path, events: list[dict[str, Any] | bytes]) -> Path:
    path.write_bytes(b"".join((e if isinstance(e, bytes) else orjson.dumps(e)) + b"\n" for e in events))
    return path


def _ev(ts: Any, rank: Any, seq: Any, event: str = "log", **more: Any) -> dict[str, Any]:
    return {"v": 1, "ts": ts, "event": event, "run": "r", "rank": rank, "seq": seq, **more}


@pytest.fixture
def ranks(tmp_path: Path) -> list[str]:
    """Two rank files and a third tool's file: ties across files, a clock that went back, odd envelopes,
    a damaged line, json.dumps' NaN, a step written 2.0."""
    a = _lines(
        tmp_path / "rank0.jsonl",
        [
            _ev(1.0, 0, 0, "run_start"),
            _ev(2.0, 0, 1, msg="a1", level="info"),
            _ev(5.0, 0, 2, msg="a2", level="warning"),
            b'{"v":1,"ts":6.0,"event":"log","run":"r","rank":0,"seq":3,"msg":"cut',
            _ev(3.0, 0, 4, msg="clock went back", level="info"),  # out of order within its file
            _ev(3.0, 0, 5, "step_metrics", step=2.0, metrics={"loss": 0.5}),
            b'{"v":1,"ts":7.0,"event":"log","run":"r","rank":0,"seq":6,"msg":"nan","value":NaN}',
            _ev(9.0, 0, 7, "run_end", status="completed"),
        ],
    )
    b = _lines(
        tmp_path / "rank1.jsonl",
        [
            _ev(1.0, 1, 0, "run_start"),
            _ev(2.0, 1, 1, msg="b1", level="info"),  # ts ties rank 0's
            _ev("late", 1, 2, msg="no number ts", level="info"),
            _ev(4.0, True, "x", msg="odd rank and seq", level="info"),
            _ev(8.0, 1, 4, "run_end", status="completed"),
        ],
    )
    c = _lines(tmp_path / "other.jsonl", [_ev(2.0, 0, 1, msg="tie, later file", level="info"), b"[1, 2]"])
    return [str(a), str(b), str(c)]


def _seen(recs: Any) -> list[tuple[int, int, dict[str, Any]]]:
    return [(r.file, r.line, r.event) for r in recs]


class TestStream:
    @pytest.mark.parametrize("block", [1 << 15, 2], ids=["one block", "blocks of 2"])
    @pytest.mark.parametrize("types", [None, ["log"], ["log", "run_end"]], ids=str)
    def test_same_records_in_the_same_order(
        self, ranks: list[str], monkeypatch: pytest.MonkeyPatch, types: list[str] | None, block: int
    ) -> None:
        monkeypatch.setattr(_stream, "_BLOCK", block)
        expected = _seen(load(ranks, types).records(types))
        got = _seen(load(ranks, types).stream(types))
        assert expected == got
        assert len(got) >= 4

    def test_values_orjson_reads_otherwise_order_alike(self, tmp_path: Path) -> None:
        """An int beyond 64 bits (orjson reads it as a float) and a NaN ts (compares false with everything):
        the stream's first pass orders them as the decoded records are ordered."""
        a = _lines(
            tmp_path / "a.jsonl",
            [
                b'{"v":1,"ts":-1e308,"event":"log","run":"r","rank":0,"seq":1000000000000000000000000000000}',
                _ev(-1e308, 0, 5),
                b'{"v":1,"ts":NaN,"event":"log","run":"r","rank":0,"seq":6}',
                b'{"v":1,"ts":1.0,"event":"log","run":"r","rank":0,"seq":18446744073709551616}',
                _ev(1.0, 0, 7),
            ],
        )
        b = _lines(tmp_path / "b.jsonl", [_ev(-1e308, 0, 1), _ev(1.0, 0, 3), _ev(2.0, 0, 4)])
        files = [str(a), str(b)]
        expected = _seen(load(files).records())
        assert expected == _seen(load(files).stream())
        assert "NaN" not in str([e["ts"] for _, _, e in expected[:-1]])  # the NaN ts is last

    def test_one_file_keeps_its_file_order(self, ranks: list[str]) -> None:
        """One file is shown as written, clock going back or not (as records() does)."""
        got = [r.line for r in load(ranks[:1]).stream()]
        assert got == sorted(got)
        assert 7 == len(got)  # the cut line is set aside

    def test_one_file_with_rows_among_several_is_still_ordered(self, ranks: list[str]) -> None:
        """Only rank 0 has step_metrics, but the load has three files: records() sorts, so must the stream."""
        expected = _seen(load(ranks).records(["log"]))
        assert expected == _seen(load(ranks).stream(["log"]))

    def test_damaged_lines_are_named_as_records_names_them(self, ranks: list[str]) -> None:
        a, b = load(ranks), load(ranks)
        a.records()
        list(b.stream())
        assert a.skipped == b.skipped
        assert any(s.line == 2 and s.path.endswith("other.jsonl") for s in b.skipped)

    def test_gzip_is_streamed_too(self, ranks: list[str], tmp_path: Path) -> None:
        packed = tmp_path / "rank1.jsonl.gz"
        packed.write_bytes(gzip.compress(Path(ranks[1]).read_bytes()))
        files = [ranks[0], str(packed)]
        assert _seen(load(files).records()) == _seen(load(files).stream())


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


class TestGrepContext:
    def test_every_match_is_marked_and_runs_are_split(self, tmp_path: Path) -> None:
        """Two matches inside one another's context are both marked (the second was shown as context, unmarked)."""
        msgs = ["x0", "hit1", "x2", "hit3", "x4", "x5", "x6", "x7", "hit8", "x9"]
        path = _lines(tmp_path / "e.jsonl", [_ev(float(i), 0, i, msg=m, level="info") for i, m in enumerate(msgs)])
        result = _cli("grep", "-C", "1", "hit", str(path))
        assert 0 == result.exit_code, result.stderr
        marks = [(ln[0], ln.rsplit(" ", 1)[-1]) for ln in result.stdout.splitlines()]
        assert marks == [
            (" ", "x0"), (">", "hit1"), (" ", "x2"), (">", "hit3"), (" ", "x4"),
            ("-", "--"), (" ", "x7"), (">", "hit8"), (" ", "x9"),
        ]  # fmt: skip

    def test_a_number_too_large_for_a_float_is_read_as_inf_not_skipped_mid_output(self, tmp_path: Path) -> None:
        """``1e400``: the scan (msgspec) and the frames read inf, orjson refuses it; the stream read it as damaged
        and warned in the middle of the output, after the load-time report."""
        path = _lines(
            tmp_path / "e.jsonl",
            [_ev(1.0, 0, 0, msg="a", level="info"), b'{"v":1,"ts":2.0,"event":"log","run":"r","rank":0,"seq":1,'
             b'"level":"info","msg":"huge","value":1e400}', _ev(3.0, 0, 2, msg="c", level="info")],
        )  # fmt: skip
        result = _cli("grep", "huge", str(path))
        assert 0 == result.exit_code, result.stderr
        assert "huge" in result.stdout
        assert "" == result.stderr

    def test_no_match_prints_nothing_and_exits_1(self, tmp_path: Path) -> None:
        path = _lines(tmp_path / "e.jsonl", [_ev(1.0, 0, 0, msg="a", level="info")])
        result = _cli("grep", "-C", "3", "zzz", str(path))
        assert 1 == result.exit_code
        assert "" == result.stdout

    def test_the_rank_label_follows_the_ranks_of_the_events_picked(self, ranks: list[str]) -> None:
        several = _cli("grep", "a1", *ranks)
        one = _cli("grep", "--rank", "0", "a1", *ranks)
        assert "[rank 0: " in several.stdout
        assert "[rank" not in one.stdout
        assert "a1" in one.stdout


class TestCommandsOverSeveralFiles:
    def test_filter_is_the_run_order(self, ranks: list[str]) -> None:
        result = _cli("filter", *ranks)
        expected = [(r.event["seq"], r.event.get("msg")) for r in load(ranks).records()]
        assert [(e["seq"], e.get("msg")) for e in map(orjson.loads, result.stdout.splitlines())] == expected

    def test_samples_keep_the_last_n_of_the_rank(self, tmp_path: Path) -> None:
        events = [
            _ev(float(i), i % 2, i, "sample", step=i, split="val", output=f"o{i}", correct=i % 3 == 0)
            for i in range(12)
        ]
        path = _lines(tmp_path / "s.jsonl", events)
        result = _cli("samples", "--json", "--rank", "1", "-n", "2", str(path))
        assert 0 == result.exit_code, result.stderr
        assert [9, 11] == [r["step"] for r in orjson.loads(result.stdout)]
        assert "the last 2 of 6 matching samples" in result.stderr
        missing = _cli("samples", "--rank", "5", str(path))
        assert 1 == missing.exit_code
        assert "ranks present: 0, 1" in missing.stderr


class TestOddValuesFoundByTheProbe:
    def test_a_400_digit_int_is_read_as_orjson_reads_a_big_int(self, tmp_path: Path) -> None:
        """msgspec (the scan, the first pass) reads it, orjson refuses it: the first pass crashed on float(), and
        the line was counted by the scan but dropped while decoding."""
        big = b"1" + b"0" * 400
        line = b'{"v":1,"ts":2.0,"event":"log","run":"r","rank":0,"seq":' + big + b',"msg":"b"}'
        a = _lines(tmp_path / "a.jsonl", [_ev(1.0, 0, 0, msg="a", level="info"), line])
        b = _lines(tmp_path / "b.jsonl", [_ev(1.5, 1, 0, msg="c", level="info")])
        files = [str(a), str(b)]
        assert _seen(load(files).records()) == _seen(load(files).stream())
        result = _cli("grep", ".", *files)
        assert 0 == result.exit_code, result.stderr
        assert ["a", "c", "b"] == [ln.rsplit(" ", 1)[-1] for ln in result.stdout.splitlines()]
        assert "" == result.stderr

    def test_a_rank_written_as_a_list_is_a_rank_of_its_own(self, tmp_path: Path) -> None:
        path = _lines(tmp_path / "e.jsonl", [_ev(1.0, 0, 0, msg="hello", level="info"), _ev(2.0, [1], 1, msg="x")])
        for args in (["grep", "hello"], ["filter"], ["replay"]):
            result = _cli(*args, str(path))
            assert 0 == result.exit_code, (args, result.stderr)
        assert 2 == len(_cli("filter", str(path)).stdout.splitlines())

    def test_an_empty_event_list_keeps_the_rank_labels(self, ranks: list[str]) -> None:
        """``-e ''`` is no filter: the rank pass read no type at all, and the labels were dropped."""
        assert "[rank 0: " in _cli("grep", "-e", "", "a1", *ranks).stdout
