"""Writes the verl console logs in this folder the way verl prints them (run it to regenerate them).

The small pure functions below are copied from verl (https://github.com/volcengine/verl) at commit
b178a3cd56f58b2d502255daba591e92833930a7, each named by its file; the rest reproduces what wraps
their output on a real run: Ray's per-line prefix (``ray/_private/worker.py: print_worker_logs``
prints ``Style.DIM + Fore.CYAN + "(TaskRunner pid=N)" + Style.RESET_ALL + " " + line``, colour codes
and all when the driver's output goes to a file), tqdm's bar on stderr (``tqdm.format_meter``, its
frames separated by ``\\r``) interleaved with print() on stdout in one ``2>&1`` file, and numpy 2
scalars (``np.float64(0.5)`` reprs). Metric names and value types are those verl's trainers log.

    python tests/data/verl/make_logs.py      # rewrites ppo_ray.log and sft_torchrun.log beside it
"""

from __future__ import annotations

import io
import numbers
import pprint
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
from tqdm import tqdm

HERE = Path(__file__).resolve().parent
RAY = "\x1b[2m\x1b[36m(TaskRunner pid=48213)\x1b[0m "  # Style.DIM + Fore.CYAN + prefix + RESET_ALL


# verl/utils/logger/aggregate_logger.py (LocalLogger.log prints this, flush=True)
def concat_dict_to_str(dict: dict, step):  # verl's own signature
    output = [f"step:{step}"]
    for k, v in dict.items():
        if isinstance(v, numbers.Number):
            output.append(f"{k}:{pprint.pformat(v)}")
    output_str = " - ".join(output)
    return output_str


def printed(fn, *args) -> str:  # what fn(*args) prints on stdout
    buf = io.StringIO()
    with redirect_stdout(buf):
        fn(*args)
    return buf.getvalue()


def bar(n: int, total: int, desc: str, elapsed: float) -> str:
    return "\r" + tqdm.format_meter(n, total, elapsed, ncols=None, prefix=desc)


