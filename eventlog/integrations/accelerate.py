"""Accelerate → eventlog: ``EventlogTracker`` and ``register()`` for ``Accelerator(log_with="eventlog")``.

    from eventlog.integrations import accelerate as el_accelerate
    el_accelerate.register()
    accelerator = Accelerator(log_with="eventlog")
    accelerator.init_trackers("my-run", config={"lr": 1e-3})
    accelerator.log({"loss": 0.5, "eval_accuracy": 0.8}, step=1)
    accelerator.end_training()

Keys with a ``val``/``valid``/``eval``/``test`` prefix (``_`` or ``/``) become ``eval_summary``, the rest
``step_metrics``. A ``log()`` without ``step`` is the step after the last one logged (1, 2, ... as wandb
counts its calls), not step 0 for every call. Importing this module imports accelerate.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from accelerate.tracking import GeneralTracker

import eventlog
from eventlog.integrations._common import ensure_run, guarded, jsonable, split_metrics

__all__ = ["EventlogTracker", "register"]


class EventlogTracker(GeneralTracker):  # type: ignore[misc]
    """An Accelerate tracker writing an eventlog run (main process only, as Accelerate's own trackers).

    The run directory is ``init_kwargs={"eventlog": {"dir": ...}}``, else ``EVENTLOG_DIR``, else
    ``runs/<run_name>`` (Accelerate passes its ``project_dir`` only to trackers that require one).
    The run starts with the configuration given to ``init_trackers`` (``run_start.config``) and ends
    at ``accelerator.end_training()``; other ``init_kwargs`` are ``eventlog.init()`` settings.
    """

    name = "eventlog"
    requires_logging_directory = False
    main_process_only = True

    def __init__(self, run_name: str, logging_dir: str | os.PathLike[str] | None = None, **settings: Any) -> None:
        super().__init__()
        self.run_name = run_name
        self.logging_dir = logging_dir
        self.dir = settings.pop("dir", None)
        self.settings = settings
        self.run: eventlog.Run | None = None
        self._owns = False
        self._next_step = 1  # a log() without step: after the last step logged

    @property
    def tracker(self) -> eventlog.Run | None:
        return self.run

    def _start(self, config: Mapping[str, Any] | None = None) -> None:
        if self.run is not None and not self.run.finished:
            if config:
                eventlog.emit("config_update", config=jsonable(dict(config)), source="accelerate")
            return
        default = (
            os.path.join(self.logging_dir, self.run_name) if self.logging_dir else os.path.join("runs", self.run_name)
        )
        self.run, self._owns = ensure_run(
            self.dir, self.run_name, jsonable(dict(config)) if config else None, default_dir=default, **self.settings
        )
        if config and not self._owns:  # joined a run started earlier: its run_start has no such config
            eventlog.emit("config_update", config=jsonable(dict(config)), source="accelerate")

    @guarded
    def store_init_configuration(self, values: Mapping[str, Any]) -> None:
        self._start(values)

    @guarded
    def log(self, values: Mapping[str, Any], step: int | None = None, **kwargs: Any) -> None:
        self._start()
        train, evals, other = split_metrics(values)
        at = int(step) if step is not None else self._next_step
        self._next_step = max(self._next_step, at + 1)
        if train:
            eventlog.emit("step_metrics", step=at, metrics=train)
        for split, metrics in evals.items():
            eventlog.emit("eval_summary", step=at, split=split, metrics=metrics)
        if other:
            eventlog.emit(
                "log",
                level="info",
                msg="non-numeric values",
                logger="accelerate",
                step=at,
                **{k: str(v) for k, v in other.items()},
            )

    @guarded
    def finish(self) -> None:
        if self.run is not None and self._owns and not self.run.finished:
            eventlog.finish()


def register() -> None:
    """Make ``Accelerator(log_with="eventlog")`` use :class:`EventlogTracker` (call before creating the Accelerator)."""
    from accelerate.tracking import register_tracker_class

    register_tracker_class(EventlogTracker)
