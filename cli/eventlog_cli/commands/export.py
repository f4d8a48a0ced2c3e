"""``eventlog export``: one Parquet (or CSV) file per event type, metrics flattened to columns.

File names map event types one to one (:func:`file_stem`): letters, digits, ``_`` and ``-``
are kept, any other character is written ``%XX`` (its UTF-8 bytes), so ``a.b``, ``a_b``
and ``a b`` are three files; a name too long for a file system is cut and ends with a
digest of the whole type. Every name is chosen before anything is written.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from eventlog._text import sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Paths, Rank
from eventlog_cli.commands._output import dumps
from eventlog_cli.commands._read import read
from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.query.runs import only_rank, source_of
from eventlog_cli.read import SHADOWED

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl


@guarded
def export(
    paths: Paths = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for one file per event type.")] = Path("export"),
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    rank: Rank = None,
) -> None:
    """One Parquet (or CSV) file per event type; metrics/timing flattened to metrics.NAME columns.

    Files from several directories get a ``source_dir`` column (the directory), so two runs of one
    name stay apart; ``--rank N`` keeps one rank's events.
    """
    if fmt not in ("parquet", "csv"):
        raise UsageError(f"--format {fmt!r}: expected parquet or csv")
    loaded = read(paths)
    types = loaded.present()
    if not types:
        raise DataError("no events in these files")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {out}: {exc.strerror}") from None
    sources = [source_of(f) for f in loaded.files]
    several = len(set(sources)) > 1
    written = 0
    for name in types:
        try:
            frame = only_rank(loaded.frame(name), rank)
        except DataError:  # no event of this type has that rank
            continue
        if frame.height == 0:
            continue
        if several and "file" in frame.columns:
            where = pl.Series("source_dir", sources, dtype=pl.String).gather(frame["file"])
            if "source_dir" in frame.columns:  # the events' own field of that name: kept beside the directory
                frame = frame.rename({"source_dir": "payload.source_dir"})
                own = f"{sanitize(name)} events' own source_dir field"
                sys.stderr.write(f"note: {own} is exported as payload.source_dir\n")
            frame = frame.insert_column(0, where)
        frame = frame.drop([c for c in ("file", "n") if c in frame.columns])
        frame = frame.rename({v: k for k, v in SHADOWED.items() if v in frame.columns})  # the events' own file, n
        written += 1
        target = out / f"{file_stem(name)}.{fmt}"
        try:
            if fmt == "csv":  # CSV has no lists: nested columns become JSON text
                nested = [c for c, t in frame.schema.items() if isinstance(t, (pl.List, pl.Struct))]
                frame = frame.with_columns(pl.Series(c, [_json_text(v) for v in frame[c].to_list()]) for c in nested)
                frame.write_csv(target, null_value="")
            else:
                frame.write_parquet(target)
        except OSError as exc:
            raise DataError(f"cannot write {sanitize(target)}: {exc.strerror or exc}") from None
        sys.stdout.write(f"{sanitize(target)}\t{frame.height} rows\n")
    if not written:
        raise DataError(f"no events of rank {rank} in these files")


_MAX_STEM = 180  # bytes: room for the extension below the usual 255-byte limit


def file_stem(event: str) -> str:
    """A file name for an event type, one to one: safe characters kept, others ``%XX``; long ones cut + digest."""
    stem = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else _escape(c) for c in event)
    if not stem:
        return "~"  # the empty type; "~" never appears unescaped otherwise
    if len(stem) > _MAX_STEM:
        digest = hashlib.sha256(event.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        stem = f"{stem[: _MAX_STEM - 17]}~{digest}"  # "~" never appears unescaped otherwise
    return stem


def _escape(c: str) -> str:
    return "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))


def _json_text(v: Any) -> str | None:
    return None if v is None else dumps(v).decode()


def register(app: typer.Typer) -> None:
    app.command("export")(export)
