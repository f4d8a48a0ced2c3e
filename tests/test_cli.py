"""The eventlog command: golden output per command, damaged files, exit codes, --json."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import ROOT, FakeClock, build_fixture_run, cli
from eventlog_cli._app import app

COMMANDS = [c.name for c in app.registered_commands]


@pytest.fixture
def fx(tmp_path: Path, clock: FakeClock) -> str:
    build_fixture_run(Path("fx"))
    return "fx"


class TestGolden:
    @pytest.mark.parametrize(
        ("name", "args"),
        [
            ("replay", ["replay"]),
            ("replay_compact", ["replay", "--style", "compact"]),
            ("replay_filtered", ["replay", "--event", "val_batch,eval_summary", "--steps", "2:4"]),
            ("phases", ["phases"]),
            ("phases_all", ["phases", "--all"]),
            ("grep", ["grep", "-C", "1", "observation"]),
            ("filter", ["filter", "--event", "eval_summary", "--where", "metrics.accuracy >= 0.5"]),
            ("table", ["table"]),
            ("table_legend", ["table", "--cols", "step,loss,clip_frac,timing.step", "--legend"]),
            ("table_markdown", ["table", "--markdown", "--last", "2"]),
            ("table_csv", ["table", "--csv", "--cols", "step,loss"]),
            ("trend", ["trend", "accuracy"]),
            ("trend_step", ["trend", "step.loss"]),
            ("summary", ["summary"]),
            ("samples", ["samples", "--wrong", "--limit", "2"]),
            ("groups", ["groups"]),
            ("eval", ["eval"]),
            ("validate", ["validate"]),
        ],
    )
    def test_command_output(self, fx: str, name: str, args: list[str], golden) -> None:
        """Each command's default output on the fixture run is exactly as pinned."""
        result = cli(*args, fx)
        assert 0 == result.exit_code, result.stderr
        golden(f"cli_{name}", result.stdout)


class TestSeveralRuns:
    def test_trend_side_by_side(self, tmp_path: Path, clock: FakeClock, golden) -> None:
        """Two runs give one table, a column per run, the best of each starred."""
        build_fixture_run(Path("a"), run="baseline")
        build_fixture_run(Path("b"), run="bigger_lr")
        result = cli("trend", "accuracy", "a", "b")
        assert 0 == result.exit_code, result.stderr
        golden("cli_trend_two_runs", result.stdout)

    def test_export_lists_one_file_per_type(self, fx: str, golden) -> None:
        """export writes one file per event type and says so."""
        result = cli("export", "--out", "out", "--format", "csv", fx)
        assert 0 == result.exit_code, result.stderr
        golden("cli_export_csv", result.stdout)
        assert ",NaN," in Path("out/step_metrics.csv").read_text().splitlines()[3]  # NaN kept, not empty


class TestHelp:
    def test_the_command_list_comes_from_the_app(self) -> None:
        """Every registered command has a name, and ``eventlog --help`` lists each one."""
        assert len(COMMANDS) >= 13 and all(COMMANDS)
        listed = cli("--help").stdout
        assert [c for c in COMMANDS if f" {c} " not in listed] == []

    @pytest.mark.parametrize("command", COMMANDS)
    def test_every_command_has_help(self, command: str) -> None:
        """-h and --help work for every command."""
        for flag in ("--help", "-h"):
            result = cli(command, flag)
            assert 0 == result.exit_code
            assert "Usage" in result.stdout


