"""Project settings the CLI reads ([tool.eventlog] columns)."""

from __future__ import annotations

from eventlog._config import find_config_file
from eventlog.exceptions import ConfigError
from eventlog_cli._errors import CliError


def project_columns() -> list[str] | None:
    """The step-table columns configured for this project, if any."""
    try:
        found = find_config_file()
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    if found is None:
        return None
    path, table = found
    cols = table.get("columns")
    if cols is None:
        return None
    if isinstance(cols, str):
        cols = [c.strip() for c in cols.split(",")]
    if not isinstance(cols, list) or not all(isinstance(c, str) and c for c in cols):
        msg = f'{path}: columns must be a list of names, e.g. columns = ["step", "loss"]'
        raise CliError(msg)
    return cols
