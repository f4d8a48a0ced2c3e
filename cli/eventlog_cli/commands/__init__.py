"""The commands: the CLI's third layer, one small module per command (parse → query → render).

A command module defines one function wrapped in ``@guarded`` and ``register(app)``;
``COMMANDS`` below lists them in the order ``eventlog --help`` shows them. The shared pieces:

* ``_options``: the Annotated options (``Paths``, ``Json``, ``Csv``, ``Strict``...) and
  ``output_format(json_output, csv_output)``;
* ``_read``: ``read(paths, types, strict=...)``, the one load-and-report-skipped-lines helper;
* ``_render``: ``Result`` and ``render(result, fmt)``, the one table | json | csv renderer
  (its docstring defines the JSON/CSV shape family);
* ``_exit``: ``guarded`` and ``exit_code``, the one place exceptions become exit codes;
* ``_output``: low-level writers (rich console, sanitised text, JSON, CSV);
* ``_steptable``: the step table on a terminal (unique headers, run/rank columns, blocks that fit);
* ``_config``: the project's step-table columns, from the library's config loader.

A new command is a new module here (copy ``eval.py``: ~50 lines) plus one line in ``COMMANDS``
(name → module, in help order); ``modules()`` imports them, only the one a command line names
when it names one (``_app.run``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType

# command name -> its module, in the order ``eventlog --help`` shows them
COMMANDS = {
    "replay": "replay",
    "grep": "grep",
    "filter": "filter",
    "phases": "phases",
    "table": "table",
    "trend": "trend",
    "eval": "eval",
    "summary": "summary",
    "samples": "samples",
    "groups": "groups",
    "report": "report",
    "compare": "compare",
    "plot": "plot",
    "watch": "watch",
    "validate": "validate",
    "export": "export",
    "import": "importer",
    "demo": "demo",
}


def modules(commands: Iterable[str] | None = None) -> list[ModuleType]:
    """The command modules in help order, imported here: all of them, or those of ``commands`` (names).

    ``eventlog grep ...`` imports grep's module and what it needs, not every command's (the query
    and read layers of the others, ~60 ms of a start-up).
    """
    wanted = None if commands is None else set(commands)
    return [
        importlib.import_module(f"eventlog_cli.commands.{module}")
        for name, module in COMMANDS.items()
        if wanted is None or name in wanted
    ]
