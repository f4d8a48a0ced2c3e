"""The CLI's error type: a one-line message and an exit code."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import typer

from eventlog.exceptions import EventlogError

__all__ = ["CliError", "guarded"]


class CliError(EventlogError):
    """A problem to report in one line on stderr, exiting with ``code`` (1 by default)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn CliError and EventlogError into one line on stderr and the right exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EventlogError as exc:
            sys.stderr.write(f"eventlog: {exc}\n")
            raise typer.Exit(getattr(exc, "code", 1)) from None
        except BrokenPipeError:
            _quiet_stdout()
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper


def _quiet_stdout() -> None:
    """After a closed pipe (``eventlog filter | head``), drop what is buffered."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
