"""``print_table`` writes what rich prints for the same table, byte for byte, on a terminal and off one.

It lays out the rows of ``new_table``'s tables itself (rich takes ~0.5 ms a row: 45 s for a 100k-step
``trend``); these cases compare it with rich's own rendering of random tables: cells of ASCII, wide
and combining characters, spaces at either end, empty cells, every justification, the wrapping
columns, titles longer than the table, tables too wide for the console (rich's then).
"""

from __future__ import annotations

import io
import random

import pytest
from rich.console import Console

from eventlog_cli.commands._output import _plain_cells, _widths, new_table, print_rows, print_table, text

ALPHABET = ["a", "Z", "0", "7", ".", "-", "+", "e", " ", "★", "中", "é", "e\u0301", "/", "_"]


def _console(terminal: bool, width: int) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    con = Console(
        file=buf,
        width=width,
        force_terminal=terminal,
        color_system="truecolor" if terminal else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )
    return con, buf


def _word(rng: random.Random, most: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, most)))


def _table(rng: random.Random) -> object:
    names = ["step", "loss", "message", "value", "change", "best", "run a", "k"]
    cols = rng.sample(names, rng.randint(1, 5))
    right = [c for c in cols if rng.random() < 0.5]
    title = _word(rng, 40) if rng.random() < 0.8 else None
    t = new_table(*cols, title=title, right=right)
    for _ in range(rng.randint(1, 12)):
        t.add_row(*(text(_word(rng, 14)) for _ in cols))
    return t


def _both(t: object, terminal: bool, width: int) -> tuple[str, str]:
    con, buf = _console(terminal, width)
    con.print(t)
    fast, fbuf = _console(terminal, width)
    print_table(t, fast)  # type: ignore[arg-type]
    return buf.getvalue(), fbuf.getvalue()


@pytest.mark.parametrize("terminal", [False, True])
def test_random_tables_print_as_rich_prints_them(terminal: bool) -> None:
    rng = random.Random(12)
    laid_out = 0
    for _ in range(400):
        t = _table(rng)
        width = rng.choice([30, 60, 120])
        expected, got = _both(t, terminal, width)
        assert got == expected, (t.title, [c._cells for c in t.columns], width)  # type: ignore[attr-defined]
        cells = _plain_cells(t)  # type: ignore[arg-type]
        laid_out += cells is not None and _widths(t, cells, width) is not None  # type: ignore[arg-type]
    assert laid_out > 200  # most of them took the fast path: the comparison is not only rich against itself


def test_a_styled_cell_or_a_line_break_leaves_the_table_to_rich() -> None:
    t = new_table("step", "loss", right=("step", "loss"))
    t.add_row(text("1"), text("0.5", style="bold"))
    assert _plain_cells(t) is None
    t = new_table("message")
    t.add_row(text("two\nlines"))
    assert _plain_cells(t) is None
    expected, got = _both(t, True, 80)
    assert got == expected


def test_a_long_table_is_written_in_the_same_lines() -> None:
    t = new_table("step", "loss", "change", "best", title="r: step.loss", right=("step", "loss", "change"))
    for i in range(3000):
        t.add_row(text(str(i + 1)), text(f"{i / 7:.4g}"), text(f"{(-1) ** i * 0.5:+.4g}"), text("★" if i == 7 else ""))
    expected, got = _both(t, False, 120)
    assert got == expected
    assert got.count("\n") == 3000 + 3


@pytest.mark.parametrize("terminal", [False, True])
def test_rows_given_as_values_print_as_the_table_of_their_texts(terminal: bool) -> None:
    """``print_rows`` (no Text per cell) gives what ``print_table`` of the same rows as ``text()`` cells gives,
    a value that needs rich (a line break) included."""
    rng = random.Random(5)
    for k in range(200):
        cols = rng.sample(["step", "loss", "message", "best", "k"], rng.randint(1, 4))
        right = [c for c in cols if rng.random() < 0.5]
        rows = [[rng.choice([_word(rng, 12), 1.5, None, 7, "a\nb" if k % 9 == 0 else "x"]) for _ in cols]
                for _ in range(rng.randint(1, 8))]  # fmt: skip
        title = _word(rng, 30) or None
        width = rng.choice([40, 120])
        t = new_table(*cols, title=title, right=right)
        for row in rows:
            t.add_row(*(text(v) for v in row))
        con, buf = _console(terminal, width)
        print_table(t, con)
        fast, fbuf = _console(terminal, width)
        print_rows(cols, rows, title=title, right=right, out=fast)
        assert fbuf.getvalue() == buf.getvalue(), (cols, rows, title, width)
