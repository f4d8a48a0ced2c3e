"""Lightning's own SIGTERM handling with eventlog: SIGTERM mid-fit, then Lightning's graceful stop.

Usage: python lightning_sigterm.py OUT_DIR logger|init_after

* ``logger``: ``EventlogLogger`` starts the run (before ``fit()`` installs Lightning's handler, which
  then wraps the one it finds: eventlog's).
* ``init_after``: no eventlog logger; a callback calls ``eventlog.init()`` in ``on_train_start``, after
  Lightning's handler is installed (eventlog then chains to it).

At step 3 the process sends itself SIGTERM. Lightning sets ``trainer.received_sigterm``, raises
``SIGTERMException`` after the batch, and ``OnExceptionCheckpoint`` writes ``on_exception.ckpt``.
The script prints what Lightning's handler did.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import OnExceptionCheckpoint
from torch.utils.data import DataLoader, TensorDataset

import eventlog
from eventlog.integrations.lightning import EventlogLogger


class Tiny(pl.LightningModule):
    def __init__(self, lr: float = 0.05) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(2, 1)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], i: int) -> torch.Tensor:
        if self.global_step == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # a scheduler's preemption, mid-fit
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class InitLate(pl.Callback):
    """Starts the eventlog run once Lightning's SIGTERM handler is in place, and logs each step."""

    def __init__(self, out: str) -> None:
        self.out = out

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        eventlog.init(self.out, run="late", console="off")

    def on_train_batch_end(self, trainer: pl.Trainer, module: pl.LightningModule, *args: Any) -> None:
        eventlog.emit("step_metrics", step=trainer.global_step, metrics={"loss": float(args[0]["loss"])})


def main(out: str, mode: str) -> None:
    torch.manual_seed(0)
    x = torch.rand(64, 2)
    callbacks: list[pl.Callback] = [OnExceptionCheckpoint(out)]
    if mode == "init_after":
        callbacks.append(InitLate(os.path.join(out, "late")))
    trainer = pl.Trainer(
        max_epochs=4,
        logger=EventlogLogger(save_dir=out, name="tiny", version="v0") if mode == "logger" else False,
        log_every_n_steps=1,
        accelerator="cpu",
        devices=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=out,
        callbacks=callbacks,
    )
    try:
        trainer.fit(Tiny(), DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8))
    finally:
        print(f"lightning received_sigterm={trainer.received_sigterm} global_step={trainer.global_step}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
