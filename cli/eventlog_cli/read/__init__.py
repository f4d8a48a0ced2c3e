"""Reading event files: the first of the CLI's three layers (read → query → commands).

What lives here:

* ``_paths``: which files (paths, run directories, globs of either, ``-`` for stdin, the newest
  run) and how (plain files by polars; stdin and gzip, sniffed by their first bytes, in chunks);
* ``_scan``: the line scan with damage detection (torn tails, bad JSON, invalid UTF-8); its byte
  pre-filter keeps every line that may be of the types asked for, whatever the writer;
* ``_seqs``: the envelope patterns and each file's seq numbers summed up during the scan (count
  and runs of distinct values), so ``seq_problems`` covers every line when only some types are kept;
* ``_dtypes``: field reader name → polars dtype, one table, and ``reader_of(field)``;
* ``_frames``: lines → typed frames (fast path) or flattened records (forgiving path);
* ``_record``: :class:`Record`, an event with its ``file`` and ``line`` kept beside it;
* ``_loaded``: ``load()`` and :class:`Loaded` (``records()``, ``frame()``, ``keys()``).

Nothing here knows exit codes (problems are ``errors.DataError``) or prints, except the
one ``using runs/<newest>`` line on stderr when no path is given and a note for each
directory entry that is not a regular file (paths sanitised). Skipped lines and
odd values are data on ``Loaded`` (``skipped``, ``notes``, ``warn``); ``commands/_read.py``
reports them.
"""

from __future__ import annotations

from eventlog_cli.read._dtypes import READERS, reader_of
from eventlog_cli.read._loaded import Loaded, load
from eventlog_cli.read._paths import resolve_paths
from eventlog_cli.read._record import Record
from eventlog_cli.read._scan import Skipped, loads_lenient

__all__ = ["READERS", "Loaded", "Record", "Skipped", "load", "loads_lenient", "reader_of", "resolve_paths"]
