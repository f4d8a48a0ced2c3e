"""The loader keeps an index, not the text (issue 12): bounded memory on plain and gzip files,
damaged selected lines reported at load time without leaving the typed path, item 6's long log lines."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from conftest import ROOT
from eventlog_cli._app import app
from eventlog_cli.read import _loaded, _scan, load

sys.path.insert(0, str(ROOT / "bench"))
import generate

MAXRSS = (
    "import atexit, resource, sys\n"
    "def _report():\n"
    "    sys.stderr.write(f'\\nmaxrss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')\n"
    "atexit.register(_report)\n"
    "from eventlog_cli import main; main()\n"
)
BIG_EVENTS = 215_000  # ~128 MB of bench/generate.py text
TABLE = ["table", "--json", "--cols", "step,loss,kl,reward_mean,entropy,grad_norm"]


def peak_mb(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", MAXRSS, *args], capture_output=True, text=True, timeout=300, env=dict(os.environ)
    )
    return int(proc.stderr.rsplit("maxrss_kb=", 1)[1]) / 1024, proc


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bounds")
    small = generate.write(d / "small.jsonl", 10_000)  # past the first eval (step 500)
    big = generate.write(d / "big.jsonl", BIG_EVENTS)
    packed = d / "big.jsonl.gz"
    with open(big, "rb") as src, gzip.open(packed, "wb", compresslevel=1) as dst:
        while block := src.read(1 << 22):
            dst.write(block)
    return {"small": small, "big": big, "gz": packed}


class TestBoundedMemory:
    @pytest.mark.timeout(600)
    @pytest.mark.parametrize("kind", ["big", "gz"])
    @pytest.mark.parametrize("command", [TABLE, ["trend", "accuracy", "--json"]], ids=lambda c: c[0])
    def test_table_and_trend_grow_far_less_than_the_file(
        self, runs: dict[str, Path], command: list[str], kind: str
    ) -> None:
        """A 128 MB run (plain or gzip) peaks less than a quarter of its size above a tiny run (was 1.5x)."""
        base, proc = peak_mb(*command, str(runs["small"]))
        assert 0 == proc.returncode, proc.stderr
        big, proc = peak_mb(*command, str(runs[kind]))
        assert 0 == proc.returncode, proc.stderr
        size_mb = runs["big"].stat().st_size / (1 << 20)
        assert big - base < size_mb / 4, f"{command[0]} {kind}: peak {big:.0f} MB, {big - base:.0f} MB above tiny"
        if command[0] == "table":  # the answer is every step, as a plain line loop finds it
            steps = [e["step"] for e in map(orjson.loads, runs["big"].read_bytes().splitlines())
                     if e["event"] == "step_metrics"]  # fmt: skip
            assert steps == [r["step"] for r in json.loads(proc.stdout)]

    @pytest.mark.timeout(600)
    @pytest.mark.parametrize(
        "command", [["grep", "TOO LONG"], ["replay"], ["validate"], ["filter"], ["samples"]], ids=lambda c: c[0]
    )
    def test_commands_that_read_every_event_stream_them(self, runs: dict[str, Path], command: list[str]) -> None:
        """grep, replay, validate, filter and samples hold a window of the file, not its events (they held every
        event as a dict: grep peaked at ten times the file)."""
        base, proc = peak_mb(*command, str(runs["small"]))
        assert proc.returncode in (0, 1), proc.stderr  # validate: the generator's last seq gap
        big, proc = peak_mb(*command, str(runs["big"]))
        assert proc.returncode in (0, 1), proc.stderr
        assert proc.stdout
        size_mb = runs["big"].stat().st_size / (1 << 20)
        assert big - base < size_mb / 2, f"{command[0]}: peak {big:.0f} MB, {big - base:.0f} MB above tiny"

    def test_the_index_holds_no_text(self, runs: dict[str, Path]) -> None:
        """What load() keeps of a selected line is five numbers, whatever its length."""
        loaded = load([str(runs["small"])], ["step_metrics"])
        store = loaded.stores[0]
        assert len(store) == loaded.count(["step_metrics"]) > 0
        assert {"offs", "lens", "ns", "codes"} <= set(vars(store))
        assert all(isinstance(v, (str, int, type(None))) or hasattr(v, "typecode") for k, v in vars(store).items()
                   if k not in ("spool",))  # fmt: skip


def torn_middle(src: Path, dst: Path) -> tuple[int, list[dict[str, Any]]]:
    """``src`` with its 20th step_metrics line cut in half; (that line's number, the intact step_metrics)."""
    lines = src.read_bytes().splitlines()
    idx = [i for i, b in enumerate(lines) if b'"step_metrics"' in b][19]
    kept = [orjson.loads(b) for i, b in enumerate(lines) if i != idx and b'"step_metrics"' in b]
    lines[idx] = lines[idx][: len(lines[idx]) // 2]
    dst.write_bytes(b"\n".join(lines) + b"\n")
    return idx + 1, kept


class TestTornSelectedLine:
    @pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
    def test_reported_before_the_output_and_the_typed_path_kept(
        self, runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packed: bool
    ) -> None:
        """A torn step_metrics line in the middle: one load-time warning naming its line, the other rows typed."""
        path = tmp_path / "events.jsonl"
        n, kept = torn_middle(runs["small"], path)
        if packed:
            path.write_bytes(gzip.compress(path.read_bytes()))

        def forbidden(*_: Any, **__: Any) -> Any:
            raise AssertionError("the forgiving path was taken")

        monkeypatch.setattr(_loaded, "frame_from_records", forbidden)
        result = CliRunner().invoke(app, [*TABLE, str(path)])
        assert 0 == result.exit_code, result.stderr
        assert [e["step"] for e in kept] == [r["step"] for r in json.loads(result.stdout)]
        assert result.stderr.startswith(f"warning: 1 damaged line(s) skipped: events.jsonl:{n} (not valid JSON")
        assert 1 == len(result.stderr.splitlines())
        assert 1 == CliRunner().invoke(app, [*TABLE, "--strict", str(path)]).exit_code


class TestLongLogLines:
    @pytest.mark.timeout(300)
    def test_summary_of_a_gz_of_long_log_lines(self, tmp_path: Path) -> None:
        """Issue 9 item 6: summary of a gzip made of 256 kB log lines counts their levels without keeping them."""

        def write(path: Path, n: int) -> None:
            with gzip.open(path, "wb", compresslevel=1) as f:
                ev = {"v": 1, "ts": 1.0, "event": "run_start", "run": "logs", "rank": 0, "seq": 0}
                f.write(orjson.dumps(ev) + b"\n")
                for i in range(1, n + 1):
                    ev = {"v": 1, "ts": 1.0 + i, "event": "log", "run": "logs", "rank": 0, "seq": i,
                          "level": "warning" if i % 2 else "info", "msg": "y" * (256 << 10)}  # fmt: skip
                    f.write(orjson.dumps(ev) + b"\n")

        small, big = tmp_path / "small.jsonl.gz", tmp_path / "big.jsonl.gz"
        write(small, 2)
        write(big, 512)  # 128 MB decompressed
        base, proc = peak_mb("summary", str(small))
        assert 0 == proc.returncode, proc.stderr
        peak, proc = peak_mb("summary", "--json", str(big))
        assert 0 == proc.returncode, proc.stderr
        assert peak - base < 32, f"summary: peak {peak:.0f} MB, {peak - base:.0f} MB above the tiny file"
        warnings = json.loads(proc.stdout)["runs"][0]["warnings"]
        assert any(w.startswith("log: 256 warning(s)") for w in warnings), warnings

    def test_summary_counts_folded_log_lines_exactly(self, tmp_path: Path) -> None:
        """Log lines are folded (first and last of each file/run/rank/level kept, the rest counted): exact counts."""
        levels = ["info"] * 100 + ["warning"] * 7 + ["error"] * 3 + ["critical"] * 2
        for rank, name in ((0, "events.jsonl"), (1, "events.rank1.jsonl")):
            lines = [{"v": 1, "ts": 1.0, "event": "run_start", "run": "f", "rank": rank, "seq": 0}]
            for i, level in enumerate(levels[rank:] * 2, 1):  # rank 1 has one info line fewer
                lines.append({"v": 1, "ts": 2.0 + i, "event": "log", "run": "f", "rank": rank, "seq": i,
                              "level": level, "msg": f"m{i}"})  # fmt: skip
            (tmp_path / name).write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in lines))
        result = CliRunner().invoke(app, ["summary", "--json", str(tmp_path)])
        assert 0 == result.exit_code, result.output
        warnings = json.loads(result.stdout)["runs"][0]["warnings"]
        assert "log: 14 warning(s), 10 error(s) (eventlog grep to see them)" in warnings, warnings  # rank 0's
        records = load([str(tmp_path)], ["log"]).records(["log"], only={"log": ("level",)}, fold=True)
        assert sum(r.event["_count"] for r in records) == len(levels) * 2 + (len(levels) - 1) * 2
        assert len(records) == 2 * 2 * 4  # first and last per rank and level
        assert max(r.event["ts"] for r in records) == 2.0 + len(levels) * 2  # the last time survives


