"""``eventlog validate``: every line against the schema of its type; exit 1 when anything is wrong."""

from __future__ import annotations

from typing import Any

import typer

from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, output_format
from eventlog_cli.commands._output import console, text
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
    """``file:line: problem`` lines (as compilers print them), whole at any terminal width."""
    out = console()
    for p in problems:
        out.print(text(f"{p['file']}:{p['line']}: {p['problem']}"), soft_wrap=True)
    out.print(text(f"{count} events checked, {len(problems)} problem(s)", "red" if problems else "green"))


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
