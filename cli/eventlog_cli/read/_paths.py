"""Which files to read: files, run directories, globs, ``-`` for stdin, or the newest run."""

from __future__ import annotations

import glob
import gzip
import sys
from collections.abc import Sequence
from pathlib import Path

from eventlog_cli.errors import DataError

__all__ = ["raw_bytes", "resolve_paths"]


def resolve_paths(paths: Sequence[str]) -> list[str]:
    """Files for the given paths (files, run directories, globs, ``-``); the newest run when none.

    Raises:
        DataError: a path does not exist, a directory has no events, a glob matches nothing.
    """
    if not paths:
        newest = _newest_run(Path("runs"))
        sys.stderr.write(f"using {newest} (the newest run under ./runs)\n")
        paths = [str(newest)]
    files: list[str] = []
    for p in paths:
        if p == "-":
            files.append("-")
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted(str(x) for x in path.iterdir() if x.name.endswith((".jsonl", ".jsonl.gz")))
            if not found:
                msg = f"{p}: no *.jsonl files in this directory; pass a run directory or a .jsonl file"
                raise DataError(msg)
            files.extend(found)
        elif path.is_file():
            files.append(str(path))
        elif any(c in p for c in "*?["):
            matched = sorted(glob.glob(p))
            if not matched:
                msg = f"{p}: the pattern matches no file"
                raise DataError(msg)
            files.extend(matched)
        else:
            msg = f"{p}: no such file or directory"
            raise DataError(msg)
    return files


def _newest_run(root: Path) -> Path:
    runs = [d for d in root.iterdir() if d.is_dir() and any(d.glob("*.jsonl*"))] if root.is_dir() else []
    if not runs:
        msg = "no path given and no run under ./runs; pass a run directory or a .jsonl file"
        raise DataError(msg)
    return max(runs, key=lambda d: max(f.stat().st_mtime for f in d.glob("*.jsonl*")))


def raw_bytes(path: str) -> bytes | None:
    """Bytes for stdin and gzip files; None means polars can read the path itself."""
    if path == "-":
        return sys.stdin.buffer.read()
    if path.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (OSError, EOFError) as exc:
            msg = f"{path}: cannot decompress ({exc}); is it a complete gzip file?"
            raise DataError(msg) from None
    return None
