"""eventlog report: the self-contained HTML page, its data, escaping, downsampling, labels."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import eventlog
from conftest import FakeClock, build_fixture_run, cli
from eventlog_cli.commands._read import read_runs
from eventlog_cli.query.rundata import MISSING, TYPES, config_diff, flatten
from eventlog_cli.query.series import downsample, ema, group_by_prefix

NASTY = '</script><script>alert(1)</script> </textarea><b>bold</b> &amp; &lt;x&gt; <a href="javascript:alert(2)">j</a>'


class _Page(HTMLParser):
    """Collects script elements, the text of <pre class="output"> and every href."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.outputs: list[str] = []
        self.hrefs: list[str] = []
        self._in: str | None = None
        self._attrs: dict[str, str | None] = {}
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("href"):
            self.hrefs.append(a["href"] or "")
        if tag == "script" or (tag == "pre" and a.get("class") == "output"):
            self._in, self._attrs, self._buf = tag, a, []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            text = "".join(self._buf)
            if tag == "script":
                self.scripts.append((self._attrs, text))
            else:
                self.outputs.append(text)
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._buf.append(data)


def parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def report_data(page: _Page) -> dict[str, Any]:
    blob = next(text for attrs, text in page.scripts if attrs.get("id") == "report-data")
    return json.loads(blob)


@pytest.fixture
def fx(tmp_path: Path, clock: FakeClock) -> str:
    build_fixture_run(Path("fx"))
    return "fx"


def nasty_run(directory: Path) -> None:
    eventlog.init(directory, run="nasty", console="off", config={"note": NASTY})
    eventlog.emit("step_metrics", step=1, metrics={"<b>m</b>": 1.0})
    eventlog.emit("step_metrics", step=2, metrics={"<b>m</b>": 2.0})
    eventlog.emit("sample", step=1, output=NASTY, golden=[NASTY], extracted=NASTY, correct=False, reward=0.0)
    eventlog.finish()


class TestPage:
    def test_self_contained(self, fx: str) -> None:
        """The page loads nothing from outside: no src or href to a URL, a CSP forbidding it, plotly inlined."""
        result = cli("report", fx, "--out", "r.html")
        assert 0 == result.exit_code, result.stderr
        assert "r.html\n" == result.stdout
        text = Path("r.html").read_text(encoding="utf-8")
        assert re.search(r"<(script|link|img|iframe)[^>]*\b(src|href)=", text) is None
        assert "connect-src 'none'" in text and "default-src 'none'" in text
        page = parse(Path("r.html"))
        assert 3 == len(page.scripts)  # plotly.js, the data, the glue
        assert "Plotly" in page.scripts[0][1] and len(page.scripts[0][1]) > 1_000_000
        assert all(h.startswith("#") for h in page.hrefs)

    def test_charts_of_the_fixture_run(self, fx: str, golden) -> None:
        """One timeline, a chart per eval metric and per step metric (grouped by prefix), one group chart."""
        cli("report", fx, "--out", "r.html")
        data = report_data(parse(Path("r.html")))
        lines = []
        for c in data["charts"]:
            traces = ", ".join(f"{t['name']}:{len(t['x'])}" for t in c["traces"])
            lines.append(f"{c['id']} {c['kind']} {c.get('metric', '')} [{traces}]")
        golden("report_charts", "\n".join(lines) + "\n")

    def test_html_without_scripts_is_pinned(self, fx: str, golden) -> None:
        """Header, config, warnings and samples: the page with the script bodies cut out."""
        cli("report", fx, "--out", "r.html")
        text = Path("r.html").read_text(encoding="utf-8")
        text = re.sub(r"(<script[^>]*>).*?(</script>)", r"\1…\2", text, flags=re.S)
        text = re.sub(r"<style>.*?</style>", "<style>…</style>", text, flags=re.S)
        golden("report_page", text)

    def test_nan_is_a_gap_and_a_warning(self, fx: str) -> None:
        """The NaN loss at step 3 is null in the chart data, marked, and listed in the warnings."""
        cli("report", fx, "--out", "r.html")
        data = report_data(parse(Path("r.html")))
        loss = next(c for c in data["charts"] if c.get("metric") == "loss")
        assert [1, 2, 3, 4] == loss["traces"][0]["x"]
        assert loss["traces"][0]["y"][2] is None
        assert [3] == [s["x0"] for s in loss["layout"]["shapes"]]
        assert "metrics.loss is NaN/Inf at step(s) 3" in Path("r.html").read_text(encoding="utf-8")

    def test_two_ranks(self, tmp_path: Path, clock: FakeClock) -> None:
        """Rank files merged: one line per run (rank 0's metrics), the phases of each rank on their own lanes."""
        build_fixture_run(Path("two"), rank=0)
        build_fixture_run(Path("two"), rank=1)
        assert 0 == cli("report", "two", "--out", "r.html").exit_code
        charts = report_data(parse(Path("r.html")))["charts"]
        loss = next(c for c in charts if c.get("metric") == "loss")
        assert [[1, 2, 3, 4]] == [t["x"] for t in loss["traces"]]
        lanes = set(charts[0]["traces"][0]["y"])
        assert {"training (rank 0)", "training (rank 1)"} <= lanes

    def test_damaged_lines_are_warnings_not_a_crash(self, fx: str) -> None:
        """An invalid UTF-8 line in the middle: the report is written and names the skipped line."""
        path = Path(fx) / "events.jsonl"
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join([*lines[:10], b"\xff\xfe garbage\n", *lines[10:]]))
        result = cli("report", fx, "--out", "r.html")
        assert 0 == result.exit_code, result.stderr
        assert "1 line(s) skipped while reading: line 11" in Path("r.html").read_text(encoding="utf-8")

    def test_missing_run_is_one_line(self, tmp_path: Path) -> None:
        """A path that does not exist: one line on stderr, exit 1."""
        result = cli("report", "nowhere")
        assert 1 == result.exit_code
        assert "eventlog: nowhere: no such file or directory\n" == result.stderr


