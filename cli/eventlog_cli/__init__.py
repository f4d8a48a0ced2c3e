"""The ``eventlog`` command: analysis of eventlog JSONL runs (needs the ``cli`` extra).

Three layers, each importing only the ones before it:

* ``read/``: files → lines → records (event with file and line beside it) and polars frames;
* ``query/``: questions answered as plain data, raising ``errors.DataError``/``UsageError``;
* ``commands/``: one module per command (parse → query → render), one renderer,
  one read helper, one exit-code map; ``_app.py`` joins them in the Typer app.

``errors.py`` holds the domain errors; ``_where.py`` the safe ``--where`` language.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main"]

# polars allocates through its own jemalloc, which by default keeps freed pages for seconds: a
# short command then peaks well above what it holds. Returning them at once measured no slower
# (1M-event table and trend, bench/data) and 13% less peak memory on table, about 40 MB less on a
# summary of a gzip (tests/test_reliability2.py::TestGzipStreaming). A user's own setting wins.
_JEMALLOC = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

_HINT = 'eventlog: the command needs the cli extra; install it with: pip install "eventlog-ml[cli]"'


def main() -> None:
    """Entry point of the ``eventlog`` script."""
    from importlib.util import find_spec

    if any(find_spec(name) is None for name in ("polars", "rich", "typer")):  # found, not imported: polars is slow
        sys.stderr.write(_HINT + "\n")
        raise SystemExit(1) from None
    if "polars" not in sys.modules:  # read when polars' allocator starts
        os.environ.setdefault(*_JEMALLOC)
    from eventlog_cli._app import run

    run()
