"""Importers: existing runs (HF trainer_state.json, TensorBoard event files, verl console logs) → eventlog runs."""

from __future__ import annotations

from eventlog_cli.importers._detect import FORMATS, import_run

__all__ = ["FORMATS", "import_run"]
