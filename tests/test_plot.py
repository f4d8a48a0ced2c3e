"""eventlog plot: metrics as image files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import FakeClock, build_fixture_run, cli
from eventlog_cli.commands.plot import split_args

pytest.importorskip("matplotlib")


@pytest.fixture
def two(tmp_path: Path, clock: FakeClock) -> tuple[str, str]:
    build_fixture_run(Path("a"), run="base")
    build_fixture_run(Path("b"), run="other")
    return "a", "b"


class TestPlot:
    def test_svg_has_a_panel_per_metric_and_a_line_per_run(self, two: tuple[str, str]) -> None:
        """Two metrics, two runs: two titled panels, each with series-0 and series-1, legends naming the runs."""
        result = cli("plot", "accuracy", "step.loss", *two, "--out", "p.svg")
        assert 0 == result.exit_code, result.stderr
        assert "p.svg\n" == result.stdout
        svg = Path("p.svg").read_text(encoding="utf-8")
        assert ["series-0", "series-1", "series-0", "series-1"] == re.findall(r'<g id="(series-\d)"', svg)
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
        assert {"eval.accuracy", "step.loss", "base", "other"} <= {t.strip() for t in texts}

    def test_png(self, two: tuple[str, str]) -> None:
        """A PNG file is a PNG, with smoothing and a log axis."""
        result = cli("plot", "loss", "a", "--out", "p.png", "--smooth", "0.6", "--log")
        assert 0 == result.exit_code, result.stderr
        assert Path("p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def test_unknown_type_and_metric(self, two: tuple[str, str]) -> None:
        """A .gif name or an unknown metric: one line, exit 2 and 1."""
        result = cli("plot", "loss", "a", "--out", "p.gif")
        assert (2, "eventlog: --out p.gif: the file type comes from the name; use .png, .svg or .pdf\n") == (
            result.exit_code,
            result.stderr,
        )
        result = cli("plot", "nope", "a", "--out", "p.png")
        assert 1 == result.exit_code
        assert result.stderr.startswith("eventlog: no metric 'nope' in these runs; available: eval.accuracy")

    def test_split_args(self, two: tuple[str, str]) -> None:
        """Trailing arguments that name files are runs, the rest metrics."""
        assert (["loss", "kl"], ["a", "b"]) == split_args(["loss", "kl", "a", "b"])
        assert (["loss"], []) == split_args(["loss"])

    def test_help(self) -> None:
        """-h and --help work."""
        for flag in ("--help", "-h"):
            result = cli("plot", flag)
            assert 0 == result.exit_code and "Usage" in result.stdout


def test_eval_splits_are_lines_of_their_own(tmp_path: Path) -> None:
    """val and test were one zig-zag line per run (0.1, 0.05, 0.2, 0.15...): now a line each, named by split."""
    import orjson

    events = [
        {"event": "eval_summary", "step": s, "split": sp, "metrics": {"accuracy": s / 10 - (sp == "test") / 20}}
        for s in (1, 2, 3)
        for sp in ("val", "test")
    ]
    lines = [orjson.dumps({"v": 1, "ts": 1.0 + i, "run": "r", "rank": 0, "seq": i, **e}) for i, e in enumerate(events)]
    (tmp_path / "run.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "p.svg"
    assert cli("plot", "accuracy", str(tmp_path / "run.jsonl"), "--out", str(out)).exit_code == 0
    svg = out.read_text(encoding="utf-8")
    assert ["series-0", "series-1"] == re.findall(r'<g id="(series-\d)"', svg)
    assert {"r [val]", "r [test]"} <= {t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)}
