"""Low-level writers for the renderer: rich consoles and tables of sanitised text, JSON and CSV on stdout."""

from __future__ import annotations

import csv
import io
import math
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from eventlog._text import sanitize

if TYPE_CHECKING:  # rich is imported on use, so eventlog --help starts fast
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

__all__ = [
    "console",
    "dumps",
    "emit_csv",
    "emit_json",
    "emit_json_rows",
    "json_line",
    "jsonable",
    "new_table",
    "print_rows",
    "print_table",
    "text",
]


def console() -> Console:
    """stdout as a rich Console: colour on a terminal only, never markup from data.

    Off a terminal the width is ``COLUMNS`` or 120, so piped tables are not squeezed to 80.
    """

    width = None
    if not sys.stdout.isatty():
        cols = os.environ.get("COLUMNS", "")
        width = int(cols) if cols.isdigit() and int(cols) > 20 else 120
    from rich.console import Console

    class _Console(Console):
        """A closed pipe (``eventlog summary | head -3``) is ``commands._exit``'s to map (exit 0), not rich's (1)."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Console(highlight=False, soft_wrap=False, emoji=False, markup=False, width=width)


def text(v: Any, style: str = "") -> Text:
    """Data as a rich Text: sanitised, never parsed as markup."""
    from rich.text import Text

    return Text(sanitize(v), style=style)


def new_table(*columns: str, title: str | None = None, right: Sequence[str] = ()) -> Table:
    from rich import box
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", show_edge=False, pad_edge=False)
    for c in columns:
        t.add_column(c, justify="right" if c in right else "left", no_wrap=c not in ("message", "value"))
    return t


def print_table(t: Table, out: Console | None = None) -> None:
    """``out.print(t)`` for a table of :func:`new_table`, the same text, its rows after the first written as lines.

    rich lays a table out at about half a millisecond a row (``trend`` of a 100,000-step metric
    took 45 s). When every cell is one line of unstyled text and the table fits the width, the
    columns are as wide as their widest cell and each row is its cells justified and joined by
    three spaces, which is what rich prints for this box; rich still prints the title, the
    header and the first row (their styles on a terminal), with the widths fixed. Any other
    table (styled or multi-line cells, too wide to fit) is rich's whole.
    """
    out = out or console()
    cells = _plain_cells(t)
    widths = None if cells is None else _widths(t, cells, out.width)
    if cells is None or widths is None:
        out.print(t)
        return
    _print_plain(t, widths, cells, out)


def print_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
    right: Sequence[str] = (),
    out: Console | None = None,
) -> None:
    """``new_table(*columns, title=title, right=right)`` with a row of ``text(v)`` cells per row, printed by
    :func:`print_table`, without a rich ``Text`` per cell (building 400,000 of them took 3 s)."""
    out = out or console()
    t = new_table(*columns, title=title, right=right)
    cells = [[sanitize(v) for v in col] for col in zip(*rows, strict=True)]
    if rows and all(s.isprintable() for col in cells for s in col):
        widths = _widths(t, cells, out.width)
        if widths is not None:
            _print_plain(t, widths, cells, out)
            return
    for row in rows:
        t.add_row(*(text(v) for v in row))
    out.print(t)


def _print_plain(t: Table, widths: list[int], cells: list[list[str]], out: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    head = Table(box=t.box, title=t.title, title_justify=t.title_justify, title_style=t.title_style)
    head.show_edge = head.pad_edge = False
    for c, w in zip(t.columns, widths, strict=True):
        head.add_column(c.header, justify=c.justify, no_wrap=c.no_wrap, width=w, header_style=c.header_style)
    head.add_row(*(Text(col[0]) for col in cells))
    out.print(head)
    justified = [_justify(col, w, c.justify) for col, w, c in zip(cells, widths, t.columns, strict=True)]
    lines = ["   ".join(row) for row in zip(*justified, strict=True)]
    if len(lines) > 1:
        out.file.write("\n".join(lines[1:]) + "\n")
        out.file.flush()


def _plain_cells(t: Table) -> list[list[str]] | None:
    """Each column's cell texts when every cell is one line of unstyled text in a plain row; None otherwise."""
    from rich.text import Text

    if not t.rows or t.row_styles or any(r.style is not None or r.end_section for r in t.rows):
        return None
    cells: list[list[str]] = []
    for c in t.columns:
        texts = []
        for cell in c._cells:
            if type(cell) is not Text or cell.style or cell.spans or not cell.plain.isprintable():
                return None
            texts.append(cell.plain)
        cells.append(texts)
    return cells


