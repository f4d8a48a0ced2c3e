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

__all__ = ["console", "emit_csv", "emit_json", "emit_json_rows", "json_line", "jsonable", "new_table", "text"]


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


def jsonable(v: Any) -> Any:
    """Non-finite floats as "NaN"/"Infinity"/"-Infinity", like the event files."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


# orjson escapes C0 but writes DEL, C1 and bidi controls raw; JSON allows \uXXXX for them, same value.
_RAW_CONTROL = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe_json(data: bytes) -> bytes:
    """JSON text with every terminal control character written as a \\u escape."""
    if data.isascii():
        return data.replace(b"\x7f", b"\\u007f")
    text = data.decode("utf-8")
    return _RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


def json_line(obj: Any) -> bytes:
    """One compact JSON line (for JSONL output), terminal-safe."""
    return safe_json(orjson.dumps(obj)) + b"\n"


def emit_json_rows(frame: Any) -> None:
    """A polars frame as a JSON list of objects; non-finite floats spelled as in the event files.

    Fast path for big tables: only the cells that are NaN or ±Inf are patched in Python.
    """
    import polars as pl

    if frame.height == 0:
        sys.stdout.write("[]\n")
        return
    # In slices of rows, each dumped as a list whose brackets are dropped: the same text as one
    # dump of all rows (orjson indents by depth), without holding every row as a dict at once.
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    sys.stdout.write("[\n")
    for start in range(0, frame.height, _ROWS):
        part = frame.slice(start, _ROWS)
        rows = part.to_dicts()
        for name in floats:
            odd = part.with_row_index("_i").filter(pl.col(name).is_not_null() & ~pl.col(name).is_finite())
            for i, v in odd.select("_i", name).iter_rows():
                rows[i][name] = jsonable(v)
        text = safe_json(orjson.dumps(rows, option=orjson.OPT_INDENT_2)).decode()
        sys.stdout.write(("" if start == 0 else ",\n") + text[2:-2])
    sys.stdout.write("\n]\n")


_ROWS = 8192  # rows turned into dicts at a time by emit_json_rows


def emit_json(obj: Any) -> None:
    sys.stdout.write(safe_json(orjson.dumps(jsonable(obj), option=orjson.OPT_INDENT_2)).decode() + "\n")


def _csv_cell(x: Any) -> Any:
    if x is None:
        return ""
    if isinstance(x, float) and x != x:
        return "nan"
    if isinstance(x, (dict, list)):  # CSV has no nesting: the value as JSON text
        return sanitize(orjson.dumps(jsonable(x)).decode())
    return sanitize(x) if isinstance(x, str) else x


def emit_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """CSV on stdout; CSV cannot escape control characters, so strings show them as visible escapes."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([sanitize(c) for c in columns])
    for r in rows:
        w.writerow([_csv_cell(r.get(c)) for c in columns])
    sys.stdout.write(buf.getvalue())