CRASH = """
import os, sys, eventlog
eventlog.init(sys.argv[1], run="r", console=False)
for s in range(1, 21):
    eventlog.emit("step_metrics", step=s, metrics={"reward": s / 20, "kl": 0.1, "loss": 1 / s})
eventlog.flush()
path = os.path.join(sys.argv[1], "events.jsonl")
line = open(path, "rb").read().splitlines()[-1].replace(b'"step":20', b'"step":21')
os.write(os.open(path, os.O_WRONLY | os.O_APPEND), line[: line.index(b'"loss"')])  # cut before "loss"
os._exit(0)  # killed mid-write
"""
RESUME = """
import sys, eventlog
eventlog.init(sys.argv[1], run="r", console=False)
for s in range(21, 31):
    eventlog.emit("step_metrics", step=s, metrics={"reward": s / 20, "kl": 0.1, "loss": 1 / s})
eventlog.finish()
"""


class TestLineCutShortBeforeAResume:
    """A crash cut a step_metrics line short and the run resumed: the writer ended that line with a newline
    and appended a run_start. ``trend loss`` selects lines by the needle ``"loss"``, which the cut line lost;
    it skipped the line without a word (table, selecting by type, named it)."""

    @pytest.fixture
    def resumed(self, tmp_path: Path) -> tuple[Path, int]:
        run = tmp_path / "run"
        for code in (CRASH, RESUME):
            subprocess.run([sys.executable, "-c", code, str(run)], check=True, capture_output=True)
        lines = (run / "events.jsonl").read_bytes().splitlines()
        n = next(i for i, b in enumerate(lines) if b'"run_start"' in b and i > 0)  # the line before: 1-based n
        assert b'"loss"' not in lines[n - 1] and not lines[n - 1].endswith(b"}")
        return run, n

    @pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
    @pytest.mark.parametrize("metric", ["loss", "reward"])
    def test_trend_names_the_cut_line(self, resumed: tuple[Path, int], packed: bool, metric: str) -> None:
        run, n = resumed
        path = run / "events.jsonl"
        if packed:
            path = path.with_suffix(".jsonl.gz")
            path.write_bytes(gzip.compress((run / "events.jsonl").read_bytes()))
            (run / "events.jsonl").unlink()
        result = CliRunner().invoke(app, ["trend", metric, "--json", str(path)])
        assert 0 == result.exit_code, result.stderr
        assert f"warning: 1 damaged line(s) skipped: {path.name}:{n} (not valid JSON" in result.stderr
        assert list(range(1, 31)) == [r["step"] for r in json.loads(result.stdout)["rows"]]

    def test_the_cut_line_at_a_windows_end(self, resumed: tuple[Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
        """The run_start opens the next mapped window: the cut line is the last of its window."""
        run, n = resumed
        data = (run / "events.jsonl").read_bytes()
        at = sum(len(b) + 1 for b in data.splitlines()[:n])  # where the run_start line starts
        monkeypatch.setattr(_scan, "WINDOW", at + 8)  # the first window ends with the cut line's newline
        result = CliRunner().invoke(app, ["trend", "loss", "--json", str(run)])
        assert 0 == result.exit_code, result.stderr
        assert f"warning: 1 damaged line(s) skipped: events.jsonl:{n} (not valid JSON" in result.stderr

    def test_a_cut_line_plainly_of_another_type_is_not_named(self, tmp_path: Path) -> None:
        """trend reads no log events: a log line cut short before a resume is validate's to report."""
        run = tmp_path / "run"
        subprocess.run([sys.executable, "-c", RESUME, str(run)], check=True, capture_output=True)
        lines = (run / "events.jsonl").read_bytes().splitlines()
        cut = b'{"v":1,"ts":1.0,"event":"log","run":"r","rank":0,"seq":0,"level":"info","msg":"half'
        (run / "events.jsonl").write_bytes(b"\n".join([cut, *lines]) + b"\n")
        result = CliRunner().invoke(app, ["trend", "loss", "--json", str(run)])
        assert 0 == result.exit_code, result.stderr
        assert "damaged" not in result.stderr
        assert 1 == CliRunner().invoke(app, ["validate", str(run)]).exit_code