class TestJson:
    def test_trend_json(self, fx: str) -> None:
        """trend --json lists step, value, change and best per run."""
        data = json.loads(cli("trend", "eval.accuracy", "--json", fx).stdout)
        assert ("accuracy", "eval") == (data["metric"], data["source"])
        assert [0, 2, 4] == [r["step"] for r in data["rows"]]
        assert [False, False, True] == [r["best"] for r in data["rows"]]
        assert pytest.approx(0.25) == data["rows"][1]["change"]

    def test_table_json_keeps_nan(self, fx: str) -> None:
        """table --json writes NaN as "NaN", like the event files."""
        rows = json.loads(cli("table", "--json", "--cols", "step,loss", fx).stdout)
        assert [1, 2, 3, 4] == [r["step"] for r in rows]
        assert "NaN" == rows[2]["loss"]

    def test_eval_json_is_the_eval_object(self, fx: str) -> None:
        """eval --json writes the flat object of eval_step_XXXX.json (seed 004): metrics at the top level."""
        data = json.loads(cli("eval", "--step", "2", "--json", fx).stdout)
        assert {"step": 2, "accuracy": 0.5, "reward_mean": 0.5, "format_rate": 1.0, "split": "val", "total": 8} == data

    def test_summary_json(self, fx: str) -> None:
        """summary --json gives status, steps and the NaN warning."""
        data = json.loads(cli("summary", "--json", fx).stdout)["runs"][0]
        assert ("completed", 4, 4) == (data["status"], data["steps_done"], data["total_steps"])
        assert any("metrics.loss is NaN/Inf at step(s) 3" in w for w in data["warnings"])


