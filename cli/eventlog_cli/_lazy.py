"""Heavy modules imported on first use, so ``eventlog --help`` and light commands start fast.

``import polars`` costs ~0.2 s, more than a small command's whole work. Modules that use it
import this stand-in instead (the real module for type checkers)::

    if TYPE_CHECKING:
        import polars as pl
    else:
        from eventlog_cli._lazy import polars as pl

and ``pl.col(...)`` imports polars on the first attribute taken. tests/test_cli_imports.py
checks that ``eventlog --help`` leaves polars unimported.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["msgspec", "polars"]


class _Lazy:
    """A module imported when one of its attributes is first asked for."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{'' if self._module is None else ' (imported)'}>"


polars = _Lazy("polars")
msgspec = _Lazy("msgspec")  # the line decoder of read/: ~10 ms that --help does not need