class TestLongRuns:
    def test_long_series_are_thinned_and_keep_their_extremes(self, tmp_path: Path) -> None:
        """5,000 steps: each line holds at most 2 points per bucket, real ones, the spike and the dip among them."""
        import orjson

        from eventlog_cli.query.series import BUCKETS

        rows = []
        for step in range(1, 5001):
            loss = 1.0 / step + (9.5 if step == 4321 else 0.0) - (3.0 if step == 1234 else 0.0)
            ev = {"v": 1, "ts": 1000.0 + step, "event": "step_metrics", "run": "long", "rank": 0, "seq": step - 1}
            rows.append(orjson.dumps(ev | {"step": step, "metrics": {"loss": loss}}))
        Path("long").mkdir()
        Path("long/events.jsonl").write_bytes(b"\n".join(rows) + b"\n")
        assert 0 == cli("report", "long", "--out", "r.html").exit_code
        (trace,) = next(c for c in report_data(parse(Path("r.html")))["charts"] if c.get("metric") == "loss")["traces"]
        assert len(trace["x"]) <= 2 * BUCKETS < 5000
        points = dict(zip(trace["x"], trace["y"], strict=True))
        assert pytest.approx(9.5 + 1 / 4321) == points[4321]
        assert pytest.approx(1 / 1234 - 3.0) == points[1234]
        assert all(
            y == pytest.approx(1.0 / x + (9.5 if x == 4321 else 0) - (3 if x == 1234 else 0)) for x, y in points.items()
        )


class TestEscaping:
    def test_event_text_is_text(self, tmp_path: Path) -> None:
        """A sample with </script>, </textarea>, entities and javascript: stays text in HTML and in the JSON."""
        nasty_run(Path("n"))
        assert 0 == cli("report", "n", "--out", "r.html").exit_code
        page = parse(Path("r.html"))
        assert 3 == len(page.scripts)  # the sample did not open or close a script
        assert [NASTY] == page.outputs
        assert all(h.startswith("#") for h in page.hrefs)  # no link made from data
        blob = next(text for attrs, text in page.scripts if attrs.get("id") == "report-data")
        assert "<" not in blob and ">" not in blob and "&" not in blob
        names = [c.get("metric") for c in json.loads(blob)["charts"]]
        assert "<b>m</b>" in names  # the data keeps the real name; Plotly gets it as entities:
        chart = next(c for c in json.loads(blob)["charts"] if c.get("metric") == "<b>m</b>")
        assert "&lt;b&gt;m&lt;/b&gt;" == chart["layout"]["title"]["text"]
        text = Path("r.html").read_text(encoding="utf-8")
        assert NASTY not in text and "javascript:alert(2)" not in text.replace("javascript:alert(2)&quot;", "")


