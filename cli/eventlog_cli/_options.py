"""Options shared by the commands (Annotated aliases)."""

from __future__ import annotations

from typing import Annotated

import typer

Paths = Annotated[
    list[str] | None,
    typer.Argument(help="Event files, run directories, globs or - for stdin (default: the newest run under ./runs)."),
]
Json = Annotated[bool, typer.Option("--json", help="Write JSON to stdout instead of a table.")]
Csv = Annotated[bool, typer.Option("--csv", help="Write CSV to stdout.")]
Strict = Annotated[bool, typer.Option("--strict", help="Exit 1 when any line had to be skipped.")]
Rank = Annotated[int | None, typer.Option("--rank", help="Only events of this rank.")]
Steps = Annotated[str | None, typer.Option("--steps", help="Step range A:B (inclusive; A: or :B open).")]
Events = Annotated[
    list[str] | None, typer.Option("--event", "-e", help="Only these event types (repeat or comma-separate).")
]


def split_names(values: list[str] | None) -> list[str] | None:
    """``["a,b", "c"]`` → ``["a", "b", "c"]``; None stays None."""
    if not values:
        return None
    return [x.strip() for v in values for x in v.split(",") if x.strip()]
