"""The commands: the CLI's third layer, one small module per command (parse → query → render).

A command module defines one function wrapped in ``@guarded`` and ``register(app)``;
``MODULES`` below lists them in the order ``eventlog --help`` shows them. The shared pieces:

* ``_options``: the Annotated options (``Paths``, ``Json``, ``Csv``, ``Strict``...) and
  ``output_format(json_output, csv_output)``;
* ``_read``: ``read(paths, types, strict=...)``, the one load-and-report-skipped-lines helper;
* ``_render``: ``Result`` and ``render(result, fmt)``, the one table | json | csv renderer
  (its docstring defines the JSON/CSV shape family);
* ``_exit``: ``guarded`` and ``exit_code``, the one place exceptions become exit codes;
* ``_output``: low-level writers (rich console, sanitised text, JSON, CSV);
* ``_steptable``: the step table on a terminal (unique headers, run/rank columns, blocks that fit);
* ``_config``: the project's step-table columns, from the library's config loader.

A new command is a new module here (copy ``eval.py``: ~50 lines) plus one line in ``MODULES``.
"""

from __future__ import annotations

from eventlog_cli.commands import (
    compare,
    demo,
    eval,
    export,
    filter,
    grep,
    groups,
    importer,
    phases,
    plot,
    replay,
    report,
    samples,
    summary,
    table,
    trend,
    validate,
    watch,
)

MODULES = (
    replay,
    grep,
    filter,
    phases,
    table,
    trend,
    eval,
    summary,
    samples,
    groups,
    report,
    compare,
    plot,
    watch,
    validate,
    export,
    importer,
    demo,
)
