"""``--json`` rows written a column at a time: the same text as orjson on a dict per row, for any frame.

``emit_json_rows`` encodes a frame of scalar columns column by column (``_rows_by_column``) and
anything else row by row (``_rows_by_dict``); both must give what one ``orjson.dumps`` of the
rows as dicts (non-finite floats spelled as in the event files, terminal controls escaped) gives.
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import cli
from eventlog_cli.commands import _output
from eventlog_cli.commands._output import emit_json_rows, jsonable, safe_json

NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
TEXT = st.one_of(st.text(max_size=8), st.sampled_from([",", '","', "a,b", "%s", "\x7f", "\u202e", "\x1b[31m", "é"]))
FLOATS = st.one_of(st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e300, 5e-324]))
COLUMNS = {
    pl.Int64: st.integers(-(2**63), 2**63 - 1),
    pl.UInt8: st.integers(0, 255),
    pl.Float64: FLOATS,
    pl.Float32: st.floats(width=32),
    pl.String: TEXT,
    pl.Boolean: st.booleans(),
    pl.List(pl.Float64): st.lists(FLOATS, max_size=3),
}


def _expected(frame: pl.DataFrame) -> str:
    if frame.height == 0:
        return "[]\n"
    rows = [
        {k: jsonable(v) if not isinstance(v, list) else v for k, v in row.items()}  # nested: as before, unpatched
        for row in frame.to_dicts()
    ]
    return safe_json(orjson.dumps(rows, option=orjson.OPT_INDENT_2)).decode() + "\n"


@st.composite
def frames(draw: Any, scalar_only: bool) -> pl.DataFrame:
    height = draw(st.integers(0, 12))
    kinds = [k for k in COLUMNS if not (scalar_only and isinstance(k, pl.List))]
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    cols = {}
    for name in names:
        dtype = draw(st.sampled_from(kinds))
        values = draw(st.lists(st.one_of(st.none(), COLUMNS[dtype]), min_size=height, max_size=height))
        cols[name] = pl.Series(name, values, dtype=dtype)
    if draw(st.booleans()):
        cols["nothing"] = pl.Series("nothing", [None] * height)  # the Null dtype
    return pl.DataFrame(list(cols.values()))


@pytest.mark.parametrize("scalar_only", [True, False])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_rows_match_orjson_on_dicts(scalar_only: bool, data: st.DataObject) -> None:
    frame = data.draw(frames(scalar_only))
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setattr(_output, "_ROWS", data.draw(st.sampled_from([3, 8192])))  # slices joined as one list
        emit_json_rows(frame)
    assert out.getvalue() == _expected(frame)


@pytest.mark.parametrize("name", ["*", "^a$", "^.*$"])
def test_a_column_named_as_a_polars_wildcard_is_that_column(name: str) -> None:
    """``pl.col("*")`` (or a ``^...$`` regex) selects every column: the non-finite floats are found by the
    column itself (hypothesis found a frame with a ``*`` column raising polars' ComputeError)."""
    frame = pl.DataFrame(
        [
            pl.Series(name, [math.nan, 1.5, None], dtype=pl.Float64),
            pl.Series("a", [math.inf, 2.0, 3.0], dtype=pl.Float64),
            pl.Series("l", [[1.0], None, []], dtype=pl.List(pl.Float64)),  # a list column: the row path
        ]
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        emit_json_rows(frame)
    assert out.getvalue() == _expected(frame)
    assert [r[name] for r in orjson.loads(out.getvalue())] == ["NaN", 1.5, None]


def test_a_scalar_frame_takes_the_column_path(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fast path is the one taken (the row path would give the same text, so spy on it)."""
    calls: list[str] = []
    monkeypatch.setattr(_output, "_rows_by_dict", lambda part: calls.append("dict") or b"")
    emit_json_rows(pl.DataFrame({"step": [1, 2], "loss": [0.5, math.nan], "run": ["a,b", None]}))
    out = capsys.readouterr().out
    assert calls == []
    assert orjson.loads(out) == [{"step": 1, "loss": 0.5, "run": "a,b"}, {"step": 2, "loss": "NaN", "run": None}]


def _line(seq: int, loss: str) -> str:
    head = f'{{"v":1,"ts":{seq + 1}.0,"event":"step_metrics","run":"r","rank":0,"seq":{seq},"step":{seq + 1}'
    return head + f',"metrics":{{"loss":{loss}}}}}'


def test_numbers_beyond_a_float_and_mixed_ints(tmp_path: Path) -> None:
    """Integer literals too big for a float are ±Infinity (was a traceback); ints among floats are their floats."""
    big = "1" + "0" * 400
    lines = [_line(0, big), _line(1, "1.5"), _line(2, f"-{big}"), _line(3, str(2**53 + 1)), _line(4, '"NaN"')]
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = cli("table", "--cols", "step,loss", "--json", str(path))
    assert result.exit_code == 0, result.output
    assert [r["loss"] for r in orjson.loads(result.stdout)] == ["Infinity", 1.5, "-Infinity", float(2**53 + 1), "NaN"]


def test_integers_beyond_64_bits_in_json_and_the_report(tmp_path: Path) -> None:
    """A step beyond 64 bits (another writer's JSON) is written as its float, not a traceback from orjson."""
    big = 2**70
    lines = [_line(0, "1.0").replace('"step":1', f'"step":{big}'), _line(1, "2.0")]
    lines.append(f'{{"v":1,"ts":5.0,"event":"eval_summary","run":"r","rank":0,"seq":2,"step":{big},"split":"val",')
    lines[-1] += '"metrics":{"accuracy":0.5}}'
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join(lines) + "\n")
    trend = cli("trend", "accuracy", "--json", str(path))
    assert trend.exit_code == 0, trend.output
    assert [r["step"] for r in orjson.loads(trend.stdout)["rows"]] == [float(big)]
    report = cli("report", str(path), "-o", str(tmp_path / "r.html"))
    assert report.exit_code == 0, report.output
    assert "1.1805916207174113e+21" in (tmp_path / "r.html").read_text()
