"""Column.compile(): the precompiled cell gives exactly Column.format's text (issue 12 §3).

The step table's hot loop uses the compiled cell; ``format`` is the general definition. Every
format kind, every value kind and every row shape is checked against it, byte for byte.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from eventlog._columns import DEFAULT_COLUMNS, Column, StepTable, column_for

FORMATS = ["d", "f0", "f3", "f", "e2", "e", "g3", "g", "g12", "pct", "s", "frac", "+.2f", ".1e", ">5d", "x"]
VALUES: list[Any] = [
    None,
    0,
    -0.0,
    0.0,
    1,
    -7,
    3.0,
    2.5,
    1e-9,
    -1e21,
    123456789.123,
    2**63 - 1,
    float("nan"),
    float("inf"),
    float("-inf"),
    "NaN",
    "Infinity",
    "-Infinity",
    "text",
    "\x1b[31mred",
    True,
    False,
    [3, 8],
    (1, 2),
    [1, 2, 3],
    {"a": 1},
]


def _rows(key: str, v: Any) -> list[dict[str, Any]]:
    """The same value in every row shape lookup() accepts."""
    rows: list[dict[str, Any]] = [
        {key: v},
        {"metrics": {key: v}},
        {f"metrics.{key}": v},
        {"metrics": OrderedDict({key: v})},
        {},
        {"metrics": None, key + "_denom": 8},
        {key: v, key + "_denom": 4, "total_steps": 10, "total_epochs": 2},
    ]
    if "." in key:
        head, _, tail = key.partition(".")
        rows += [{head: {tail: v}}, {head: OrderedDict({tail: v})}, {head: 3}]
    return rows


def _same(col: Column, row: dict[str, Any]) -> None:
    assert col.compile()(row) == col.format(row), (col, row)


class TestCompiledIsFormat:
    def test_every_format_value_and_row_shape(self) -> None:
        n = 0
        for fmt in FORMATS:
            for key in ("loss", "timing.gen", "step"):
                for width in (1, 4, 9):
                    denom = "total_steps" if key == "step" and width == 9 else None
                    for missing in ("nan", "-", "missing!"):  # the CLI's tables show "-" for no value
                        col = Column(key, width, key, fmt, denom=denom, missing=missing)
                        for v in VALUES:
                            for row in _rows(key, v):
                                _same(col, row)
                                n += 1
        assert n > 10_000

    def test_declared_columns(self) -> None:
        for col in (*DEFAULT_COLUMNS, column_for("metrics.accuracy"), column_for("timing.x")):
            for v in VALUES:
                for row in _rows(col.key, v):
                    _same(col, row)

    @given(
        st.sampled_from(FORMATS),
        st.integers(1, 20),
        st.one_of(st.floats(), st.integers(-(2**70), 2**70), st.text(max_size=5), st.none()),
    )
    def test_any_number(self, fmt: str, width: int, v: Any) -> None:
        col = Column("m", width, "m", fmt)
        try:
            want = col.format({"m": v})
        except (OverflowError, ValueError):  # the general code's own limits (an int past float range)
            return
        assert col.compile()({"m": v}) == want

    def test_step_table_row_uses_them(self) -> None:
        table = StepTable()
        row = {"step": 3, "total_steps": 8, "epoch": 1, "metrics": {"loss": math.pi, "kl": float("nan")}}
        assert table.row(row) == " ".join(c.format(row) for c in table.columns)
        assert "    3/8" in table.row(row)


class TestCells:
    """Column.cells(values): a column at a time, the compiled cell's text for each value."""

    @given(
        fmt=st.sampled_from([f for f in FORMATS if f != "frac"]),
        width=st.integers(1, 14),
        values=st.lists(
            st.one_of(
                st.sampled_from(VALUES),
                st.floats(allow_nan=True, allow_infinity=True),
                st.integers(-(2**70), 2**70),
                st.none(),
            ),
            max_size=12,
        ),
    )
    def test_same_text_as_the_compiled_cell(self, fmt: str, width: int, values: list[Any]) -> None:
        col = Column("loss", width, "loss", fmt, missing="-")
        cell = col.compile()
        assert col.cells(values) == [cell({"loss": v}) for v in values]

    def test_a_column_of_plain_numbers(self) -> None:
        col = Column("loss", 8, "loss", "g4", missing="-")
        values = [0.5, None, 3, float("nan"), float("-inf"), 1e-9, 123456789.0]
        assert col.cells(values) == [
            "     0.5",
            "       -",
            "       3",
            "     nan",
            "    -inf",
            "   1e-09",
            "1.23e+08",
        ]  # a number is never cut (was 1.235e+…)

    def test_frac_is_refused(self) -> None:
        import pytest

        with pytest.raises(ValueError, match="frac"):
            Column("epoch", 6, "epoch", "frac").cells([1])

    @given(
        width=st.integers(1, 12),
        pairs=st.lists(
            st.tuples(
                st.one_of(st.sampled_from(VALUES), st.integers(-(2**40), 2**40), st.floats(0, 1e6)),
                st.one_of(st.none(), st.integers(0, 10**6), st.floats(0, 1e3), st.sampled_from(VALUES)),
            ),
            max_size=10,
        ),
        denom=st.sampled_from([None, "total_steps"]),
    )
    def test_frac_with_denominators(self, width: int, pairs: list[tuple[Any, Any]], denom: str | None) -> None:
        """A frac column a column at a time: the compiled cell's text on rows holding value and denominator."""
        col = Column("step", width, "step", "frac", denom=denom, missing="-")
        d_key = denom or "step_denom"
        cell = col.compile()
        want = [cell({"step": v, d_key: d}) for v, d in pairs]
        assert col.cells([v for v, _ in pairs], [d for _, d in pairs]) == want