class TestDamagedFiles:
    def test_torn_last_line_is_a_note_and_strict_fails(self, fx: str) -> None:
        """A torn tail is skipped with a note (exit 0); --strict turns it into exit 1."""
        with open(f"{fx}/events.jsonl", "ab") as f:
            f.write(b'{"v":1,"ts":1.0,"event":"log","run":"fx","ra')
        ok = cli("table", fx)
        assert 0 == ok.exit_code
        assert "the last line is incomplete" in ok.stderr
        assert 1 == cli("table", "--strict", fx).exit_code

    def test_corrupt_middle_lines_are_skipped_with_line_numbers(self, fx: str) -> None:
        """Non-JSON, array, scalar, NUL and invalid UTF-8 lines are skipped and named by line number.

        By a command that reads every line (summary sums up every seq): trend and table check
        only the lines their pre-filter selects (issue 12), ``validate`` every line.
        """
        path = Path(fx) / "events.jsonl"
        lines = path.read_bytes().splitlines(keepends=True)
        bad = [b"garbage\n", b"[1, 2]\n", b"42\n", b"\x00\x00\x00\n", b'{"event":"log","msg":"\xff\xfe"}\n']
        path.write_bytes(b"".join(lines[:5] + bad + lines[5:]))
        result = cli("summary", fx)
        assert 0 == result.exit_code
        assert "5 damaged line(s) skipped" in result.stderr
        for n in (6, 7, 8, 9, 10):
            assert f"events.jsonl:{n} " in result.stderr
        assert [0, 2, 4] == [r["step"] for r in json.loads(cli("trend", "accuracy", "--json", fx).stdout)["rows"]]
        assert 1 == cli("validate", fx).exit_code

    def test_bom_crlf_and_blank_lines_read_silently(self, fx: str) -> None:
        """A BOM, CRLF line ends and blank lines change nothing."""
        before = cli("table", fx)
        path = Path(fx) / "events.jsonl"
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n\r\n"))
        after = cli("table", fx)
        assert (before.stdout, before.stderr) == (after.stdout, after.stderr)
        assert "skipped" not in after.stderr and "line" not in after.stderr

    def test_gzip_reads_like_plain(self, fx: str) -> None:
        """A .jsonl.gz file gives the same answers."""
        plain = cli("trend", "accuracy", "--json", f"{fx}/events.jsonl").stdout
        Path("z.jsonl.gz").write_bytes(gzip.compress(Path(f"{fx}/events.jsonl").read_bytes()))
        assert plain == cli("trend", "accuracy", "--json", "z.jsonl.gz").stdout

    def test_stdin(self, fx: str) -> None:
        """- reads events from stdin."""
        data = Path(f"{fx}/events.jsonl").read_text()
        result = CliRunner().invoke(app, ["eval", "--json", "-"], input=data)
        assert 4 == json.loads(result.stdout)["step"]

    def test_empty_file_says_no_events(self, tmp_path: Path) -> None:
        """An empty file is a one-line 'no events' error."""
        Path("empty.jsonl").write_bytes(b"")
        result = cli("summary", "empty.jsonl")
        assert (1, "eventlog: no events in these files\n") == (result.exit_code, result.stderr)

    def test_interrupted_run(self, tmp_path: Path, clock: FakeClock) -> None:
        """A run killed mid-training shows open phases as interrupted and its status inferred."""
        path = build_fixture_run(Path("cut"))
        lines = path.read_bytes().splitlines(keepends=True)
        cut = next(i for i, line in enumerate(lines) if b'"phase":"checkpoint"' in line)
        path.write_bytes(b"".join(lines[:cut]))
        phases = json.loads(cli("phases", "--json", "cut").stdout)["phases"]
        assert {"training": "interrupted", "initialization": "ok"} == {
            p["phase"]: p["status"] for p in phases if p["phase"] in ("training", "initialization")
        }
        summary = json.loads(cli("summary", "--json", "cut").stdout)["runs"][0]
        assert ("interrupted", True) == (summary["status"], summary["status_inferred"])

    def test_two_ranks_merge_by_time(self, tmp_path: Path, clock: FakeClock) -> None:
        """Two rank files in one run directory are merged; --rank selects one."""
        build_fixture_run(Path("two"), rank=0)
        build_fixture_run(Path("two"), rank=1)
        assert {"events.jsonl", "events.rank1.jsonl"} <= {p.name for p in Path("two").iterdir()}
        both = json.loads(cli("phases", "--json", "two").stdout)["phases"]
        assert {0, 1} == {p["rank"] for p in both}
        one = cli("filter", "--rank", "1", "--event", "run_end", "two").stdout.splitlines()
        assert [1] == [json.loads(x)["rank"] for x in one]

    def test_ten_megabyte_line(self, fx: str) -> None:
        """A 10 MB sample line is read, shortened for display and shown whole with --full."""
        big = "x" * 10_000_000
        with open(f"{fx}/events.jsonl", "ab") as f:
            f.write(
                json.dumps(
                    {
                        "v": 1,
                        "ts": 1.8e9,
                        "event": "sample",
                        "run": "fx",
                        "rank": 0,
                        "seq": 54,
                        "output": big,
                        "step": 9,
                    }
                ).encode()
                + b"\n"
            )
        short = cli("samples", "--step", "9", fx)
        assert 0 == short.exit_code
        assert "chars omitted" in short.stdout and len(short.stdout) < 2000
        assert big in cli("samples", "--step", "9", "--full", fx).stdout
        assert 0 == cli("validate", fx).exit_code

    def test_nul_tail_after_a_crash(self, fx: str) -> None:
        """A tail of NUL bytes (a crash on a preallocating file system) is a torn last line."""
        with open(f"{fx}/events.jsonl", "ab") as f:
            f.write(b"\x00" * 4096)
        result = cli("summary", "--json", fx)
        assert 0 == result.exit_code
        assert "the last line is incomplete" in result.stderr
        assert "completed" == json.loads(result.stdout)["runs"][0]["status"]

    def test_duplicate_keys_last_wins_and_validate_names_them(self, fx: str) -> None:
        """A repeated key is read without error (JSON leaves which value wins open); validate reports it."""
        with open(f"{fx}/events.jsonl", "ab") as f:
            f.write(
                b'{"v":1,"ts":1.8e9,"event":"eval_summary","run":"fx","rank":0,"seq":54,"step":9,"step":10,'
                b'"metrics":{"accuracy":0.9}}\n'
            )
        rows = json.loads(cli("trend", "accuracy", "--json", fx).stdout)["rows"]
        assert 0.9 == rows[-1]["value"] and rows[-1]["step"] in (9, 10)
        result = cli("validate", fx)
        assert 1 == result.exit_code
        assert "duplicate key 'step'" in result.stdout

    def test_metric_type_change_mid_run_is_reported_not_dropped(self, fx: str) -> None:
        """A metric that turns into a string mid-run keeps its column; the odd values are named."""
        with open(f"{fx}/events.jsonl", "ab") as f:
            f.write(
                b'{"v":1,"ts":1.8e9,"event":"step_metrics","run":"fx","rank":0,"seq":54,"step":5,'
                b'"metrics":{"loss":"high","kl":{"nested":1}}}\n'
            )
        result = cli("table", "--json", "--cols", "step,loss,kl", fx)
        rows = json.loads(result.stdout)
        assert [1, 2, 3, 4, 5] == [r["step"] for r in rows]
        assert (None, None) == (rows[-1]["loss"], rows[-1]["kl"])
        assert 0.04 == rows[3]["kl"]
        assert "metrics.loss: 1 value(s) are not numbers (line 55)" in result.stderr
        assert "metrics.kl: 1 value(s) are not numbers (line 55)" in result.stderr

    def test_late_metric_key_and_nan_survive_export(self, fx: str) -> None:
        """Parquet export keeps a metric first seen at step 3 and NaN as NaN."""
        assert 0 == cli("export", "--out", "out", fx).exit_code
        df = pl.read_parquet("out/step_metrics.parquet").sort("step")
        assert [None, None, 0.1, 0.1] == df["metrics.clip_frac"].to_list()
        assert math.isnan(df["metrics.loss"][2])
        assert {"run_start.parquet", "log.parquet", "sample.parquet"} <= {p.name for p in Path("out").iterdir()}