def _widths(t: Table, cells: list[list[str]], width: int) -> list[int] | None:
    """Each column's width (its widest cell or header) when ``t`` is laid out as :func:`new_table` makes it and
    fits in ``width``; None: rich lays it out."""
    from rich import box
    from rich.cells import cell_len

    if (
        t.box is not box.SIMPLE_HEAD
        or (t.show_edge, t.pad_edge, t.show_header, t.show_footer, t.show_lines, t.expand, t.collapse_padding)
        != (False, False, True, False, False, False, False)
        or (t.leading, t.padding, t.width, t.min_width, t.caption) != (0, (0, 1, 0, 1), None, None, None)
    ):
        return None
    widths: list[int] = []
    for c, texts in zip(t.columns, cells, strict=True):
        if (
            c.justify not in ("left", "right", "center")
            or (c.width, c.min_width, c.max_width, c.ratio, c.style) != (None, None, None, None, "")
            or not isinstance(c.header, str)
            or not c.header.isprintable()
        ):
            return None
        widths.append(max((len(s) if s.isascii() else cell_len(s) for s in (c.header, *texts)), default=0))
    return widths if sum(widths) + 3 * (len(widths) - 1) <= width else None


def _justify(texts: list[str], width: int, how: str | None) -> list[str]:
    """Each text padded to ``width`` cells as rich justifies a cell (right and centre drop trailing spaces first)."""
    from rich.cells import cell_len

    def size(s: str) -> int:
        return len(s) if s.isascii() else cell_len(s)

    if how == "left":
        return [s + " " * (width - size(s)) for s in texts]
    out = []
    for s in texts:
        s = s.rstrip()
        gap = width - size(s)
        out.append(" " * gap + s if how == "right" else " " * (gap // 2) + s + " " * (gap - gap // 2))
    return out


def jsonable(v: Any) -> Any:
    """Non-finite floats as "NaN"/"Infinity"/"-Infinity", like the event files."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


def dumps(obj: Any, option: int = 0) -> bytes:
    """``orjson.dumps``, with integers beyond 64 bits (an Int128 column, another writer's JSON) as their floats,
    as ``orjson.loads`` reads them, where orjson would refuse the whole object."""
    try:
        return orjson.dumps(obj, option=option)
    except TypeError as exc:
        if "64-bit" not in str(exc):
            raise
        return orjson.dumps(_fit(obj), option=option)


def _fit(v: Any) -> Any:
    if type(v) is int and not _INT_MIN <= v <= _UINT_MAX:
        try:
            return float(v)
        except OverflowError:  # beyond a float too: spelled as the event files spell an infinity
            return "Infinity" if v > 0 else "-Infinity"
    if isinstance(v, dict):
        return {k: _fit(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_fit(x) for x in v]
    return v


_INT_MIN, _UINT_MAX = -(2**63), 2**64 - 1


# orjson escapes C0 but writes DEL, C1 and bidi controls raw; JSON allows \uXXXX for them, same value.
_RAW_CONTROL = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe_json(data: bytes) -> bytes:
    """JSON text with every terminal control character written as a \\u escape."""
    if data.isascii():
        return data.replace(b"\x7f", b"\\u007f")
    text = data.decode("utf-8")
    return _RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


def json_line(obj: Any) -> bytes:
    """One compact JSON line (for JSONL output), terminal-safe; non-finite floats spelled as in the event files."""
    return safe_json(dumps(jsonable(obj))) + b"\n"


def emit_json_rows(frame: Any) -> None:
    """A polars frame as a JSON list of objects; non-finite floats spelled as in the event files.

    The text is what ``orjson.dumps`` of the rows as dicts with ``OPT_INDENT_2`` writes
    (tests/test_json_rows.py holds the two side by side). A frame of scalar columns (numbers,
    text, booleans) is written a column at a time, never building a dict per row.
    """
    if frame.height == 0:
        sys.stdout.write("[]\n")
        return
    # In slices of rows, each written without the list's brackets: the same text as one dump of all
    # rows (orjson indents by depth), without holding every row at once.
    scalar = all(_scalar(dtype) for dtype in frame.schema.values())
    sys.stdout.write("[\n")
    for start in range(0, frame.height, _ROWS):
        part = frame.slice(start, _ROWS)
        text = _rows_by_column(part) if scalar else _rows_by_dict(part)
        sys.stdout.write(("" if start == 0 else ",\n") + safe_json(text).decode())
    sys.stdout.write("\n]\n")


def _rows_by_dict(part: Any) -> bytes:
    """The rows of ``part`` as indented JSON objects joined by ``,\\n`` (any dtypes): orjson on dicts."""
    rows = part.to_dicts()
    for name, dtype in part.schema.items():
        if dtype.is_float():  # renamed: polars reads a name "*" or "^a$" as a pattern, here and in Series methods
            col = part.get_column(name).alias("x")
            for i in (col.is_not_null() & ~col.is_finite()).arg_true().to_list():
                rows[i][name] = jsonable(col[i])
    return dumps(rows, option=orjson.OPT_INDENT_2)[2:-2]


def _scalar(dtype: Any) -> bool:
    """Whether a column's values are written on one line each by orjson (and fit its integers)."""
    return (dtype.is_integer() and str(dtype) != "Int128") or dtype.is_float() or str(dtype) in _ONE_LINE


_ONE_LINE = frozenset({"String", "Boolean", "Null"})


def _rows_by_column(part: Any) -> bytes:
    """:func:`_rows_by_dict`'s text for a frame of scalar columns, each column encoded at once."""
    cells = []
    for series in part.get_columns():
        values = series.to_list()
        if str(series.dtype) == "String":  # text may hold commas: each value on its own
            cells.append([orjson.dumps(v) for v in values])
            continue
        texts = orjson.dumps(values)[1:-1].split(b",")  # numbers, booleans and null hold no comma
        if texts.count(b"null") != values.count(None):  # orjson writes NaN and ±inf as null: spelled out
            for i, v in enumerate(values):
                if v is not None and texts[i] == b"null":
                    texts[i] = orjson.dumps(jsonable(v))
        cells.append(texts)
    keys = [b"    " + orjson.dumps(name).replace(b"%", b"%%") + b": %b" for name in part.columns]
    row = b"  {\n" + b",\n".join(keys) + b"\n  }"
    return b",\n".join(row % values for values in zip(*cells, strict=True))


_ROWS = 8192  # rows turned into dicts at a time by emit_json_rows


def emit_json(obj: Any) -> None:
    sys.stdout.write(safe_json(dumps(jsonable(obj), option=orjson.OPT_INDENT_2)).decode() + "\n")


def _csv_cell(x: Any) -> Any:
    if x is None:
        return ""
    if isinstance(x, float) and x != x:
        return "nan"
    if isinstance(x, (dict, list)):  # CSV has no nesting: the value as JSON text
        return sanitize(dumps(jsonable(x)).decode())
    return sanitize(x) if isinstance(x, str) else x


def emit_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """CSV on stdout; CSV cannot escape control characters, so strings show them as visible escapes."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([sanitize(c) for c in columns])
    for r in rows:
        w.writerow([_csv_cell(r.get(c)) for c in columns])
    sys.stdout.write(buf.getvalue())
