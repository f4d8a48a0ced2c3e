"""Options shared by the commands (Annotated aliases) and the output format they select."""

from __future__ import annotations

from typing import Annotated

import typer

from eventlog_cli.errors import UsageError

Paths = Annotated[
    list[str] | None,
    typer.Argument(help="Event files, run directories, globs or - for stdin (default: the newest run under ./runs)."),
]
Json = Annotated[bool, typer.Option("--json", help="Write JSON to stdout instead of a table.")]
Csv = Annotated[bool, typer.Option("--csv", help="Write CSV to stdout.")]
Strict = Annotated[bool, typer.Option("--strict", help="Exit 1 when any line had to be skipped.")]
Rank = Annotated[int | None, typer.Option("--rank", help="Only events of this rank.")]
HigherBetter = Annotated[
    bool, typer.Option("--higher-better", help="A larger value is better (marks the best; default: known names only).")
]
LowerBetter = Annotated[bool, typer.Option("--lower-better", help="A smaller value is better (marks the best).")]
Split = Annotated[
    str | None,
    typer.Option("--split", help="Only evals of this split (val, test...); without it each split is its own series."),
]
Steps = Annotated[str | None, typer.Option("--steps", help="Step range A:B (inclusive; A: or :B open).")]
Events = Annotated[
    list[str] | None, typer.Option("--event", "-e", help="Only these event types (repeat or comma-separate).")
]


def split_names(values: list[str] | None) -> list[str] | None:
    """``["a,b", "c"]`` → ``["a", "b", "c"]``; None stays None."""
    if not values:
        return None
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def output_format(json_output: bool, csv_output: bool = False) -> str:
    """``json``, ``csv`` or ``table`` from the two flags.

    Raises:
        UsageError: both flags are given.
    """
    if json_output and csv_output:
        raise UsageError("--json and --csv: choose one")
    return "json" if json_output else "csv" if csv_output else "table"
