"""A few real steps of a plain PyTorch loop under Accelerate, logging through Accelerator(log_with="eventlog").

Usage: python accelerate_loop.py OUT_DIR
"""

from __future__ import annotations

import sys

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

from eventlog.integrations import accelerate as el_accelerate


def main(out: str) -> None:
    el_accelerate.register()
    torch.manual_seed(0)
    accelerator = Accelerator(log_with="eventlog", project_dir=out, cpu=True)
    accelerator.init_trackers(
        "acc-tiny",
        config={"lr": 0.1, "layers": [2, 1], "id2label": {0: "a", 1: "b"}},
        init_kwargs={"eventlog": {"dir": f"{out}/acc-tiny"}},
    )
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.rand(32, 2)
    data = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)
    model, opt, data = accelerator.prepare(model, opt, data)
    step = 0
    for _epoch in range(2):
        for xb, yb in data:
            step += 1
            loss = torch.nn.functional.mse_loss(model(xb), yb)
            accelerator.backward(loss)
            opt.step()
            opt.zero_grad()
            accelerator.log({"loss": loss.item(), "lr": 0.1}, step=step)
        with torch.no_grad():
            val = torch.nn.functional.mse_loss(model(x), x.sum(1, keepdim=True)).item()
        accelerator.log({"eval_loss": val, "eval_accuracy": 1.0 / (1.0 + val)}, step=step)
    accelerator.end_training()


if __name__ == "__main__":
    main(sys.argv[1])
