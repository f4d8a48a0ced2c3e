"""The CLI's domain errors: what went wrong, never how the process exits.

``read/`` and ``query/`` raise these; ``commands/_exit.py`` is the one place that
turns them into exit codes (data problem → 1, usage → 2, Ctrl-C → 130).
"""

from __future__ import annotations

from eventlog.exceptions import EventlogError

__all__ = ["DataError", "NoMatchError", "UsageError"]


class DataError(EventlogError):
    """A problem in the files or the run (missing path, no such metric): one line, exit 1."""


class UsageError(EventlogError):
    """The command line asks for something malformed (bad --steps, ambiguous metric): one line, exit 2."""


class NoMatchError(EventlogError):
    """The answer is printed and it is "no" (grep found nothing, validate found problems): exit 1, no message."""
