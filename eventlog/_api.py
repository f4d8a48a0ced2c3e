"""``eventlog.init``: start the run, then attach what sits above it (the stdlib logging bridge).

This is the top layer of the library: it may import every other module,
and none imports it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO, Any

from eventlog import _run

__all__ = ["init"]


def init(
    dir: str | os.PathLike[str] | None = None,
    *,
    run: str | None = None,
    config: Mapping[str, Any] | None = None,
    console_stream: IO[str] | None = None,
    **settings: Any,
) -> _run.Run:
    """Start logging this process's events into a run directory.

    Args:
        dir: the run directory (default ``runs/<run>``).
        run: the run id (default: the start time).
        config: the run's configuration, recorded in ``run_start``.
        console_stream: where rank 0 prints (default ``sys.stdout``).
        **settings: any :class:`Config` field (console, verbosity, flush_interval,
            fsync, queue_size, on_full, strict, columns, rank...).

    Returns:
        The run.

    Raises:
        ConfigError: a setting is invalid or the directory is not writable.
    """
    st = _run.start(dir, run=run, config=config, console_stream=console_stream, **settings)
    if st.config.capture_logging:
        from eventlog._logging import capture_logging

        capture_logging()
    return st
