"""The one renderer: a command's :class:`Result` → a table on the terminal, ``--json`` or ``--csv``.

The shape family (the same for every command):

* ``--csv`` writes the command's main table: a header of column keys, then one line
  per row; empty cells for null, ``nan`` for NaN, nested values as JSON text, control
  characters shown escaped.
* ``--json`` writes those same rows as a JSON list of objects with the same keys when
  the rows are the whole answer: ``table``, ``samples``, ``grep``.
* A command whose answer is one record or has context around its rows writes one JSON
  object instead, and its main table (the ``--csv`` rows) is one key of it:
  ``trend`` → ``rows`` (beside ``metric``, ``source``), ``phases`` → ``phases`` (beside
  ``counts``), ``groups`` → ``summaries`` (beside ``details``), ``validate`` →
  ``problems`` (beside ``lines``, ``ok``), ``summary`` → ``runs``, each run's ``metrics``
  (the CSV adds a ``run`` column; one run or several, the same ``{"runs": [...]}``), ``eval`` → the flat
  object of ``eval_logs/eval_step_XXXX.json`` (``step``, each metric, ``split``, ``total``,
  ``duration`` at the top level; the CSV has it as ``metric``/``value`` rows), or, when several
  splits were evaluated at the step, the list of their flat objects (the CSV adds a ``split`` column).
* NaN and ±Inf are written as ``"NaN"``/``"Infinity"``/``"-Infinity"``, as in the event files.
* Without either flag: ``Result.view`` if the command has its own look, else a plain
  table of the rows.

These keep the JSON every earlier version wrote, which tests and scripts rely on.

A command builds ``Result(rows, columns, data=..., view=...)`` and calls
``render(result, output_format(json_output, csv_output))``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventlog_cli.commands._output import emit_csv, emit_json, emit_json_rows, new_table, print_table, text

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

__all__ = ["ROWS", "Result", "render"]

ROWS: Any = object()  # Result.data default: the JSON answer is the rows themselves


@dataclass
class Result:
    """What a command answers.

    Args:
        rows: the main table, one dict per row (or a polars frame, for big tables).
        columns: the keys of the rows, in order (CSV header; columns of the plain table).
        data: the ``--json`` value when it is not just the rows (one object; see above).
        view: prints the terminal look, when it is not the plain table of ``rows``.
        title: the plain table's title.
        right: columns the plain table aligns right.
    """

    rows: list[dict[str, Any]] | pl.DataFrame
    columns: Sequence[str]
    data: Any = ROWS
    view: Callable[[], None] | None = None
    title: str | None = None
    right: Sequence[str] = ()

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as dicts, whatever they were given as."""
        return self.rows.to_dicts() if isinstance(self.rows, pl.DataFrame) else self.rows


def render(result: Result, fmt: str) -> None:
    """Write ``result`` on stdout as ``table``, ``json`` or ``csv``."""
    if fmt == "json":
        if result.data is not ROWS:
            emit_json(result.data)
        elif isinstance(result.rows, pl.DataFrame):
            emit_json_rows(result.rows)
        else:
            emit_json(result.rows)
    elif fmt == "csv":
        emit_csv(result.dicts(), list(result.columns))
    elif result.view is not None:
        result.view()
    else:
        t = new_table(*result.columns, title=result.title, right=tuple(result.right))
        for r in result.dicts():
            t.add_row(*(text("" if r.get(c) is None else r.get(c)) for c in result.columns))
        print_table(t)
