"""Reporting trouble without raising: one clearly delimited block on stderr per kind of problem."""

from __future__ import annotations

import sys

__all__ = ["Reporter"]

_COUNTED = "Further problems of this kind are counted, not printed; run_end records events_dropped."


class Reporter:
    """Print each kind of problem once on stderr, never raising (logging must not stop training)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def __call__(self, key: str, text: str, footer: str = _COUNTED) -> None:
        if key in self._seen:
            return
        self._seen.add(key)
        try:
            sys.stderr.write(f"--- eventlog: problem ---\n{text}\n{footer}\n--- end of eventlog problem ---\n")
            sys.stderr.flush()
        except Exception:
            pass
