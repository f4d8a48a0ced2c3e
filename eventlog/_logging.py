"""Logs into the event stream: a structlog logger and a stdlib logging bridge.

structlog is imported only here, when :func:`get_logger` is first called.
Both paths emit ``log`` events stamped with the current phase id and step.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from eventlog import _run
from eventlog._constants import LEVEL_ALIASES, LEVELS, RESERVED
from eventlog._phase import current_phase, current_step

__all__ = ["EventlogHandler", "capture_logging", "get_logger"]

_LEVELS = frozenset(LEVELS)


def _stamp(fields: dict[str, Any]) -> dict[str, Any]:
    p = current_phase()
    if p is not None and p.id is not None and p.id >= 0 and "phase_id" not in fields:
        fields["phase_id"] = p.id
    if "step" not in fields:
        step = current_step()
        if step is not None:
            fields["step"] = step
    for k in RESERVED.intersection(fields):  # a user's ``run=...`` must not clash with the envelope
        fields[f"{k}_"] = fields.pop(k)
    return fields


def emit_log(level: str, msg: str, logger: str | None, fields: dict[str, Any]) -> None:
    """Emit one ``log`` event."""
    level = level.lower()
    if level not in _LEVELS:
        level = LEVEL_ALIASES.get(level, "info")
    body = _stamp(fields)
    if logger:
        body["logger"] = logger
    _run.emit("log", level=level, msg=msg, **body)


class _Sink:
    """structlog's final logger: receives the processed event dict."""

    def __init__(self, name: str | None) -> None:
        self.name = name

    def _log(self, method: str) -> Any:
        def log(**event_dict: Any) -> None:
            ed = dict(event_dict)
            level = str(ed.pop("level", method))
            msg = ed.pop("event", "")
            exc = ed.pop("exception", None)
            if exc:
                ed["exc_info"] = exc
            emit_log(level, str(msg), ed.pop("logger", None) or self.name, ed)

        return log

    def __getattr__(self, method: str) -> Any:
        return self._log(method)


def _to_kwargs(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event_dict


def get_logger(name: str | None = None, **initial: Any) -> Any:
    """A structlog logger whose calls become ``log`` events in the run's stream.

    ``log = eventlog.get_logger(__name__); log.warning("observation too long", length=9000)``
    """
    import structlog

    return structlog.wrap_logger(
        _Sink(name),
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            _to_kwargs,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        **initial,
    )


class EventlogHandler(logging.Handler):
    """A stdlib ``logging.Handler`` that turns records into ``log`` events."""

    _SKIP = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = {k: v for k, v in record.__dict__.items() if k not in self._SKIP and not k.startswith("_")}
            if record.exc_info and record.exc_info[0] is not None:
                fields["exc_info"] = logging.Formatter().formatException(record.exc_info)
            emit_log(record.levelname, record.getMessage(), record.name, fields)
        except Exception:
            self.handleError(record)


def capture_logging(level: int = logging.INFO, logger: logging.Logger | None = None) -> EventlogHandler:
    """Attach an :class:`EventlogHandler` to the root (or given) logger; idempotent."""
    target = logger or logging.getLogger()
    for h in target.handlers:
        if isinstance(h, EventlogHandler):
            return h
    handler = EventlogHandler(level)
    target.addHandler(handler)
    if target.level == logging.NOTSET or target.level > level:
        target.setLevel(level)
    return handler