class TestErrors:
    def test_missing_path_is_one_line(self) -> None:
        """A path that does not exist: one line on stderr, exit 1."""
        result = cli("summary", "nope.jsonl")
        assert (1, "eventlog: nope.jsonl: no such file or directory\n") == (result.exit_code, result.stderr)

    def test_bad_where_points_at_the_column(self, fx: str) -> None:
        """A malformed --where is a usage error with a caret under the column."""
        result = cli("filter", "--where", "step >> 3", fx)
        assert 2 == result.exit_code
        assert "column 7" in result.stderr
        assert result.stderr.splitlines()[-1] == "        ^"

    def test_ambiguous_metric_asks_to_qualify(self, fx: str) -> None:
        """A metric in both evals and steps must be qualified (exit 2)."""
        result = cli("trend", "reward_mean", fx)
        assert 2 == result.exit_code
        assert "say eval.reward_mean or step.reward_mean" in result.stderr

    def test_no_path_uses_the_newest_run(self, fx: str) -> None:
        """With no path, the newest run under ./runs is used and named on stderr."""
        Path("runs").mkdir()
        Path(fx).rename("runs/fx")
        result = cli("eval", "--json")
        assert "using runs/fx" in result.stderr
        assert 4 == json.loads(result.stdout)["step"]


class TestFollow:
    @pytest.mark.timeout(60)
    def test_replay_follow_shows_lines_appended_later(self, fx: str) -> None:
        """replay --follow prints the run, then events appended afterwards (complete lines only)."""
        import os
        import subprocess
        import sys
        import time

        script = "from eventlog_cli import main; main()"
        proc = subprocess.Popen(
            [sys.executable, "-c", script, "replay", "--style", "compact", "--follow", fx],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            lines = []
            while "■ run completed" not in "".join(lines):
                lines.append(proc.stdout.readline())  # type: ignore[union-attr]
            time.sleep(0.5)
            with open(f"{fx}/events.jsonl", "ab") as f:
                f.write(b'{"v":1,"ts":1.8e9,"event":"log","run":"fx","rank":0,"seq":54,"level":"warning",')
                f.flush()
                time.sleep(0.7)  # a torn half line is not shown
                f.write(b'"msg":"appended later"}\n')
            assert "! appended later\n" == proc.stdout.readline()  # type: ignore[union-attr]
        finally:
            proc.kill()
            proc.wait(10)
