"""``eventlog export``: one Parquet (or CSV) file per event type, metrics flattened to columns."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import polars as pl
import typer

from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Paths
from eventlog_cli.commands._read import read
from eventlog_cli.errors import DataError, UsageError


@guarded
def export(
    paths: Paths = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for one file per event type.")] = Path("export"),
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
) -> None:
    """One Parquet (or CSV) file per event type; metrics/timing flattened to metrics.NAME columns."""
    if fmt not in ("parquet", "csv"):
        raise UsageError(f"--format {fmt!r}: expected parquet or csv")
    loaded = read(paths)
    types = loaded.lines["event"].unique(maintain_order=True).to_list()
    if not types:
        raise DataError("no events in these files")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {out}: {exc.strerror}") from None
    for name in types:
        frame = loaded.frame(name)
        frame = frame.drop([c for c in ("file", "n") if c in frame.columns])
        safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
        target = out / f"{safe}.{fmt}"
        if fmt == "csv":  # CSV has no lists: nested columns become JSON text
            nested = [c for c, t in frame.schema.items() if isinstance(t, (pl.List, pl.Struct))]
            frame = frame.with_columns(pl.Series(c, [_json_text(v) for v in frame[c].to_list()]) for c in nested)
            frame.write_csv(target, null_value="")
        else:
            frame.write_parquet(target)
        sys.stdout.write(f"{target}\t{frame.height} rows\n")


def _json_text(v: Any) -> str | None:
    return None if v is None else orjson.dumps(v).decode()


def register(app: typer.Typer) -> None:
    app.command("export")(export)
