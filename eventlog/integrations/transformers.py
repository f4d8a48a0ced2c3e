"""Hugging Face ``Trainer`` → eventlog: ``EventlogCallback`` and ``register()`` for ``report_to="eventlog"``.

    from eventlog.integrations.transformers import EventlogCallback
    trainer = Trainer(..., callbacks=[EventlogCallback()])

or, once per process, ``eventlog.integrations.transformers.register()`` and then
``TrainingArguments(report_to="eventlog")``. Importing this module imports transformers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

import eventlog
from eventlog.integrations._common import (
    as_number,
    ensure_run,
    guarded,
    hf_eval_records,
    hf_is_final,
    hf_rest,
    jsonable,
    numbers_and_text,
)

__all__ = ["EventlogCallback", "register"]


class EventlogCallback(TrainerCallback):  # type: ignore[misc]
    """Records a ``Trainer`` run as eventlog events (settings from ``EVENTLOG_*`` and the training arguments).

    The run directory is ``EVENTLOG_DIR``, else ``<output_dir>/eventlog``; the run id ``EVENTLOG_RUN``, else
    ``args.run_name``, else the output directory's name. A run already started with ``eventlog.init()`` is
    joined instead. The run ends at process exit, so a ``trainer.evaluate()`` after training is recorded.

    Args:
        dir: the run directory (overrides the defaults above).
        run: the run id.
        **settings: any ``eventlog.init()`` setting (console, verbosity...).
    """

    def __init__(self, dir: str | os.PathLike[str] | None = None, run: str | None = None, **settings: Any) -> None:
        self._dir = dir
        self._run_name = run
        self._settings = settings
        self.run: eventlog.Run | None = None
        self._zero = True
        self._training: eventlog.phase | None = None
        self._step: eventlog.phase | None = None
        self._validation: eventlog.phase | None = None
        self._batches = 0
        self._total_epochs: int | None = None

    # --- setup ------------------------------------------------------------------------

    def _setup(self, args: Any, state: Any, model: Any = None) -> None:
        if self.run is not None and not self.run.finished:
            return
        self._zero = bool(getattr(state, "is_world_process_zero", True))
        settings = dict(self._settings)
        settings.setdefault("rank", int(getattr(args, "process_index", 0) or 0))
        if not self._zero:
            settings["console"] = "off"
        out = getattr(args, "output_dir", None) or "trainer_output"
        run = self._run_name or getattr(args, "run_name", None) or Path(out).name
        config: dict[str, Any] = {"args": jsonable(args.to_dict())}
        model_config = getattr(model, "config", None)
        if model_config is not None and hasattr(model_config, "to_dict"):
            config["model"] = jsonable(model_config.to_dict())
        epochs = getattr(state, "num_train_epochs", None) or getattr(args, "num_train_epochs", None)
        self._total_epochs = math.ceil(epochs) if isinstance(epochs, (int, float)) and epochs > 0 else None
        self.run, _ = ensure_run(self._dir, run, config, default_dir=os.path.join(out, "eventlog"), **settings)

    # --- training ---------------------------------------------------------------------

    @guarded
    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self._setup(args, state, model)
        info: dict[str, Any] = {}
        if state.max_steps and state.max_steps > 0:
            info["total_steps"] = int(state.max_steps)
        if self._total_epochs is not None:
            info["total_epochs"] = self._total_epochs
        self._training = eventlog.phase("training", **info).__enter__()

    @guarded
    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._close_step()
        if self._training is None:
            return
        epoch = None  # HF's state.epoch is progress (0.125 = an eighth of the first epoch): show the epoch trained
        if isinstance(state.epoch, (int, float)):
            epoch = math.floor(round(state.epoch, 6)) + 1
            if self._total_epochs is not None:
                epoch = min(epoch, self._total_epochs)
        self._step = self._training.step_phase(state.global_step + 1, epoch=epoch).__enter__()

    @guarded
    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._close_step()

    @guarded
    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._close_step()
        if self._training is not None:
            self._training.__exit__(None, None, None)
            self._training = None
        eventlog.flush()

    def _close_step(self) -> None:
        if self._step is not None:
            self._step.__exit__(None, None, None)
            self._step = None

    # --- logs, evaluation, checkpoints --------------------------------------------------

    @guarded
    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        self._setup(args, state, kwargs.get("model"))
        if not logs or not self._zero:
            return
        if hf_is_final(logs):
            numbers = {k: n for k, n in ((k, as_number(v)) for k, v in logs.items()) if n is not False}
            if self._training is not None:
                self._training.summary(**numbers)
            else:  # the training phase is gone (a resumed run that only logs the final record)
                eventlog.emit("log", level="info", msg="training finished", logger="transformers", **numbers)
            return
        evals = hf_eval_records(logs)
        if evals:
            for split, (metrics, duration) in evals.items():
                fields: dict[str, Any] = {"step": int(state.global_step), "split": split, "metrics": metrics}
                if duration is not None:
                    fields["duration"] = duration
                eventlog.emit("eval_summary", **fields)
            rest = hf_rest(logs)  # trainer.log({"custom": 1.5, "eval_extra": 2.5}): the custom value is kept too
            if rest:
                self._step_metrics(state, {**rest, **({"epoch": logs["epoch"]} if "epoch" in logs else {})})
            return
        self._step_metrics(state, logs)

    def _step_metrics(self, state: Any, logs: Mapping[str, Any]) -> None:
        metrics, other = numbers_and_text(logs, skip=("epoch",))
        fields: dict[str, Any] = {"step": int(state.global_step), "metrics": metrics}
        epoch = as_number(logs.get("epoch"))
        if epoch is not None and epoch is not False:
            fields["epoch"] = epoch  # as Trainer's log_history has it (an import of it gives the same)
        if state.max_steps and state.max_steps > 0:
            fields["total_steps"] = int(state.max_steps)
        if self._total_epochs is not None:
            fields["total_epochs"] = self._total_epochs
        eventlog.emit("step_metrics", **fields)
        if other:  # text values (rare): kept as a log event rather than dropped
            eventlog.emit("log", level="info", msg="non-numeric log values", logger="transformers", **other)

    @guarded
    def on_prediction_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._setup(args, state, kwargs.get("model"))
        if self._validation is None:
            loader = kwargs.get("eval_dataloader")
            info: dict[str, Any] = {}
            try:
                info["total_batches"] = len(loader) if loader is not None else None
            except TypeError:  # an iterable dataset has no length
                pass
            info = {k: v for k, v in info.items() if v is not None}
            self._batches = 0
            self._validation = eventlog.phase("validation", step=int(state.global_step), **info).__enter__()
        self._batches += 1
        self._validation.val_batch(self._batches)

    @guarded
    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any) -> None:
        if self._validation is None:
            return
        self._validation.__exit__(None, None, None)  # the metrics are in the eval_summary logged just before
        self._validation = None

    @guarded
    def on_predict(self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any) -> None:
        """``trainer.predict()`` logs nothing: its ``test_*`` metrics are recorded here."""
        self._setup(args, state, kwargs.get("model"))
        if self._zero:
            for split, (numbers, duration) in hf_eval_records(dict(metrics or {})).items():
                fields: dict[str, Any] = {"step": int(state.global_step), "split": split, "metrics": numbers}
                if duration is not None:
                    fields["duration"] = duration
                eventlog.emit("eval_summary", **fields)
        if self._validation is not None:
            self._validation.__exit__(None, None, None)
            self._validation = None

    @guarded
    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._setup(args, state, kwargs.get("model"))
        if not self._zero:
            return
        path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        fields: dict[str, Any] = {"step": int(state.global_step), "path": str(path)}
        if path.is_dir():
            fields["size_bytes"] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        eventlog.emit("checkpoint", **fields)


def register() -> None:
    """Make ``TrainingArguments(report_to="eventlog")`` select :class:`EventlogCallback`.

    transformers picks reporting callbacks from a fixed dict (``INTEGRATION_TO_CALLBACK``); this adds
    ``"eventlog"`` to it. Call it once, before the ``Trainer`` is created.
    """
    from transformers.integrations import integration_utils

    integration_utils.INTEGRATION_TO_CALLBACK["eventlog"] = EventlogCallback
