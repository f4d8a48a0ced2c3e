"""A few real steps of Lightning: a tiny regression module, train + val + test, one checkpoint.

Usage: python lightning_fit.py OUT_DIR [ok|fail]   (fail: training_step raises at step 3)
"""

from __future__ import annotations

import sys

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from eventlog.integrations.lightning import EventlogLogger


class Tiny(pl.LightningModule):
    def __init__(self, lr: float = 0.05, hidden: int = 4, fail_at: int | None = None) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["fail_at"])
        self.fail_at = fail_at
        self.net = torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], i: int) -> torch.Tensor:
        if self.fail_at is not None and self.global_step == self.fail_at:
            raise RuntimeError(f"loss diverged at step {self.global_step}")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], i: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))
        self.log("val/accuracy", ((self.net(x) - y).abs() < 0.5).float().mean())

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], i: int) -> None:
        x, y = batch
        self.log("test_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def loader(n: int, seed: int) -> DataLoader:  # type: ignore[type-arg]
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, generator=g)
    return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)


def main(out: str, mode: str) -> None:
    torch.manual_seed(0)
    trainer = pl.Trainer(
        max_epochs=2,
        logger=EventlogLogger(save_dir=out, name="tiny", version="v0"),
        log_every_n_steps=2,
        accelerator="cpu",
        devices=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=out,
    )
    if mode == "fail":  # an exception in training_step: Lightning calls finalize("failed"), then re-raises
        trainer.fit(Tiny(fail_at=3), loader(32, 1), loader(16, 2))
        return
    model = Tiny()
    trainer.fit(model, loader(32, 1), loader(16, 2))
    trainer.test(model, loader(16, 3))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "ok")
