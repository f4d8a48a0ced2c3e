"""Shared fixtures: clean state, a fake clock, golden files, a fixture run built with the library."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

import eventlog
from eventlog import _clock, _run

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
    """A clock that stands still until the test advances it: ``clock.advance(0.5)``.

    What a test pins then depends on where it advances the clock, never on how
    often the library reads it.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    monotonic = time

    def advance(self, seconds: float) -> None:
        self.now += seconds


_active_clock: FakeClock | None = None


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A :class:`FakeClock` that every run started in this test reads."""
    global _active_clock
    c = FakeClock()
    monkeypatch.setattr(_run.socket, "gethostname", lambda: "testhost")
    previous = _clock.use(c)
    _active_clock = c
    yield c
    _active_clock = None
    _clock.use(previous)


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


def write_events(path: Path, events: list[dict[str, Any]]) -> Path:
    """``events`` as an events file with eventlog's envelope (ts one second apart, seq from 0, run "r", rank 0);
    an event's own keys win."""
    import orjson

    lines = []
    for seq, ev in enumerate(events):
        lines.append(orjson.dumps({"v": 1, "ts": 1750000000.0 + seq, "run": "r", "rank": 0, "seq": seq, **ev}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def read_events(path: Path) -> list[dict[str, Any]]:
    import orjson

    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def build_fixture_run(directory: Path, *, run: str = "fx", rank: int = 0, **settings: Any) -> Path:
    """A small, deterministic GRPO-shaped run written through the library (use with ``clock``).

    Time passes only where ``tick`` says: after each library call, a quarter
    second per clock reading it makes (these are the times the golden files pin).
    """
    clock = _active_clock
    assert clock is not None, "build_fixture_run needs the clock fixture"
    tick = clock.advance
    settings.setdefault("console", "off")
    tick(0.25)
    eventlog.init(directory, run=run, rank=rank, config={"total_steps": 4, "lr": 0.1}, **settings)
    tick(0.5)
    with eventlog.phase("initialization"):
        tick(0.5)
    tick(0.5)
    _validation(tick, "pre_training_validation", 0, 0.25)
    with eventlog.phase("training", total_steps=4, total_epochs=2) as tr:
        tick(0.5)
        for step in range(1, 5):
            step_phase = tr.step_phase(step, epoch=(step + 1) // 2)
            tick(0.25)
            with step_phase:
                tick(0.5)
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
                tick(0.25)
                eventlog.emit(
                    "group_detail", step=step, group=0, rewards=[1.0, 0.0], turn_advantages=[[0.5, 0.25], [-0.5, None]]
                )
                tick(0.25)
                if step == 2:
                    eventlog.get_logger("train").warning("observation too long", length=9000)
                    tick(0.25)
                eventlog.emit(
                    "step_metrics",
                    step=step,
                    epoch=(step + 1) // 2,
                    total_epochs=2,
                    total_steps=4,
                    metrics=metrics,
                    timing={"step": 2.0},
                )
                tick(0.25)
            tick(0.5)
            if step == 2:
                _validation(tick, "periodic_validation", 2, 0.5)
        ckpt = Path(os.path.relpath(directory / "ckpt.bin"))  # relative: golden output has no temp path
        with eventlog.phase("checkpoint", step=4, path=str(ckpt)) as cp:  # what eventlog.checkpoint does, with
            tick(0.5)  # time passing between its checkpoint event and its phase_end
            ckpt.write_bytes(b"x" * 2048)
            cp.summary(size_bytes=2048)
            eventlog.emit("checkpoint", step=4, path=str(ckpt), duration=round(cp.elapsed, 6), size_bytes=2048)
            tick(0.5)
        tick(0.5)
    tick(0.5)
    _validation(tick, "post_training_validation", 4, 0.75)
    eventlog.finish()
    return directory / ("events.jsonl" if rank == 0 else f"events.rank{rank}.jsonl")


def _validation(tick: Any, name: str, step: int, acc: float) -> None:
    with eventlog.phase(name, step=step):
        tick(0.5)
        with eventlog.phase("validation", total_batches=2, total_questions=8, batch_size=4) as v:
            tick(0.5)
            v.val_batch(1, questions=4, avg_reward=acc)
            tick(0.5)
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
            tick(0.25)
            v.val_batch(2, questions=8, avg_reward=acc)
            tick(0.5)
            v.summary(questions=8, avg_reward=acc)
            eventlog.emit(
                "eval_summary",
                step=step,
                split="val",
                total=8,
                metrics={"accuracy": acc, "reward_mean": acc, "format_rate": 1.0},
            )
            tick(0.25)
        tick(0.5)
    tick(0.5)


def cli(*args: str) -> Any:
    """``eventlog ARGS`` in this process (typer's runner; exceptions propagate)."""
    from typer.testing import CliRunner

    from eventlog_cli._app import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def run_python(code: str, *args: str, timeout: float = 60, env: dict[str, str] | None = None) -> Any:
    """Run ``code`` in a fresh interpreter (for exits, signals, forks)."""
    import subprocess

    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=full_env
    )
