"""The ``eventlog`` command: analysis of eventlog JSONL runs (needs the ``cli`` extra).

Three layers, each importing only the ones before it:

* ``read/``: files → lines → records (event with file and line beside it) and polars frames;
* ``query/``: questions answered as plain data, raising ``errors.DataError``/``UsageError``;
* ``commands/``: one module per command (parse → query → render), one renderer,
  one read helper, one exit-code map; ``_app.py`` joins them in the Typer app.

``errors.py`` holds the domain errors; ``_where.py`` the safe ``--where`` language.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_HINT = 'eventlog: the command needs the cli extra; install it with: pip install "eventlog-ml[cli]"'


def main() -> None:
    """Entry point of the ``eventlog`` script."""
    try:
        import polars  # noqa: F401
        import rich  # noqa: F401
        import typer  # noqa: F401
    except ImportError:
        sys.stderr.write(_HINT + "\n")
        raise SystemExit(1) from None
    from eventlog_cli._app import run

    run()
