"""A small but real GRPO training run that emits the whole seed flow.

The task: answer ``a + b`` for digits a, b. The policy is a softmax over the
answers 0..18 with logits ``U[a] + V[b] + c`` (numpy only), which can
represent addition exactly, so held-out questions are learnable. Each rollout
takes up to three turns (it stops early when confident); rewards are 1 for a
correct final answer; advantages are group-relative; groups whose rewards do
not vary are filtered. Eval accuracy rises over the run.

Run it with ``python examples/grpo_demo.py --out runs/demo`` (``make demo``
and ``eventlog demo`` run it too). It is an example of using eventlog, not a
part of the library: it imports only the public ``eventlog`` API.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import eventlog

__all__ = ["DemoConfig", "main", "run_demo"]

N_ANS = 19
MAX_TURNS = 3


@dataclass
class DemoConfig:
    """Settings of the demo run."""

    out: str = "runs/demo"
    run: str = "demo"
    steps: int = 60
    epochs: int = 3
    eval_every: int = 15
    groups: int = 16
    group_size: int = 8
    lr: float = 0.15
    beta: float = 0.001
    val_batch_size: int = 30
    seed: int = 0
    delay: float = 0.1
    validate_only: bool = False
    console: str = "banner"
    verbose: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Policy:
    """Softmax policy over answers: logits(s) = -tau * (s - (wa*a + wb*b + w0))**2.

    It starts far from addition (wa, wb, w0 random, tau small) and must learn
    wa = wb = 1, w0 = 0 and a large tau from rewards alone; held-out questions
    then come out right because the rule, not a table, is learnt.
    """

    def __init__(self, rng: Any) -> None:
        import numpy as np

        self.np = np
        self.w = np.array([rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6), rng.uniform(1.5, 2.5), np.log(0.2)])
        self.s = np.arange(N_ANS, dtype=float)

    def _mu_tau(self, a: int, b: int) -> tuple[float, float]:
        wa, wb, w0, log_tau = self.w
        return wa * a + wb * b + w0, float(self.np.exp(log_tau))

    def probs(self, a: int, b: int) -> Any:
        mu, tau = self._mu_tau(a, b)
        z = -tau * (self.s - mu) ** 2
        e = self.np.exp(z - z.max())
        return e / e.sum()

    def grad(self, a: int, b: int, g_logits: Any) -> Any:
        """Chain rule from d/d(logits) to d/d(wa, wb, w0, log_tau)."""
        mu, tau = self._mu_tau(a, b)
        d = self.s - mu
        d_mu = float((g_logits * 2 * tau * d).sum())
        d_tau = float((g_logits * -(d**2)).sum())
        return self.np.array([d_mu * a, d_mu * b, d_mu, d_tau * tau])

    def adam(self, g: Any, lr: float, b1: float = 0.9, b2: float = 0.99) -> None:
        """One Adam ascent step (the gradients differ in scale by the digit values)."""
        np = self.np
        if not hasattr(self, "_m"):
            self._m, self._v, self._t = np.zeros_like(self.w), np.zeros_like(self.w), 0
        self._t += 1
        self._m = b1 * self._m + (1 - b1) * g
        self._v = b2 * self._v + (1 - b2) * g * g
        m_hat = self._m / (1 - b1**self._t)
        v_hat = self._v / (1 - b2**self._t)
        self.w = self.w + lr * m_hat / (np.sqrt(v_hat) + 1e-8)

    def params(self) -> dict[str, Any]:
        return {"w": self.w}


def _split(rng: Any) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    pairs = [(a, b) for a in range(10) for b in range(10)]
    order = rng.permutation(len(pairs))
    val = [pairs[i] for i in order[:30]]
    train = [pairs[i] for i in order[30:]]
    return train, val


def _rollout(policy: Policy, a: int, b: int, rng: Any) -> tuple[list[int], int]:
    """Sample up to three turns; stop when the chosen answer is likely enough."""
    p = policy.probs(a, b)
    turns = []
    for _ in range(MAX_TURNS):
        ans = int(rng.choice(N_ANS, p=p))
        turns.append(ans)
        if p[ans] > 0.5:
            break
    return turns, turns[-1]


def _output_text(a: int, b: int, answer: int, turns: int) -> str:
    thoughts = " ".join(f"<turn {t + 1}>" for t in range(turns))
    return f"<think>{a} + {b} ... {thoughts}</think> The answer is {answer}."


def _train_step(
    policy: Policy, ref: Policy, cfg: DemoConfig, train: list[tuple[int, int]], rng: Any, step: int
) -> dict[str, Any]:
    np = policy.np
    t0 = time.monotonic()
    idx = rng.choice(len(train), size=cfg.groups, replace=False)
    gw = np.zeros_like(policy.w)
    rewards_all: list[float] = []
    details: list[dict[str, Any]] = []
    kept, early, tokens, trainable = 0, 0, 0, 0
    active = [0] * MAX_TURNS  # rollouts still going at each turn (the seed's ACTIVE_TRAJ_NUM)
    for g, i in enumerate(idx):
        a, b = train[i]
        rolls = [_rollout(policy, a, b, rng) for _ in range(cfg.group_size)]
        rewards = np.array([1.0 if final == a + b else 0.0 for _, final in rolls])
        rewards_all.extend(rewards.tolist())
        early += sum(1 for turns, _ in rolls if len(turns) < MAX_TURNS)
        for turns, _ in rolls:
            for t in range(len(turns)):
                active[t] += 1
        n_tok = sum(8 * len(turns) for turns, _ in rolls)
        tokens += n_tok
        if rewards.std() < 1e-8:
            continue
        kept += 1
        trainable += n_tok
        adv = (rewards - rewards.mean()) / (rewards.std() + 1e-6)
        p = policy.probs(a, b)
        turn_adv = []
        for (turns, _), advantage in zip(rolls, adv, strict=True):
            row = []
            for t, ans in enumerate(turns):
                w = advantage * (0.8 ** (len(turns) - 1 - t))
                g_logits = -p.copy()
                g_logits[ans] += 1.0
                gw += w * policy.grad(a, b, g_logits)
                row.append(round(float(w), 4))
            turn_adv.append(row + [None] * (MAX_TURNS - len(row)))
        if len(details) < 1:
            details.append({"group": int(g), "rewards": rewards.tolist(), "turn_advantages": turn_adv})
    rollout_time = time.monotonic() - t0
    # KL(pi || ref) over the batch's questions, and its gradient on the logits.
    kls, ents = [], []
    for i in idx:
        a, b = train[i]
        p, q = policy.probs(a, b), ref.probs(a, b)
        logr = np.log(p + 1e-12) - np.log(q + 1e-12)
        kl = float((p * logr).sum())
        kls.append(kl)
        ents.append(float(-(p * np.log(p + 1e-12)).sum()))
        gw -= cfg.beta * cfg.group_size * policy.grad(a, b, p * (logr - kl))
    n = cfg.groups * cfg.group_size
    gw /= n
    grad_norm = float(np.sqrt((gw**2).sum()))
    policy.adam(gw, cfg.lr * (1.0 - 0.9 * (step - 1) / max(1, cfg.steps)))  # linear decay
    rewards_arr = np.array(rewards_all)
    loss = -float(rewards_arr.mean()) + cfg.beta * float(np.mean(kls))
    return {
        "metrics": {
            "reward_mean": float(rewards_arr.mean()),
            "reward_std": float(rewards_arr.std()),
            "loss": loss,
            "kl": float(np.mean(kls)),
            "entropy": float(np.mean(ents)),
            "grad_norm": grad_norm,
            "groups_kept_frac": kept / cfg.groups,
        },
        "group": {
            "groups_total": cfg.groups,
            "groups_kept": kept,
            "groups_filtered": cfg.groups - kept,
            "rollouts_total": n,
            "rollouts_early_exit": early,
            "rollout_time": round(rollout_time, 4),
            "tokens_total": tokens,
            "tokens_trainable": trainable,
        },
        "details": details,
        "active_traj": active,
    }


def _validate(policy: Policy, val: list[tuple[int, int]], cfg: DemoConfig, step: int, name: str) -> dict[str, float]:
    """One validation run: batches with progress, samples, an eval summary."""
    np = policy.np
    questions = [(a, b, k) for (a, b) in val for k in range(8)]
    bs = cfg.val_batch_size
    n_batches = (len(questions) + bs - 1) // bs
    correct_all: list[bool] = []
    carry: list[bool] = []
    shown = 0
    with eventlog.phase(name, step=step):
        with eventlog.phase("validation", total_batches=n_batches, total_questions=len(questions), batch_size=bs) as v:
            t0 = time.monotonic()
            for bi in range(n_batches):
                batch = questions[bi * bs : (bi + 1) * bs]
                for a, b, k in batch:
                    p = policy.probs(a, b)
                    ans = int(np.argmax(p))
                    ok = ans == a + b
                    correct_all.append(ok)
                    carry.append(a + b >= 10)
                    if k == 0 and shown < 3 and (not ok or shown == 0):
                        shown += 1
                        eventlog.emit(
                            "sample",
                            step=step,
                            split="val",
                            index=len(correct_all) - 1,
                            prompt=f"What is {a} + {b}?",
                            output=_output_text(a, b, ans, 1),
                            golden=[str(a + b)],
                            extracted=str(ans),
                            reward=float(ok),
                            correct=ok,
                        )
                time.sleep(cfg.delay / 4)
                acc = float(np.mean(correct_all))
                v.val_batch(bi + 1, questions=len(correct_all), avg_reward=round(acc, 4))
            acc = float(np.mean(correct_all))
            v.summary(avg_reward=round(acc, 4))  # questions processed and times: counted by the phase
        c = np.array(correct_all)
        cm = np.array(carry)
        metrics = {
            "accuracy": acc,
            "correct_answers": int(c.sum()),
            "total_samples": len(correct_all),
            "reward_mean": acc,
            "reward_std": float(c.std()),
            "carry_accuracy": float(c[cm].mean()) if cm.any() else float("nan"),
            "no_carry_accuracy": float(c[~cm].mean()) if (~cm).any() else float("nan"),
            "answer_rate": 1.0,
        }
        eventlog.emit(
            "eval_summary",
            step=step,
            split="val",
            total=len(correct_all),
            metrics=metrics,
            duration=round(time.monotonic() - t0, 4),
        )
    return metrics


def run_demo(cfg: DemoConfig) -> int:
    """Run the demo; returns the process exit code."""
    try:
        import numpy as np
    except ImportError:
        sys.stderr.write("eventlog demo: needs numpy; install it with: pip install numpy\n")
        return 1
    rng = np.random.default_rng(cfg.seed)
    run_cfg = {k: v for k, v in cfg.__dict__.items() if k != "extra"} | {
        "total_steps": cfg.steps,
        "total_epochs": cfg.epochs,
    }
    eventlog.init(
        cfg.out,
        run=cfg.run,
        config=run_cfg,
        console=cfg.console,
        verbosity="verbose" if cfg.verbose else "concise",
        capture_logging=True,
    )
    log = eventlog.get_logger("demo")
    std = logging.getLogger("demo.data")
    with eventlog.phase("initialization", label="INITIALIZATION - Creating Resource Pools and Workers"):
        train, val = _split(rng)
        policy, ref = Policy(rng), Policy(rng)
        ref.w = policy.w.copy()
        std.info("dataset ready: %d train questions, %d held-out questions", len(train), len(val))
        time.sleep(cfg.delay)
    _validate(policy, val, cfg, 0, "pre_training_validation")
    if cfg.validate_only:
        eventlog.finish(mode="validation_only")
        return 0
    steps_per_epoch = max(1, cfg.steps // cfg.epochs)
    ckpt_dir = Path(cfg.out) / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    with eventlog.phase("training", total_steps=cfg.steps, total_epochs=cfg.epochs) as training:
        for step in range(1, cfg.steps + 1):
            epoch = min(cfg.epochs, (step - 1) // steps_per_epoch + 1)
            with training.step_phase(step, epoch=epoch):
                t0 = time.monotonic()
                out = _train_step(policy, ref, cfg, train, rng, step)
                time.sleep(cfg.delay)
                step_time = time.monotonic() - t0
                out["group"]["train_time"] = round(step_time - out["group"]["rollout_time"], 4)
                if out["group"]["groups_kept"] == 0:
                    log.warning("all groups filtered: no gradient this step", step=step)
                if step % 10 == 5 and out["group"]["rollouts_early_exit"] < out["group"]["rollouts_total"] // 4:
                    log.warning("OBSERVATION TOO LONG", early_exits=out["group"]["rollouts_early_exit"])
                eventlog.emit(
                    "step_metrics",
                    step=step,
                    epoch=epoch,
                    total_epochs=cfg.epochs,
                    total_steps=cfg.steps,
                    metrics=out["metrics"],
                    active_traj=out["active_traj"],
                    timing={"rollout": out["group"]["rollout_time"], "step": round(step_time, 4)},
                )
                eventlog.emit("group_summary", step=step, **out["group"])
                for d in out["details"]:
                    eventlog.emit("group_detail", step=step, **d)
            if step % cfg.eval_every == 0 and step < cfg.steps:
                _validate(policy, val, cfg, step, "periodic_validation")
            if step % cfg.eval_every == 0 or step == cfg.steps:
                path = ckpt_dir / f"step_{step:04d}.npz"
                with eventlog.checkpoint(step, path):
                    np.savez(path, **policy.params())
    _validate(policy, val, cfg, cfg.steps, "post_training_validation")
    eventlog.finish()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python examples/grpo_demo.py``: parse options and run."""
    ap = argparse.ArgumentParser(prog="eventlog demo", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="runs/demo", help="run directory (default runs/demo)")
    ap.add_argument("--run", default="demo", help="run id")
    ap.add_argument("--steps", type=int, default=60, help="training steps (default 60)")
    ap.add_argument("--eval-every", type=int, default=15, help="validate every N steps (default 15)")
    ap.add_argument("--delay", type=float, default=0.1, help="seconds of simulated work per step (default 0.1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--style", choices=("banner", "compact", "off"), default="banner", help="console style")
    ap.add_argument("--verbose", action="store_true", help="also print group tables and samples")
    ap.add_argument("--validate-only", action="store_true", help="run pre-training validation only")
    ns = ap.parse_args(argv)
    cfg = DemoConfig(
        out=ns.out,
        run=ns.run,
        steps=ns.steps,
        eval_every=ns.eval_every,
        delay=ns.delay,
        seed=ns.seed,
        console=ns.style,
        verbose=ns.verbose,
        validate_only=ns.validate_only,
    )
    if cfg.steps < 1 or cfg.eval_every < 1 or cfg.delay < 0:
        ap.error("--steps and --eval-every must be >= 1 and --delay >= 0")
    return run_demo(cfg)


if __name__ == "__main__":
    raise SystemExit(main())
