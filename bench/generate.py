"""Write a deterministic synthetic GRPO run in eventlog's schema, for benchmarks and scale tests.

Every built-in event type appears in realistic proportions: per training step
two phase events, a step_metrics with 20 metrics, a group_summary, eight
group_details, three samples with long texts and sometimes a log line; every
500 steps a validation with 28 batches, samples and an eval_summary. A step
metric (``clip_frac``) first appears at step 3000 and an eval metric
(``pass_at_8``) at step 5000; some losses are NaN.

    python bench/generate.py --events 1000000 --out bench/data/run_1m.jsonl
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

_METRICS = [
    "loss",
    "kl",
    "reward_mean",
    "reward_std",
    "entropy",
    "grad_norm",
    "lr",
    "response_len",
    "prompt_len",
    "adv_mean",
    "adv_std",
    "ratio_mean",
    "ratio_max",
    "value_loss",
    "format_rate",
    "pg_clipfrac",
    "tokens_per_s",
    "gen_time",
    "ref_time",
    "update_time",
]
_WORDS = [
    "the",
    "model",
    "considers",
    "the",
    "question",
    "carefully",
    "and",
    "computes",
    "the",
    "answer",
    "step",
    "by",
    "step",
]


def _nf(v: float) -> Any:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


class _Run:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seq = 0
        self.ts = 1_750_000_000.0
        self.phase_id = 0

    def ev(self, event: str, **payload: Any) -> bytes:
        self.ts += 0.001
        d = {"v": 1, "ts": round(self.ts, 6), "event": event, "run": "synthetic", "rank": 0, "seq": self.seq}
        d.update(payload)
        self.seq += 1
        return orjson.dumps(d)

    def text(self, n_words: int) -> str:
        return " ".join(self.rng.choice(_WORDS) for _ in range(n_words))


def events(n: int, seed: int = 0) -> Iterator[bytes]:
    """Yield ``n`` encoded lines."""
    r = _Run(seed)
    rng = r.rng
    yield r.ev("run_start", config={"lr": 1e-6, "group_size": 8}, host="bench", pid=1, world_size=8)
    count, step = 1, 0
    while count < n - 1:
        step += 1
        pid = r.phase_id
        r.phase_id += 1
        batch = [r.ev("phase_start", phase="training_step", id=pid, step=step, epoch=1 + step // 20000)]
        metrics = {k: rng.random() for k in _METRICS}
        metrics["loss"] = math.nan if step % 997 == 0 else metrics["loss"]
        if step >= 3000:
            metrics["clip_frac"] = rng.random() * 0.2
        batch.append(
            r.ev(
                "step_metrics",
                step=step,
                epoch=1 + step // 20000,
                metrics={k: _nf(v) for k, v in metrics.items()},
                timing={"gen": rng.random() * 10, "train": rng.random() * 5},
            )
        )
        batch.append(
            r.ev(
                "group_summary",
                step=step,
                groups_total=16,
                groups_kept=rng.randint(4, 16),
                rollouts_total=128,
                rollouts_early_exit=rng.randint(0, 40),
                rollout_time=rng.random() * 30,
                train_time=rng.random() * 10,
                tokens_total=200_000,
                tokens_trainable=rng.randint(50_000, 200_000),
            )
        )
        for g in range(8):
            batch.append(
                r.ev(
                    "group_detail",
                    step=step,
                    group=g,
                    rewards=[float(rng.random() > 0.5) for _ in range(8)],
                    turn_advantages=[[round(rng.gauss(0, 1), 4) for _ in range(3)] for _ in range(8)],
                )
            )
        for i in range(3):
            batch.append(
                r.ev(
                    "sample",
                    step=step,
                    split="train",
                    index=i,
                    prompt=f"Question {step}-{i}: " + r.text(20),
                    output=r.text(rng.randint(100, 300)),
                    golden=[str(rng.randint(0, 99))],
                    extracted=str(rng.randint(0, 99)),
                    reward=float(rng.random() > 0.5),
                    correct=rng.random() > 0.5,
                )
            )
        if step % 7 == 0:
            batch.append(
                r.ev(
                    "log",
                    level="warning",
                    msg="OBSERVATION TOO LONG",
                    length=rng.randint(9000, 20000),
                    step=step,
                    phase_id=pid,
                )
            )
        batch.append(
            r.ev("phase_end", phase="training_step", id=pid, step=step, status="ok", duration=rng.random() * 40)
        )
        if step % 500 == 0:
            batch += _validation(r, step)
        for line in batch:
            if count >= n - 1:
                break
            count += 1
            yield line
    yield r.ev("run_end", status="completed", duration=r.ts - 1_750_000_000.0, events_dropped=0)


def _validation(r: _Run, step: int) -> list[bytes]:
    rng = r.rng
    pid = r.phase_id
    r.phase_id += 1
    out = [
        r.ev(
            "phase_start", phase="validation", id=pid, step=step, total_batches=28, total_questions=7405, batch_size=256
        )
    ]
    for b in range(1, 29):
        out.append(
            r.ev(
                "val_batch",
                batch=b,
                total_batches=28,
                questions=min(7405, 256 * b),
                total_questions=7405,
                avg_reward=rng.random(),
                elapsed=b * 10.0,
                eta=(28 - b) * 10.0,
                step=step,
            )
        )
    for i in range(10):
        out.append(
            r.ev(
                "sample",
                step=step,
                split="val",
                index=i,
                prompt=r.text(30),
                output=r.text(rng.randint(100, 400)),
                golden=["42"],
                extracted=str(rng.randint(0, 99)),
                reward=0.0,
                correct=False,
            )
        )
    acc = min(1.0, 0.2 + step / 100_000 + rng.random() * 0.02)
    metrics: dict[str, Any] = {"accuracy": acc, "reward_mean": acc, "format_rate": rng.random()}
    if step >= 5000:
        metrics["pass_at_8"] = min(1.0, acc + 0.1)
    out.append(r.ev("eval_summary", step=step, split="val", total=7405, metrics=metrics, duration=280.0))
    out.append(
        r.ev(
            "phase_end",
            phase="validation",
            id=pid,
            step=step,
            status="ok",
            duration=280.0,
            questions=7405,
            avg_reward=acc,
        )
    )
    return out


def write(path: Path, n: int, seed: int = 0) -> Path:
    """Write ``n`` events to ``path`` (directories created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        buf: list[bytes] = []
        for line in events(n, seed):
            buf.append(line)
            if len(buf) >= 10_000:
                f.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            f.write(b"\n".join(buf) + b"\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=Path("bench/data/run_1m.jsonl"))
    ap.add_argument("--seed", type=int, default=0)
    ns = ap.parse_args()
    p = write(ns.out, ns.events, ns.seed)
    print(f"{p}: {ns.events} events, {p.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
