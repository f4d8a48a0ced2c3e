"""eventlog: typed event streams for machine-learning training runs.

import eventlog
eventlog.init("runs/exp1", run="exp1", config=cfg)
eventlog.emit("step_metrics", step=1, metrics={"loss": 0.23})
with eventlog.phase("validation", total_batches=28) as p:
    p.val_batch(1, questions=256, avg_reward=0.45)
eventlog.finish()
"""

from __future__ import annotations

from typing import Any

from eventlog._api import init
from eventlog._columns import DEFAULT_COLUMNS, Column
from eventlog._config import Config
from eventlog._phase import checkpoint, current_phase, current_step, phase, set_step
from eventlog._render import Line, Renderer
from eventlog._run import Run, current_run, emit, finish, flush
from eventlog._schema import EventType, Field, all_types, get_type, register_event
from eventlog._text import sanitize
from eventlog.exceptions import ConfigError, EncodeError, EventlogError, ValidationError

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_COLUMNS",
    "Column",
    "Config",
    "ConfigError",
    "EncodeError",
    "EventType",
    "EventlogError",
    "EventlogHandler",
    "Field",
    "Line",
    "Renderer",
    "Run",
    "ValidationError",
    "__version__",
    "all_types",
    "capture_logging",
    "checkpoint",
    "current_phase",
    "current_run",
    "current_step",
    "emit",
    "finish",
    "flush",
    "get_logger",
    "get_type",
    "init",
    "phase",
    "register_event",
    "sanitize",
    "set_step",
]


def get_logger(name: str | None = None, **initial: Any) -> Any:
    """A structlog logger whose calls become ``log`` events (imports structlog on first use)."""
    from eventlog._logging import get_logger as _get

    return _get(name, **initial)


def capture_logging(level: int = 20) -> Any:
    """Route stdlib ``logging`` records (root logger, ``level`` and above) into ``log`` events."""
    from eventlog._logging import capture_logging as _cap

    return _cap(level)


def __getattr__(name: str) -> Any:
    if name == "EventlogHandler":
        from eventlog._logging import EventlogHandler

        return EventlogHandler
    msg = f"module 'eventlog' has no attribute {name!r}"
    raise AttributeError(msg)
