"""One-line integrations with the training stacks (each module imports its framework; this package imports none).

* ``eventlog.integrations.transformers``: ``EventlogCallback`` and ``register()`` for ``report_to="eventlog"``.
* ``eventlog.integrations.trl``: ``EventlogGRPOCallback``, which also records completions and group statistics.
* ``eventlog.integrations.lightning``: ``EventlogLogger`` for ``Trainer(logger=...)``.
* ``eventlog.integrations.accelerate``: ``EventlogTracker`` and ``register()`` for ``Accelerator(log_with="eventlog")``.
"""

from __future__ import annotations

__all__: list[str] = []
