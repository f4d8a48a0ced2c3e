"""``eventlog validate``: every line against the schema of its type; exit 1 when anything is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, output_format
from eventlog_cli.commands._output import console, new_table, text
from eventlog_cli.commands._render import Result, render
from eventlog_cli.errors import NoMatchError
from eventlog_cli.query.validate import check_files


@guarded
def validate(paths: Paths = None, json_output: Json = False, csv_output: Csv = False) -> None:
    """Check every line against the schema of its type; exit 1 when anything is wrong.

    ``--json`` is ``{"lines", "problems", "ok"}``; ``--csv`` is the problems (file, line, problem).
    """
    fmt = output_format(json_output, csv_output)
    count, problems = check_files(paths or [])
    data = {"lines": count, "problems": problems, "ok": not problems}
    render(Result(problems, ["file", "line", "problem"], data=data, view=lambda: _view(count, problems)), fmt)
    if problems:
        raise NoMatchError


def _view(count: int, problems: list[dict[str, Any]]) -> None:
    out = console()
    if problems:
        t = new_table("file", "line", "problem", right=("line",))
        for p in problems:
            t.add_row(text(Path(p["file"]).name), text(p["line"]), text(p["problem"]))
        out.print(t)
    out.print(text(f"{count} events checked, {len(problems)} problem(s)", "red" if problems else "green"))


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