class TestSeries:
    def test_short_series_kept_whole(self) -> None:
        """Up to 2 × buckets points nothing is dropped."""
        assert list(range(10)) == downsample(pl.Series([float(i) for i in range(10)]), buckets=5)

    def test_extremes_survive(self) -> None:
        """Thinning 10,000 points to 100 buckets keeps the global spike, the dip and a NaN."""
        vals = [math.sin(i / 50) for i in range(10_000)]
        vals[1234], vals[8765], vals[5000] = 50.0, -50.0, math.nan
        idx = downsample(pl.Series(vals), buckets=100)
        assert len(idx) <= 300
        assert {1234, 8765, 5000} <= set(idx)
        assert idx == sorted(idx)

    def test_ema_is_tensorboards(self) -> None:
        """Debiased EMA: the first value is kept, gaps stay gaps and do not reset."""
        out = ema([1.0, None, 3.0], 0.5)
        assert 1.0 == out[0] and out[1] is None
        assert pytest.approx((0.5 * 0.5 * 1 + 0.5 * 3) / (0.5 * 0.5 + 0.5)) == out[2]

    def test_groups_by_prefix(self) -> None:
        """rewards/a and rewards/b share a group; plain names go to train."""
        assert {"train": ["loss"], "rewards": ["rewards/a", "rewards/b"]} == group_by_prefix(
            ["loss", "rewards/a", "rewards/b"]
        )


class TestRuns:
    def test_config_diff(self) -> None:
        """changed, added and removed keys against the first run; nested keys dotted."""
        a = flatten({"lr": 0.1, "opt": {"beta": 0.9}, "seed": 1})
        b = flatten({"lr": 0.2, "opt": {"beta": 0.9}, "warmup": 10})
        rows = {r["key"]: r for r in config_diff([a, b])}
        assert "changed" == rows["lr"]["status"]
        assert "same" == rows["opt.beta"]["status"]
        assert ("removed", [1, MISSING]) == (rows["seed"]["status"], rows["seed"]["values"])
        assert "added" == rows["warmup"]["status"]

    def test_same_run_id_from_two_directories_stays_apart(self, tmp_path: Path, clock: FakeClock) -> None:
        """Two runs both called fx are two runs, labelled by their directory."""
        build_fixture_run(Path("a"))
        build_fixture_run(Path("b"))
        runs = read_runs(["a", "b"], TYPES)
        assert ["a", "b"] == [r.label for r in runs]
        assert ["fx #1", "fx #2"] == [r.label for r in read_runs(["a", "a"], TYPES)]


class TestHelp:
    @pytest.mark.parametrize("command", ["report"])
    def test_help(self, command: str) -> None:
        """-h and --help work."""
        for flag in ("--help", "-h"):
            result = cli(command, flag)
            assert 0 == result.exit_code
            assert "Usage" in result.stdout


class TestNanMarks:
    def test_many_nan_steps_are_marked_across_the_run(self) -> None:
        """More NaN steps than marks: the marks spread from the first to the last NaN step."""
        from eventlog_cli.commands._charts import _MAX_MARKS, _nan_marks
        from eventlog_cli.query.series import Series

        s = Series("loss", [], [], 0, nonfinite=list(range(0, 1000, 5)))
        xs = [m["x0"] for m in _nan_marks([s])]
        assert _MAX_MARKS == len(xs)
        assert (0, 995) == (xs[0], xs[-1])


class TestSamplesFromOtherWriters:
    def test_samples_written_with_json_dumps_spacing_are_shown(self, tmp_path: Path) -> None:
        """Samples of a run written with json.dumps (spacing, ensure_ascii escapes) are in the report, wrong first."""
        eventlog.init("w", run="rün", console="off")
        eventlog.emit("sample", step=1, output="right answer", correct=True, reward=1.0)
        eventlog.emit("sample", step=2, output="wrong answer", correct=False, reward=0.0)
        eventlog.emit("step_metrics", step=2, metrics={"loss": 0.5})
        eventlog.finish()
        path = Path("w/events.jsonl")
        lines = [json.dumps(json.loads(ln)) for ln in path.read_text(encoding="utf-8").splitlines()]
        assert '"run": "r\\u00fcn"' in lines[0]  # the other writer's spelling
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert 0 == cli("report", "w", "--out", "r.html").exit_code
        assert ["wrong answer", "right answer"] == parse(Path("r.html")).outputs
