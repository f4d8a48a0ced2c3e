"""Reading event files: the first of the CLI's three layers (read → query → commands).

What lives here:

* ``_paths``: which files (paths, run directories, globs of either, ``-`` for stdin, the newest
  run) and how (plain files mapped a window at a time; stdin, pipes and gzip, sniffed by their
  first bytes, in chunks);
* ``_scan``: which lines may be of the types asked for (``_find``: ``memmem`` on the quoted type
  names; or every line by polars in ``_lines`` when there are no types, many, or every seq is
  summed up), each selected line checked whole (msgspec reads its top-level ``event`` and the
  keys of its maps): damaged ones are set aside with their line numbers before any output;
* ``_store``: what is kept of a selected line: offset, length, line number, type code (the text
  stays in the file, or in a spool file for streams), so memory is bounded at any size;
* ``_seqs``: the envelope patterns and each file's seq numbers summed up during the scan (count
  and runs of distinct values), so ``seq_problems`` covers every line when only some types are kept;
* ``_dtypes``: field reader names, one table, and ``reader_of(field)``;
* ``_decode``: selected lines → typed columns (msgspec structs built from the schema and the
  wanted keys); ``_frames``: the forgiving path (flattened records) and what frames are made of;
* ``_record``: :class:`Record`, an event with its ``file`` and ``line`` kept beside it; :class:`Skipped`;
* ``_stream``: ``Loaded.stream()``'s order, the same as ``records()``'s without holding the events
  (one file as written, several merged, a file out of order read sorted a block at a time);
* ``_loaded``: ``load()`` and :class:`Loaded` (``records()``, ``stream()``, ``frame()``, ``keys()``, ``lines``).

Nothing here knows exit codes (problems are ``errors.DataError``) or prints, except the
one ``using runs/<newest>`` line on stderr when no path is given and a note for each
directory entry that is not a regular file (paths sanitised). Skipped lines and
odd values are data on ``Loaded`` (``skipped``, ``notes``, ``warn``); ``commands/_read.py``
reports them.
"""

from __future__ import annotations

from eventlog_cli.read._dtypes import READERS, reader_of
from eventlog_cli.read._frames import SHADOWED
from eventlog_cli.read._loaded import Loaded, load
from eventlog_cli.read._paths import resolve_paths
from eventlog_cli.read._record import Record, Skipped, as_rank, hashable
from eventlog_cli.read._why import TOO_DEEP, loads_lenient, too_deep

__all__ = [
    "READERS",
    "SHADOWED",
    "TOO_DEEP",
    "Loaded",
    "Record",
    "Skipped",
    "as_rank",
    "hashable",
    "load",
    "loads_lenient",
    "reader_of",
    "resolve_paths",
    "too_deep",
]
