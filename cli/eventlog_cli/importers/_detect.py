"""Which importer reads a source, and the import itself (one run directory per source)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.importers import hf, tensorboard, verl
from eventlog_cli.importers._writer import RunWriter

__all__ = ["FORMATS", "import_run"]

FORMATS: dict[str, tuple[Callable[[Path], bool], Callable[[Path, RunWriter], None]]] = {
    "hf": (hf.looks_like, hf.import_trainer_state),
    "tensorboard": (tensorboard.looks_like, tensorboard.import_tensorboard),
    "verl": (verl.looks_like, verl.import_verl),
}


def import_run(src: Path, out: Path, fmt: str | None = None, run: str | None = None) -> RunWriter:
    """Import ``src`` into ``out/events.jsonl``; returns the (closed) writer with its counts and notes.

    Raises:
        CliError: the source is missing or not recognised, or ``out`` already holds a run.
    """
    if not src.exists():
        raise DataError(f"{src}: no such file or directory")
    if fmt is None:
        found = [name for name, (looks, _) in FORMATS.items() if looks(src)]
        if not found:
            raise DataError(
                f"{src}: not a trainer_state.json, TensorBoard event file/dir or verl console log; "
                f"pass --format {'/'.join(FORMATS)}"
            )
        fmt = found[0]
    elif fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    named = src.resolve().parent if src.is_file() and src.name == "trainer_state.json" else src.resolve()
    name = run or named.stem or "imported"
    w = RunWriter(out, name, str(src), fmt)
    try:
        FORMATS[fmt][1](src, w)
    except BaseException:
        w.abort()
        raise
    w.close()
    return w
