"""The one read helper: load the files a command asks for and report what had to be skipped.

``read(paths, types, strict=strict)`` replaces the ``load(...)`` / ``report(strict)``
preamble every command had: skipped lines go to stderr (a torn last line as a
note, anything else as one warning line), and ``strict`` makes either an error.
Values found odd later, while decoding (a metric that is not a number), are warned
about on stderr as they are found.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from eventlog._text import sanitize
from eventlog_cli.errors import DataError
from eventlog_cli.read import Loaded, load

if TYPE_CHECKING:
    from eventlog_cli.query.rundata import RunData

__all__ = ["read", "read_runs", "report"]


def read(
    paths: Sequence[str] | None,
    types: Iterable[str] | None = None,
    *,
    strict: bool = False,
    contains: str | None = None,
    seqs: bool = False,
) -> Loaded:
    """Load the lines of ``types`` (all when None) from ``paths`` (the newest run when empty), then report.

    ``seqs``: every line's seq is summed up during the scan (``Loaded.seq_problems`` with ``types``).

    Raises:
        DataError: a path cannot be read, or ``strict`` and a line was skipped.
    """
    loaded = load(paths or [], types, contains, seqs)
    report(loaded, strict)
    loaded.warn = _warn  # values found odd later, while decoding, are reported as they are found
    return loaded


def _warn(text: str) -> None:
    sys.stderr.write(f"warning: {sanitize(text)}\n")


def report(loaded: Loaded, strict: bool = False) -> None:
    """Print what was skipped on stderr.

    Raises:
        DataError: ``strict`` and any line was skipped.
    """
    torn = [s for s in loaded.skipped if s.torn]
    bad = sorted({(s.path, s.line, s.reason) for s in loaded.skipped if not s.torn})
    for s in torn:
        sys.stderr.write(f"note: {sanitize(s.path)}:{s.line}: {s.reason}; skipped\n")
    if bad:
        shown = "; ".join(f"{sanitize(Path(p).name)}:{n} ({r})" for p, n, r in bad[:5])
        more = f"; and {len(bad) - 5} more (eventlog validate lists all)" if len(bad) > 5 else ""
        sys.stderr.write(f"warning: {len(bad)} damaged line(s) skipped: {shown}{more}\n")
    if strict and (bad or torn):
        msg = f"{len(bad) + len(torn)} line(s) skipped and --strict is set"
        raise DataError(msg)


def read_runs(
    paths: Sequence[str] | None,
    types: Sequence[str],
    *,
    strict: bool = False,
    rank: int | None = None,
    one_rank: bool = False,
) -> list[RunData]:
    """Each path read on its own (``read``), split into runs, labelled by the one rule (``query.runs.run_labels``).

    ``rank``: keep only that rank's events of each run; ``one_rank``: without ``rank``, keep
    each run's default rank (0, or the lowest present), for timings and metrics.

    Raises:
        DataError: a path cannot be read or holds no run, a run has no events of ``rank``,
            or ``strict`` and a line was skipped.
    """
    from eventlog_cli.query.rundata import label_runs, of_rank, runs_of  # here: read() alone needs none of it

    runs: list[RunData] = []
    sources: list[str | None] = list(paths or []) or [None]
    for src in sources:
        runs += runs_of(read([src] if src else [], types, strict=strict, seqs=True), src, types)
    label_runs(runs)
    if rank is not None or one_rank:
        runs = [of_rank(r, rank) for r in runs]
    return runs
