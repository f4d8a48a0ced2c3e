"""Shared fixtures: clean state, a fake clock, golden files, a fixture run built with the library."""

from __future__ import annotations

import os
import sys
import time as _time
from pathlib import Path
from typing import Any

import pytest

import eventlog
from eventlog import _phase, _run

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*.txt from the output")


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Reset eventlog, drop colour and EVENTLOG_* variables (but strict), work in a temp dir."""
    for name in list(os.environ):
        if name in ("NO_COLOR", "FORCE_COLOR", "RANK", "LOCAL_RANK", "SLURM_PROCID", "WORLD_SIZE") or (
            name.startswith("EVENTLOG_") and name != "EVENTLOG_STRICT"
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EVENTLOG_STRICT", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(tmp_path)
    _run.reset()
    yield
    _run.reset()


class FakeClock:
    """time.time / time.monotonic that advance a fixed step per call."""

    def __init__(self, start: float = 1_700_000_000.0, tick: float = 0.25) -> None:
        self.now = start
        self.tick = tick

    def time(self) -> float:
        self.now += self.tick
        return self.now

    monotonic = time

    def sleep(self, s: float) -> None:
        self.now += s

    def strftime(self, fmt: str) -> str:
        return _time.strftime(fmt, _time.gmtime(self.now))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    c = FakeClock()
    monkeypatch.setattr(_run.socket, "gethostname", lambda: "testhost")
    monkeypatch.setattr(_run, "time", c)
    monkeypatch.setattr(_phase, "time", c)
    return c


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Any:
    """``golden("name", text)`` compares with tests/golden/name.txt (``--update-golden`` rewrites)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / f"{name}.txt"
        if request.config.getoption("--update-golden"):
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"no golden file {path}; run pytest --update-golden and review it"
        assert path.read_text(encoding="utf-8") == text

    return check


def read_events(path: Path) -> list[dict[str, Any]]:
    import orjson

    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def build_fixture_run(directory: Path, *, run: str = "fx", rank: int = 0, **settings: Any) -> Path:
    """A small, deterministic GRPO-shaped run written through the library (use with ``clock``)."""
    settings.setdefault("console", "off")
    eventlog.init(directory, run=run, rank=rank, config={"total_steps": 4, "lr": 0.1}, **settings)
    with eventlog.phase("initialization"):
        pass
    _validation("pre_training_validation", 0, 0.25)
    with eventlog.phase("training", total_steps=4, total_epochs=2) as tr:
        for step in range(1, 5):
            with tr.step_phase(step, epoch=(step + 1) // 2):
                metrics = {"loss": 0.5 / step, "kl": 0.01 * step, "reward_mean": 0.2 * step}
                if step == 3:
                    metrics["loss"] = float("nan")
                if step >= 3:
                    metrics["clip_frac"] = 0.1  # a metric key first seen late
                eventlog.emit(
                    "group_summary",
                    step=step,
                    groups_total=4,
                    groups_kept=3,
                    groups_filtered=1,
                    rollouts_total=16,
                    rollouts_early_exit=2,
                    rollout_time=1.5,
                    train_time=0.5,
                    tokens_total=1000,
                    tokens_trainable=750,
                )
                eventlog.emit(
                    "group_detail", step=step, group=0, rewards=[1.0, 0.0], turn_advantages=[[0.5, 0.25], [-0.5, None]]
                )
                if step == 2:
                    eventlog.get_logger("train").warning("observation too long", length=9000)
                eventlog.emit(
                    "step_metrics",
                    step=step,
                    epoch=(step + 1) // 2,
                    total_epochs=2,
                    total_steps=4,
                    metrics=metrics,
                    timing={"step": 2.0},
                )
            if step == 2:
                _validation("periodic_validation", 2, 0.5)
        ckpt = Path(os.path.relpath(directory / "ckpt.bin"))  # relative: golden output has no temp path
        with eventlog.checkpoint(4, ckpt):
            ckpt.write_bytes(b"x" * 2048)
    _validation("post_training_validation", 4, 0.75)
    eventlog.finish()
    return directory / ("events.jsonl" if rank == 0 else f"events.rank{rank}.jsonl")


def _validation(name: str, step: int, acc: float) -> None:
    with (
        eventlog.phase(name, step=step),
        eventlog.phase("validation", total_batches=2, total_questions=8, batch_size=4) as v,
    ):
        v.val_batch(1, questions=4, avg_reward=acc)
        eventlog.emit(
            "sample",
            step=step,
            split="val",
            index=0,
            prompt="What is 2 + 2?",
            output="<think>2 + 2</think> The answer is 5.",
            golden=["4"],
            extracted="5",
            reward=0.0,
            correct=False,
        )
        v.val_batch(2, questions=8, avg_reward=acc)
        v.summary(questions=8, avg_reward=acc)
        eventlog.emit(
            "eval_summary",
            step=step,
            split="val",
            total=8,
            metrics={"accuracy": acc, "reward_mean": acc, "format_rate": 1.0},
        )


def run_python(code: str, *args: str, timeout: float = 60, env: dict[str, str] | None = None) -> Any:
    """Run ``code`` in a fresh interpreter (for exits, signals, forks)."""
    import subprocess

    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=full_env
    )
