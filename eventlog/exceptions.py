"""The exceptions eventlog raises; all derive from :class:`EventlogError`."""

from __future__ import annotations

__all__ = ["ConfigError", "EncodeError", "EventlogError", "ValidationError"]


class EventlogError(Exception):
    """Base class of every error eventlog raises."""


class ConfigError(EventlogError, ValueError):
    """A configuration value (argument, file entry or variable) is invalid."""


class ValidationError(EventlogError, ValueError):
    """An event does not match the schema of its type (strict mode)."""


class EncodeError(ValidationError, TypeError):
    """A value cannot be stored as JSON (too large an int, a cycle, a lone surrogate...)."""
