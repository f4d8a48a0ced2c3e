"""Questions about runs, answered as plain data: the second of the CLI's three layers.

What lives here (each module takes records, frames or ``read.Loaded`` and returns lists,
dicts and small dataclasses; nothing prints, nothing knows exit codes):

* ``phases``: the phase timeline, collapsed training steps, counts, each event's context;
* ``metrics``: find a metric, its trend, one eval, NaN/Inf, ``--steps`` ranges;
* ``summary``: one run at a glance;
* ``checks``: what looks wrong in a run (NaN/Inf, drops, seq gaps, skipped lines, bad phases, logged errors);
* ``validate``: every line against its schema;
* ``select``: events by type/rank/steps/phase (``Selector``, one record at a time as the
  events stream past), groups, regexes, and the checks of ``--event``/``--phase``/``--where`` names;
* ``samples``: the last samples ``samples`` shows and the ones the report picks, keeping only those;
* ``runs``: run identity (directory + run name → a label), the default rank, resumed segments,
  the later value of a repeated step;
* ``columns``: ``table --cols`` (``all``, globs, ``metrics.NAME``, no repeats);
* ``names``: the one "did you mean" check for any name the user typed (difflib);
* ``where``: the ``--where`` language (it lives in ``eventlog_cli/_where.py``).

Problems are raised as ``errors.DataError`` (exit 1) or ``errors.UsageError`` (exit 2);
``commands/_exit.py`` maps them.
"""

from __future__ import annotations

from eventlog_cli._where import compile_where as compile_where

__all__ = ["compile_where"]