def val_metrics(step: int) -> dict:
    """RayPPOTrainer._validate (verl/trainer/ppo/ray_trainer.py): np.float64 means, np.int64 turn counts."""
    acc = np.float64([0.2109375, 0.34375, 0.4453125, 0.51953125][min(step // 2, 3)])
    return {
        "val-aux/openai/gsm8k/reward/mean@1": acc,
        "val-core/openai/gsm8k/acc/mean@1": acc,
        "val-aux/openai/gsm8k/score/mean@1": np.float64(acc - 0.5),
        "val-aux/num_turns/min": np.int64(2),
        "val-aux/num_turns/max": np.int64(2),
        "val-aux/num_turns/mean": np.float64(2.0),
    }


def step_metrics(step: int) -> dict:
    """One PPO/GRPO step's metrics (ray_trainer.fit, metric_utils.compute_data/timing/throughout_metrics)."""
    r = 0.15 + 0.08 * step
    return {
        "training/global_step": step,
        "training/epoch": 0,
        "actor/entropy": np.float64(0.6931 - 0.01 * step),
        "actor/pg_loss": np.float64(-0.0031 * step if step != 3 else float("nan")),
        "actor/pg_clipfrac": np.float64(0.0),
        "actor/ppo_kl": np.float64(1.25e-05 * step),
        "actor/grad_norm": np.float64(0.1875 + step),
        "actor/lr": 1e-06,
        "perf/mfu/actor": np.float64(0.1412),
        "perf/max_memory_allocated_gb": 21.384765625,
        "critic/score/mean": r,
        "critic/score/max": 1.0,
        "critic/score/min": 0.0,
        "critic/rewards/mean": r,
        "critic/advantages/mean": -2.384185791015625e-08,
        "critic/advantages/max": 1.7888543605804443,
        "response_length/mean": 212.375 + step,
        "response_length/max": 1024.0,
        "response_length/clip_ratio": 0.0078125,
        "response/aborted_ratio": 0.0,
        "prompt_length/mean": 104.5,
        "timing_s/gen": 31.082 + step,
        "timing_s/reward": 0.4117,
        "timing_s/old_log_prob": 3.1,
        "timing_s/adv": 0.0625,
        "timing_s/update_actor": 12.75,
        "timing_s/step": 47.5 + step,
        "timing_per_token_ms/gen": 0.0625,
        "perf/total_num_tokens": 161472 + step,
        "perf/time_per_step": 47.5 + step,
        "perf/throughput": np.float64(849.86),
        "critic/lr_text": "not a number, so verl leaves it out",
    }


def ppo_ray(steps: int = 6, test_freq: int = 2) -> str:
    """main_ppo under Ray, GRPO with val_before_train and test_freq: what `... 2>&1 | tee ppo.log` keeps."""
    out = [
        "2026-11-20 09:14:02,118\tINFO worker.py:1843 -- Started a local Ray instance.",
        RAY + "{'actor_rollout_ref': {'actor': {'ppo_mini_batch_size': 64, 'total_training_steps': 6},",
        RAY + "                       'rollout': {'n': 5, 'name': 'vllm'}}}",
        "\x1b[2m\x1b[36m(WorkerDict pid=48377)\x1b[0m Flash Attention 2.0 only supports torch.float16 "
        "and torch.bfloat16 dtypes [repeated 3x across cluster]",
    ]
    # fit(): validate before training, pprint the f-string, then log the same dict at global_steps (0)
    initial = val_metrics(0)
    out += [RAY + ln for ln in printed(pprint.pprint, f"Initial validation metrics: {initial}").splitlines()]
    out.append(RAY + concat_dict_to_str(initial, step=0))
    elapsed = 0.0
    out.append(RAY + bar(0, steps, "Training Progress", elapsed).lstrip("\r"))
    last_val = None
    for step in range(1, steps + 1):
        metrics = step_metrics(step)
        if step % test_freq == 0 or step == steps:
            val = val_metrics(step)
            metrics["timing_s/testing"] = 20.5
            metrics.update(val)
            if step == steps:
                last_val = val
        line = RAY + concat_dict_to_str(metrics, step=step)
        elapsed += 47.5 + step
        progress = RAY + bar(step, steps, "Training Progress", elapsed).lstrip("\r")
        if step == 4:  # the driver flushed the bar's line onto the metrics line (no newline between them)
            out.append(line + progress)
        else:
            out += [line, progress]
    out += [RAY + ln for ln in printed(pprint.pprint, f"Final validation metrics: {last_val}").splitlines()]
    return "\n".join(out) + "\n"


def sft_torchrun(steps: int = 5, test_freq: int = 2) -> str:
    """verl.trainer.fsdp_sft_trainer under torchrun: tqdm frames on stderr, print() on stdout, one file."""
    buf = io.StringIO()
    total_tokens = 0
    last_valid_metric = None
    buf.write(bar(0, steps, "Epoch 1/1", 0.0))
    for global_step in range(1, steps + 1):
        global_tokens = 40960 + 17 * global_step
        total_tokens += global_tokens
        metrics = {
            "train/loss": 1.9 / global_step,
            "train/grad_norm": 3.25 / global_step,
            "train/lr": 1e-05 * min(1.0, global_step / 2),
            "train/mfu": 0.2875,
            "train/global_tokens": global_tokens,
            "train/total_tokens(B)": total_tokens / 1e9,
        }
        buf.write(printed(print, concat_dict_to_str(metrics, step=global_step)))
        if global_step % test_freq == 0 or global_step == steps:
            metric = {"val/loss": 2.0 / global_step}
            buf.write(printed(print, concat_dict_to_str(metric, step=global_step)))
            last_valid_metric = metric
        buf.write(bar(global_step, steps, "Epoch 1/1", 1.5 * global_step))
    buf.write(printed(print, "Total time for train steps: 7.50s"))
    buf.write(printed(print, f"Final validation metrics: {last_valid_metric}"))
    return buf.getvalue()


if __name__ == "__main__":
    (HERE / "ppo_ray.log").write_text(ppo_ray(), encoding="utf-8")
    (HERE / "sft_torchrun.log").write_text(sft_torchrun(), encoding="utf-8")
