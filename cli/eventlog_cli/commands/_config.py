"""Project settings the CLI shares with the library: the step-table columns.

They come from the library's own loader (``eventlog._config.load_config``), so
``EVENTLOG_COLUMNS``, ``eventlog.toml`` and ``[tool.eventlog] columns`` mean exactly
what they mean at run time (a bad value is a ``ConfigError``: one line, exit 1).
"""

from __future__ import annotations

from eventlog._config import load_config


def project_columns() -> list[str] | None:
    """The step-table columns configured for this project, if any."""
    cols = load_config().columns
    return [c if isinstance(c, str) else c.key for c in cols] if cols else None  # files and env give names
