"""Lightning → eventlog: ``EventlogLogger`` for ``Trainer(logger=EventlogLogger())``.

Training keys become ``step_metrics``; ``val_*``/``val/*``/``valid_*``/``test_*`` keys become
``eval_summary`` (prefix stripped, split ``val`` or ``test``); ``log_hyperparams`` becomes
``config_update``; each saved checkpoint a ``checkpoint`` event. Importing this module imports
lightning (``lightning.pytorch``, else ``pytorch_lightning``).
"""

from __future__ import annotations

import os
import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path
from typing import Any

try:
    from lightning.pytorch.loggers.logger import Logger
    from lightning.pytorch.utilities import rank_zero_only
except ImportError:  # the standalone package
    from pytorch_lightning.loggers.logger import Logger  # type: ignore[no-redef,assignment]
    from pytorch_lightning.utilities import rank_zero_only  # type: ignore[no-redef]

import eventlog
from eventlog.integrations._common import as_number, ensure_run, guarded, jsonable, split_metrics

__all__ = ["EventlogLogger"]

_STATUS = {"success": "completed", "finished": "completed", "failed": "failed"}


class EventlogLogger(Logger):  # type: ignore[misc]
    """A Lightning logger that writes an eventlog run (rank 0; settings also from ``EVENTLOG_*``).

    Args:
        save_dir: where runs go; the run directory is ``<save_dir>/<name>/<version>``
            (``EVENTLOG_DIR`` wins when set, as does a run already started with ``eventlog.init()``).
        name: the experiment name.
        version: the run id (default: the start time).
        **settings: any ``eventlog.init()`` setting (console, verbosity...).
    """

    def __init__(
        self,
        save_dir: str | os.PathLike[str] = "runs",
        name: str = "lightning",
        version: str | None = None,
        **settings: Any,
    ) -> None:
        super().__init__()
        self._save_dir = os.fspath(save_dir)
        self._name = name
        self._version = version
        self._settings = settings
        self._run: eventlog.Run | None = None
        self._owns = False
        self._last_config: Any = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        if self._version is None:
            self._version = self._run.run if self._run is not None else _now()
        return self._version

    @property
    def root_dir(self) -> str:
        return os.path.join(self._save_dir, self._name)

    @property
    def log_dir(self) -> str:
        return str(self._run.dir) if self._run is not None else os.path.join(self.root_dir, self.version)

    @property
    def save_dir(self) -> str:
        return self._save_dir

    @property
    @rank_zero_only  # type: ignore[misc]
    def experiment(self) -> eventlog.Run:
        """The eventlog run (started on first use)."""
        if self._run is None or self._run.finished:
            version = self._version or _now()
            self._version = version
            self._run, self._owns = ensure_run(
                None, version, default_dir=os.path.join(self.root_dir, version), **self._settings
            )
        return self._run

    @rank_zero_only  # type: ignore[misc]
    @guarded
    def log_hyperparams(self, params: Mapping[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        self.experiment  # noqa: B018 - starts the run
        values = jsonable(vars(params) if isinstance(params, Namespace) else dict(params or {}))
        if values and values != self._last_config:  # Lightning logs the same hyperparameters again for test()
            self._last_config = values
            eventlog.emit("config_update", config=values, source="lightning")

    @rank_zero_only  # type: ignore[misc]
    @guarded
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        self.experiment  # noqa: B018
        values = dict(metrics)
        epoch = as_number(values.pop("epoch", None))
        train, evals, other = split_metrics(values)
        at = int(step) if step is not None else 0
        for split, m in evals.items():
            eventlog.emit("eval_summary", step=at, split=split, metrics=m)
        if train:
            fields: dict[str, Any] = {"step": at, "metrics": train}
            if isinstance(epoch, (int, float)) and not isinstance(epoch, bool):
                fields["epoch"] = epoch
            eventlog.emit("step_metrics", **fields)
        if other:
            eventlog.emit(
                "log",
                level="info",
                msg="non-numeric metrics",
                logger="lightning",
                **{k: str(v) for k, v in other.items()},
            )

    @rank_zero_only  # type: ignore[misc]
    @guarded
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        path = getattr(checkpoint_callback, "last_model_path", "") or getattr(
            checkpoint_callback, "best_model_path", ""
        )
        if not path:
            return
        step = getattr(checkpoint_callback, "_last_global_step_saved", None)
        fields: dict[str, Any] = {"step": int(step) if step is not None else 0, "path": str(path)}
        p = Path(path)
        if p.is_file():
            fields["size_bytes"] = p.stat().st_size
        eventlog.emit("checkpoint", **fields)

    @rank_zero_only  # type: ignore[misc]
    @guarded
    def save(self) -> None:
        if self._run is not None and not self._run.finished:
            eventlog.flush()

    @rank_zero_only  # type: ignore[misc]
    @guarded
    def finalize(self, status: str) -> None:
        """``failed`` ends the run as failed; ``success``/``finished`` flush, and the run ends at process exit.

        Lightning calls ``finalize("success")`` after ``fit`` and again after ``test``, so ending the
        run there would lose a later ``trainer.test()``.
        """
        if self._run is None or self._run.finished:
            return
        mapped = _STATUS.get(status, "completed")
        if mapped != "failed":
            eventlog.flush()
            return
        exc = sys.exc_info()[1]  # Lightning finalizes inside its except block: the real error is at hand
        if isinstance(exc, KeyboardInterrupt):
            eventlog.finish(status="interrupted", error="KeyboardInterrupt")
        elif isinstance(exc, SystemExit):  # SIGTERMException: Lightning stopped after a SIGTERM (or a sys.exit())
            why = "SIGTERM (Lightning's SIGTERMException)" if type(exc).__name__ == "SIGTERMException" else repr(exc)
            eventlog.finish(status="interrupted", error=why)
        else:
            error = f"{type(exc).__name__}: {exc}" if exc is not None else f"Lightning finalize({status!r})"
            eventlog.finish(status="failed", error=error[:2000])


def _now() -> str:
    import time

    return time.strftime("%Y%m%d-%H%M%S")
