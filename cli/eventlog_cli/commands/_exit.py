"""Exit codes, mapped in one place: domain error → 1, usage → 2, Ctrl-C → 130, closed pipe → 0.

Every command is wrapped in :func:`guarded`; ``_app.run`` uses :func:`exit_code` for
anything that escapes a command (typer's own usage errors exit 2 by themselves).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import typer

from eventlog.exceptions import EventlogError
from eventlog_cli.errors import NoMatchError, UsageError

__all__ = ["exit_code", "guarded", "report_error"]


def exit_code(exc: BaseException) -> int:
    """The process exit status for an exception that ends a command."""
    if isinstance(exc, KeyboardInterrupt):
        return 130
    if isinstance(exc, BrokenPipeError):
        return 0
    if isinstance(exc, UsageError):
        return 2
    return 1  # DataError, NoMatchError, any other EventlogError (ConfigError...)


def report_error(exc: BaseException) -> int:
    """Write the one-line message for ``exc`` on stderr (if it has one); return its exit code."""
    if isinstance(exc, EventlogError) and not isinstance(exc, NoMatchError):
        sys.stderr.write(f"eventlog: {exc}\n")
    if isinstance(exc, BrokenPipeError):
        _quiet_stdout()
    return exit_code(exc)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command; turn domain errors, Ctrl-C and a closed pipe into a line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (EventlogError, BrokenPipeError, KeyboardInterrupt) as exc:
            raise typer.Exit(report_error(exc)) from None

    return wrapper


def _quiet_stdout() -> None:
    """After a closed pipe (``eventlog filter | head``), drop what is buffered."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
