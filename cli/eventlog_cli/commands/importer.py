"""``eventlog import``: an existing run (trainer_state.json, TensorBoard files, a verl log) → an eventlog run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from eventlog._text import sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Json
from eventlog_cli.commands._output import emit_json
from eventlog_cli.importers import FORMATS, import_run


@guarded
def import_(
    src: Annotated[
        Path, typer.Argument(help="trainer_state.json (or its directory), a tfevents file or log dir, a verl log.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The run directory to create (must not hold a run).")],
    fmt: Annotated[
        str | None, typer.Option("--format", help=f"{', '.join(FORMATS)} (default: detected from the source).")
    ] = None,
    run: Annotated[str | None, typer.Option("--run", help="Run id (default: from the source's name).")] = None,
    json_output: Json = False,
) -> None:
    """Turn an existing run's logs into an eventlog run that every command reads."""
    w = import_run(src, out, fmt, run)
    for note in w.notes:
        sys.stderr.write(f"note: {sanitize(note)}\n")  # notes name tags and keys read from the source
    counts = dict(sorted(w.counts.items()))
    if json_output:
        emit_json({"source": str(src), "format": w.format, "out": str(w.path), "run": w.run, "events": counts})
        return
    detail = ", ".join(f"{k} {v}" for k, v in counts.items())
    line = f"imported {sum(counts.values())} events ({detail}) from {src} [{w.format}] into {w.path}"
    sys.stdout.write(sanitize(line) + "\n")


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
