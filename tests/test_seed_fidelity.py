"""Acceptance tests for issue #11: the console the seeds specify, word for word, and the files they save.

Only public interfaces: ``import eventlog`` (init, emit, phase, checkpoint, finish, get_logger, Column),
the CLI as a real process, files on disk and ``eventlog.testing.read_events``. The seed flow
(35 steps, 3 epochs, 28 validation batches of 256 over 7405 questions) runs in a subprocess
with the banner console on its stdout; the demo runs as a subprocess too.
"""

from __future__ import annotations

import glob
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import eventlog
from eventlog import Column
from eventlog.testing import read_events

ROOT = Path(__file__).resolve().parent.parent
RULE = "=" * 80
THIN = "─" * 80
_DROP_ENV = {"NO_COLOR", "FORCE_COLOR", "RANK", "LOCAL_RANK", "SLURM_PROCID", "WORLD_SIZE", "VERBOSE"}


# --- helpers -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_verbose_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed's VERBOSE switch must not leak in from the shell running the tests."""
    monkeypatch.delenv("VERBOSE", raising=False)


def _env(**extra: str) -> dict[str, str]:
    """A clean environment for child processes: no EVENTLOG_* but strict, fixed width."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV and not k.startswith("EVENTLOG_")}
    env.update({"EVENTLOG_STRICT": "1", "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}, **extra)
    return env


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the eventlog CLI as a real process."""
    return subprocess.run(
        [sys.executable, "-c", "from eventlog_cli import main; main()", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=_env(),
        cwd=cwd,
    )


def grep(pattern: str, path: Path, *, count: bool = False) -> Any:
    """The seed's grep recipe, run with the real grep: the matching lines, or the -c count."""
    proc = subprocess.run(
        ["grep", *(["-c"] if count else []), pattern, str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return int(proc.stdout.strip()) if count else proc.stdout.splitlines()


def console_run(body: Callable[[], None], **settings: Any) -> tuple[list[str], Path]:
    """Run ``body`` in a run whose console prints into a string; the lines and the run dir."""
    buf = io.StringIO()
    settings.setdefault("run", "t")
    eventlog.init("run", console_stream=buf, **settings)
    body()
    eventlog.finish()
    return buf.getvalue().splitlines(), Path("run")


def between_marks(lines: list[str]) -> list[str]:
    """The console lines printed between the ``<<A>>`` and ``<<B>>`` log marks."""
    a = next(i for i, ln in enumerate(lines) if "<<A>>" in ln)
    b = next(i for i, ln in enumerate(lines) if "<<B>>" in ln)
    return [ln for ln in lines[a + 1 : b] if ln.strip()]


def marked(emit: Callable[[], None]) -> Callable[[], None]:
    """``emit`` wrapped in two info log marks, to find its console lines."""

    def body() -> None:
        log = eventlog.get_logger("mark")
        log.info("<<A>>")
        emit()
        log.info("<<B>>")

    return body


def next_text(lines: list[str], i: int) -> str:
    """The first line after ``lines[i]`` that is neither a rule nor blank."""
    for ln in lines[i + 1 :]:
        if ln.strip() and ln not in (RULE, THIN):
            return ln
    return ""


def assert_in_order(lines: list[str], patterns: list[str]) -> None:
    """Each regex fully matches some line, in this order (other lines may come between)."""
    i = 0
    for n, pat in enumerate(patterns):
        rx = re.compile(pat)
        start = i
        while i < len(lines) and not rx.fullmatch(lines[i]):
            i += 1
        assert i < len(lines), (
            f"seed line #{n} /{pat}/ not found after console line {start}: {lines[start : start + 3]}"
        )
        i += 1


def seconds(text: str) -> float:
    """``0.9s`` / ``42s`` / ``23.8m`` / ``1.0h`` as seconds (a non-duration fails the test)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh])", text)
    assert m, f"not a duration: {text!r}"
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]


def seed_flow(events: list[dict[str, Any]]) -> list[str]:
    """The seed's console lines (as full-line regexes) for a run's events, in event order."""
    pats: list[str] = []
    n_steps = sum(e["event"] == "phase_start" and e.get("phase") == "training_step" for e in events)
    for ev in events:
        kind, name, step = ev["event"], ev.get("phase"), ev.get("step")
        opt = rf"( \(Step {step}\))?" if step is not None else ""
        if kind == "phase_start":
            if name == "initialization":
                pats.append(r"🔧 \[META\] PHASE: INITIALIZATION.*")
            elif name == "pre_training_validation":
                pats.append(rf"🧪 \[META\] PHASE: PRE-TRAINING VALIDATION{opt}")
            elif name == "validation":
                pats.append(rf"🔍 \[META\] PHASE: VALIDATION{opt}")
                if "total_batches" in ev and "total_questions" in ev and "batch_size" in ev:
                    pats.append(
                        rf"Total batches: {ev['total_batches']} \| Total questions: {ev['total_questions']}"
                        rf" \| Batch size: {ev['batch_size']}"
                    )
            elif name == "training":
                pats.append(r"🚀 \[META\] PHASE: TRAINING START")
                if "total_epochs" in ev and "total_steps" in ev:
                    pats.append(rf"Total epochs: {ev['total_epochs']} \| Total steps: {ev['total_steps']}")
            elif name == "training_step":
                pats.append(rf"🔄 \[META\] PHASE: TRAINING STEP{opt}")
                if "total_steps" in ev:
                    pct = f"{100 * step / ev['total_steps']:.1f}"
                    epoch = rf"\[Epoch {ev['epoch']}/{ev['total_epochs']}\] " if "total_epochs" in ev else ""
                    pats.append(rf"{epoch}Step {step}/{ev['total_steps']} \({pct}%\) \| Elapsed: \S+ \| ETA: \S+")
            elif name == "periodic_validation":
                pats.append(rf"🧪 \[META\] PHASE: PERIODIC VALIDATION \(Step {step}\)")
            elif name == "checkpoint":
                pats.append(rf"💾 \[META\] PHASE: CHECKPOINT SAVING \(Step {step}\)")
            elif name == "post_training_validation":
                pats.append(rf"🧪 \[META\] PHASE: POST-TRAINING VALIDATION{opt}")
        elif kind == "phase_end" and ev.get("status") == "ok":
            if name == "validation":
                pats.append(r"✅ \[META\] PHASE COMPLETE: VALIDATION")
                pats.append(r"Total questions processed: \d+ \| Total time: \S+ \| Avg time per batch: \S+")
            elif name == "checkpoint":
                pats.append(r"✅ \[META\] CHECKPOINT SAVED SUCCESSFULLY")
            elif name == "training":
                pats.append(r"🎉 \[META\] PHASE: TRAINING COMPLETE")
                pats.append(rf"Total steps completed: {n_steps} \| Total time: \S+")
        elif kind == "step_metrics":
            pats.append(r"📊 Metrics: .+")
        elif kind == "run_end" and ev.get("status") == "completed" and ev.get("mode") is None:
            pats.append(r"🏁 \[META\] ALL PHASES COMPLETE - Training Finished Successfully!")
    return pats


# --- the seed flow, walked through the public API in a subprocess ------------------------

WALK = r"""
import sys, time
from pathlib import Path
import eventlog

run_dir = Path(sys.argv[1])
eventlog.init(run_dir, run="seed", config={"total_steps": 35, "total_epochs": 3}, console="banner")


def validation(name, step):
    with eventlog.phase(name, step=step):
        with eventlog.phase("validation", total_batches=28, total_questions=7405, batch_size=256) as v:
            for i in range(1, 29):
                v.val_batch(i, questions=7405 if i == 28 else 256 * i, avg_reward=0.456 if i == 1 else 0.541)


with eventlog.phase("initialization", label="INITIALIZATION - Creating Resource Pools and Workers"):
    pass
validation("pre_training_validation", 0)
with eventlog.phase("training", total_steps=35, total_epochs=3) as training:
    for step in range(1, 36):
        epoch = (step - 1) // 12 + 1
        with training.step_phase(step, epoch=epoch):
            time.sleep(0.005)
            eventlog.emit(
                "step_metrics", step=step, epoch=epoch, total_epochs=3, total_steps=35,
                metrics={"mean": 0.782, "kl": 0.012, "loss": 0.234, "finish_ratio": 0.955, "gen": 11.234},
                active_traj=[512, 287, 45, 23],
            )
        if step in (15, 30):
            path = run_dir / f"step_{step}.ckpt"
            with eventlog.checkpoint(step, path):
                path.write_bytes(b"x" * 64)
        if step == 20:
            validation("periodic_validation", 20)
validation("post_training_validation", 35)
eventlog.finish()
"""


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path, list[dict[str, Any]]]:
    """The seed flow's console lines, the saved console log and the events."""
    d = tmp_path_factory.mktemp("walk")
    proc = subprocess.run(
        [sys.executable, "-c", WALK, str(d / "run")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=_env(),
        cwd=d,
    )
    assert 0 == proc.returncode, proc.stderr
    log = d / "training.log"
    log.write_text(proc.stdout, encoding="utf-8")
    return proc.stdout.splitlines(), log, read_events(d / "run" / "events.jsonl")


class TestSeedBanners:
    def test_initialization_label_is_kept_as_written(self, walk: Any) -> None:
        """Banners: `INITIALIZATION - Creating Resource Pools and Workers` is printed as given, not upper-cased."""
        lines, _, _ = walk
        assert "🔧 [META] PHASE: INITIALIZATION - Creating Resource Pools and Workers" in lines

    def test_training_start_banner_with_epochs_and_steps(self, walk: Any) -> None:
        """Banners: `🚀 [META] PHASE: TRAINING START` then `Total epochs: 3 | Total steps: 35`."""
        lines, _, _ = walk
        heads = [i for i, ln in enumerate(lines) if ln == "🚀 [META] PHASE: TRAINING START"]
        assert 1 == len(heads)
        assert "Total epochs: 3 | Total steps: 35" == next_text(lines, heads[0])

    def test_validation_complete_banner_with_totals_computed_by_the_phase(self, walk: Any) -> None:
        """Banners: `✅ [META] PHASE COMPLETE: VALIDATION` with questions, time and avg per batch, none passed in."""
        lines, _, _ = walk
        heads = [i for i, ln in enumerate(lines) if ln == "✅ [META] PHASE COMPLETE: VALIDATION"]
        assert 3 == len(heads)
        totals = r"Total questions processed: 7405 \| Total time: (\S+) \| Avg time per batch: (\S+)"
        for i in heads:
            m = re.fullmatch(totals, next_text(lines, i))
            assert m, next_text(lines, i)
            assert seconds(m.group(1)) >= 0 and seconds(m.group(2)) >= 0
        assert not any("VALIDATION COMPLETE" in ln and "PHASE COMPLETE" not in ln for ln in lines)

    def test_checkpoint_saving_banner_and_saved_line(self, walk: Any) -> None:
        """Banners: seed 000's `grep "CHECKPOINT"` output: `CHECKPOINT SAVING (Step N)` then `SAVED SUCCESSFULLY`."""
        _, log, _ = walk
        assert [
            "💾 [META] PHASE: CHECKPOINT SAVING (Step 15)",
            "✅ [META] CHECKPOINT SAVED SUCCESSFULLY",
            "💾 [META] PHASE: CHECKPOINT SAVING (Step 30)",
            "✅ [META] CHECKPOINT SAVED SUCCESSFULLY",
        ] == grep("CHECKPOINT", log)

    def test_training_complete_banner_with_totals_computed_by_the_phase(self, walk: Any) -> None:
        """Banners: `🎉 [META] PHASE: TRAINING COMPLETE` then `Total steps completed: 35 | Total time: …`."""
        lines, _, _ = walk
        heads = [i for i, ln in enumerate(lines) if ln == "🎉 [META] PHASE: TRAINING COMPLETE"]
        assert 1 == len(heads)
        m = re.fullmatch(r"Total steps completed: 35 \| Total time: (\S+)", next_text(lines, heads[0]))
        assert m, next_text(lines, heads[0])
        assert seconds(m.group(1)) >= 0
        assert "✅ [META] TRAINING COMPLETE" not in lines

    def test_step_suffix_is_capitalised(self, walk: Any) -> None:
        """Banners: `(Step 50)`, not `(step 15)`: the periodic validation banner reads `(Step 20)`."""
        lines, _, _ = walk
        assert "🧪 [META] PHASE: PERIODIC VALIDATION (Step 20)" in lines
        assert [] == [ln for ln in lines if "[META]" in ln and "(step " in ln]

    def test_metrics_line_and_active_traj_are_printed(self, walk: Any) -> None:
        """Banners: `ACTIVE_TRAJ_NUM: [512, 287, 45, 23]` and `📊 Metrics: finish_ratio=0.955 | gen=11.234 | …`."""
        lines, _, _ = walk
        traj = "ACTIVE_TRAJ_NUM: [512, 287, 45, 23]"
        metrics = "📊 Metrics: finish_ratio=0.955 | gen=11.234 | kl=0.012 | loss=0.234 | mean=0.782"
        assert 35 == lines.count(traj)
        assert 35 == lines.count(metrics)
        assert_in_order(
            lines,
            [
                r"🔄 \[META\] PHASE: TRAINING STEP( \(Step 1\))?",
                re.escape(traj),
                re.escape(metrics),
                r"\[Step 1\] mean=0\.782 kl=0\.012 loss=0\.234 .*",
            ],
        )

    def test_whole_seed_flow_in_order(self, walk: Any) -> None:
        """Done when: every seed banner of the walked flow appears, in the seed's order, with its context lines."""
        lines, _, events = walk
        flow = seed_flow(events)
        flow.insert(
            flow.index(r"🔍 \[META\] PHASE: VALIDATION( \(Step 0\))?") + 2,
            r"📊 Validation \[1/28\] \(3\.6%\) \| Questions: 256/7405 \| Avg Reward: 0\.456"
            r" \| Elapsed: \S+ \| ETA: \S+",
        )
        assert_in_order(lines, flow)

    def test_seed_000_grep_examples(self, walk: Any) -> None:
        """Banners: seed 000's recipes: TRAINING START, ALL PHASES COMPLETE, and `grep -c "PHASE: VALIDATION"` is 3."""
        _, log, _ = walk
        assert ["🚀 [META] PHASE: TRAINING START"] == grep("TRAINING START", log)
        assert ["🏁 [META] ALL PHASES COMPLETE - Training Finished Successfully!"] == grep("ALL PHASES COMPLETE", log)
        assert 3 == grep("PHASE: VALIDATION", log, count=True)
        assert 3 == grep("PHASE COMPLETE: VALIDATION", log, count=True)

    def test_blocks_have_the_seed_rule_layout(self, walk: Any) -> None:
        """Banners: seed 001's blocks: rule, head, rule, totals, rule (a step: rule, head, progress, rule)."""
        lines, _, _ = walk

        def block(head: str, n: int) -> list[str]:
            i = next(i for i, ln in enumerate(lines) if re.fullmatch(head, ln))
            return lines[i - 1 : i - 1 + n]

        assert [
            RULE,
            "🔍 [META] PHASE: VALIDATION",
            RULE,
            "Total batches: 28 | Total questions: 7405 | Batch size: 256",
            RULE,
        ] == [re.sub(r" \([Ss]tep 0\)$", "", ln) for ln in block(r"🔍 \[META\] PHASE: VALIDATION.*", 5)]
        done = block(r"✅ \[META\] PHASE COMPLETE: VALIDATION", 5)
        assert [RULE, "✅ [META] PHASE COMPLETE: VALIDATION", RULE, RULE] == [done[0], done[1], done[2], done[4]]
        assert [RULE, "🚀 [META] PHASE: TRAINING START", RULE, "Total epochs: 3 | Total steps: 35", RULE] == block(
            r"🚀 \[META\] PHASE: TRAINING START", 5
        )
        step = block(r"🔄 \[META\] PHASE: TRAINING STEP.*", 4)
        assert [RULE, RULE] == [step[0], step[3]]
        assert step[2].startswith("[Epoch 1/3] Step 1/35 (2.9%) | Elapsed: ")
        end = block(r"🎉 \[META\] PHASE: TRAINING COMPLETE", 5)
        assert [RULE, "🎉 [META] PHASE: TRAINING COMPLETE", RULE, RULE] == [end[0], end[1], end[2], end[4]]


# --- phases through the public API, in this process ------------------------------------


def _validation(name: str, step: int) -> None:
    with (
        eventlog.phase(name, step=step),
        eventlog.phase("validation", total_batches=2, total_questions=8, batch_size=4) as v,
    ):
        v.val_batch(1, questions=4, avg_reward=0.5)
        v.val_batch(2, questions=8, avg_reward=0.5)


class TestPhaseApi:
    def test_validation_only_mode_banner(self) -> None:
        """Banners: `🏁 [META] PHASE: COMPLETE - Validation Only Mode` ends a validation-only run."""

        def body() -> None:
            _validation("pre_training_validation", 0)

        buf = io.StringIO()
        eventlog.init("run", run="t", console_stream=buf)
        body()
        eventlog.finish(mode="validation_only")
        lines = buf.getvalue().splitlines()
        assert 1 == lines.count("🏁 [META] PHASE: COMPLETE - Validation Only Mode")
        assert not any("ALL PHASES COMPLETE" in ln for ln in lines)

    def test_checkpoint_takes_a_label(self) -> None:
        """Banners: `checkpoint()` takes a label, shown verbatim in the 💾 banner with `(Step 100)`."""

        def body() -> None:
            with eventlog.checkpoint(100, Path("ckpt.bin"), label="CHECKPOINT SAVING - best accuracy"):
                Path("ckpt.bin").write_bytes(b"x" * 16)

        lines, run = console_run(body)
        heads = [ln for ln in lines if ln.startswith("💾 [META] PHASE: ")]
        assert 1 == len(heads)
        assert heads[0].startswith("💾 [META] PHASE: CHECKPOINT SAVING - best accuracy")
        assert "(Step 100)" in heads[0]
        assert 1 == lines.count("✅ [META] CHECKPOINT SAVED SUCCESSFULLY")
        ck = [e for e in read_events(run / "events.jsonl") if e["event"] == "checkpoint"]
        assert [(100, "ckpt.bin", 16)] == [(e["step"], e["path"], e["size_bytes"]) for e in ck]

    # Revised by the issue-11 fix: the original asked for a positive ETA on step 1 when nothing had happened
    # before it (0.1 s steps, no time before step 1). Then nothing is known and any number would be made up;
    # the seed's own step-1 ETA (`Elapsed: 42s | ETA: 23.8m`) comes from 42 s that had run before step 1,
    # which the phase does count. So: `?` (never `0.0s`) until there is something to go on, then a positive ETA.

    def test_first_step_eta_is_not_zero(self) -> None:
        """Banners: the first step shows `ETA: ?`, never `0.0s`, when nothing ran before it; step 2 a positive ETA."""

        def body() -> None:
            with eventlog.phase("training", total_steps=10, total_epochs=1) as tr:
                for step in range(1, 4):
                    with tr.step_phase(step, epoch=1):
                        time.sleep(0.1)

        lines, _ = console_run(body)
        first = next(ln for ln in lines if ln.startswith("[Epoch 1/1] Step 1/10 (10.0%) | Elapsed: "))
        assert first.endswith("| ETA: ?"), first
        second = next(ln for ln in lines if ln.startswith("[Epoch 1/1] Step 2/10 (20.0%) | Elapsed: "))
        m = re.search(r"\| ETA: (\S+)$", second)
        assert m, second
        assert seconds(m.group(1)) > 0, second

    def test_first_step_eta_counts_the_time_before_it(self, clock: Any) -> None:
        """Banners: as seed 001 (42 s before step 1 → ETA 23.8m), time the phase ran before step 1 counts as a step."""

        def body() -> None:
            with eventlog.phase("training", total_steps=35, total_epochs=3) as tr:
                clock.advance(42)
                with tr.step_phase(1, epoch=1):
                    pass

        lines, _ = console_run(body)
        assert "[Epoch 1/3] Step 1/35 (2.9%) | Elapsed: 42s | ETA: 24.5m" in lines  # 42 s x 35 steps left

    def test_first_step_after_resume_eta_is_not_zero(self) -> None:
        """Banners: after a resume (steps 6.. of 10, 0.1 s each) the first step shows `?`, the next a positive ETA."""

        def first() -> None:
            with eventlog.phase("training", total_steps=10, total_epochs=1) as tr:
                for step in range(1, 3):
                    with tr.step_phase(step, epoch=1):
                        time.sleep(0.1)

        def resumed() -> None:
            with eventlog.phase("training", total_steps=10, total_epochs=1) as tr:
                for step in range(6, 8):
                    with tr.step_phase(step, epoch=1):
                        time.sleep(0.1)

        console_run(first)
        lines, _ = console_run(resumed)
        line = next(ln for ln in lines if ln.startswith("[Epoch 1/1] Step 6/10 (60.0%) | Elapsed: "))
        assert line.endswith("| ETA: ?"), line
        line = next(ln for ln in lines if ln.startswith("[Epoch 1/1] Step 7/10 (70.0%) | Elapsed: "))
        m = re.search(r"\| ETA: (\S+)$", line)
        assert m, line
        assert seconds(m.group(1)) > 0, line


# --- step table and sinks (seed 003) -----------------------------------------------------

SEED_COLUMNS = [
    Column("step", 4, "step", "d", "GRPO step"),
    Column("rew", 6, "rew", "+.2f", "mean combined reward"),
    Column("gt_s", 6, "gt_s↑", "frac", "student ground-truth passes"),
    Column("gn", 7, "gn", ".1e", "pre-clip L2 norm of A/B grads (vs grad_clip)"),
    Column("hk_dep", 7, "hk_dep", "+.2f", "DEPLOY-eval hack rate; nan between evals"),
    Column("ntok", 5, "ntok", "d"),
]
# What seed 003's StepLogger prints for these columns and rows (computed with the seed's own code).
SEED_HEADER = "step    rew  gt_s↑      gn  hk_dep  ntok"
SEED_ROWS = [
    "   1  +0.50    3/8 1.2e-03     nan  1200",
    "   2  -0.25    5/8 4.6e-02     nan  1300",
    "   3  +0.75    8/8 1.5e+00     nan  1400",
]


def _table_rows() -> None:
    rows = [
        {"rew": 0.5, "gt_s": (3, 8), "gn": 0.00123, "hk_dep": float("nan"), "ntok": 1200},
        {"rew": -0.25, "gt_s": [5, 8], "gn": 0.0456, "hk_dep": None, "ntok": 1300},
        {"rew": 0.75, "gt_s": [8, 8], "gn": 1.5, "ntok": 1400},  # hk_dep absent: no eval this step
    ]
    for step, metrics in enumerate(rows, 1):
        eventlog.emit("step_metrics", step=step, metrics=metrics)


class TestStepTable:
    def test_init_accepts_column_objects_with_python_format_specs(self) -> None:
        """Step table: `init(columns=[Column(...)])`; `+.2f`, `.1e`, `d`, `frac` pairs, None and NaN as the seed."""
        lines, _ = console_run(_table_rows, console="compact", columns=SEED_COLUMNS)
        assert 1 == lines.count(SEED_HEADER)
        assert_in_order(lines, [re.escape(x) for x in (SEED_HEADER, SEED_ROWS[0], SEED_ROWS[1])])

    def test_absent_key_renders_as_the_seed(self) -> None:
        """Step table: a column whose key is absent from the step renders `nan`, like the seed's not-measured cells."""
        lines, _ = console_run(_table_rows, console="compact", columns=SEED_COLUMNS)
        assert SEED_ROWS[2] in lines

    def test_frac_with_a_denom_key(self) -> None:
        """Step table: `frac` with a `denom` key renders `n/d` from two metrics."""
        cols = [Column("step", 4, "step", "d"), Column("gt_t", 6, "gt_t", "frac", "teacher passes", denom="gt_n")]

        def body() -> None:
            eventlog.emit("step_metrics", step=7, metrics={"gt_t": 2, "gt_n": 8})

        lines, _ = console_run(body, console="compact", columns=cols)
        assert_in_order(lines, [re.escape("step   gt_t"), re.escape("   7    2/8")])

    def test_conditional_columns_from_the_run_config(self) -> None:
        """Conditional columns: a run adds per-mode columns at init from its own config, as the seed's StepLogger."""
        config = {"modes": ["math", "code"], "mode_code": {"math": "m", "code": "c"}}
        cols = [Column("step", 4, "step", "d", "GRPO step")]
        if len(config["modes"]) > 1:  # the seed: multi-mode runs show current-step hacks per environment
            for m in config["modes"]:
                code = config["mode_code"][m]
                cols.append(Column(f"hk_{code}", 5, f"hk_{code}", "d", f"student hacks of {m} THIS step"))

        def body() -> None:
            eventlog.emit("step_metrics", step=1, metrics={"hk_m": 2, "hk_c": 0})

        lines, _ = console_run(body, console="compact", columns=cols, config=config)
        assert_in_order(lines, [re.escape("step  hk_m  hk_c"), re.escape("   1     2     0")])

    def test_legend_printed_once_before_the_table(self) -> None:
        """Step table: the live console prints the legend once, at the start, for columns with a description only."""
        lines, _ = console_run(_table_rows, console="compact", columns=SEED_COLUMNS, header_every=2)
        headers = [i for i, ln in enumerate(lines) if ln == SEED_HEADER]
        assert 2 == len(headers)  # header repeated every 2 rows; the legend is not
        for col in SEED_COLUMNS[:-1]:
            hits = [
                i
                for i, ln in enumerate(lines)
                if col.header in ln and col.description in ln and ln.index(col.header) < ln.index(col.description)
            ]
            assert 1 == len(hits), (col.header, hits)
            assert hits[0] < headers[0]
        assert all(ln == SEED_HEADER for ln in lines if "ntok" in ln)  # no description: not in the legend

    def test_debug_logs_stay_in_the_file_by_default(self) -> None:
        """Sinks: console at INFO, file at DEBUG: a debug log is in the file and not on the console."""

        def body() -> None:
            log = eventlog.get_logger("train")
            log.debug("debug detail for the file")
            log.info("info for everyone")

        lines, run = console_run(body)
        assert not any("debug detail for the file" in ln for ln in lines)
        assert 1 == sum("info for everyone" in ln for ln in lines)
        logs = [(e["level"], e["msg"]) for e in read_events(run / "events.jsonl") if e["event"] == "log"]
        assert [("debug", "debug detail for the file"), ("info", "info for everyone")] == logs

    def test_console_level_setting_shows_debug(self) -> None:
        """Sinks: the `console_level` setting lowers the console threshold to DEBUG."""

        def body() -> None:
            eventlog.get_logger("train").debug("debug detail for the console")

        lines, _ = console_run(body, console_level="DEBUG")
        assert 1 == sum("debug detail for the console" in ln for ln in lines)


# --- GRPO enhancements (seed 004) ---------------------------------------------------------

SEED_EVAL = {
    "accuracy": 0.85,
    "correct_answers": 85,
    "total_samples": 100,
    "attempted_answer": 95,
    "avg_reward": 0.723,
    "median_reward": 0.850,
    "std_reward": 0.312,
    "min_reward": -1.200,
    "max_reward": 1.500,
    "found_correct_email": 87,
    "read_correct_email": 82,
    "total_repeated_searches": 15,
    "total_unique_searches": 230,
    "total_searches": 245,
    "avg_turns_correct": 3.45,
    "avg_turns_idk": 4.20,
    "avg_search_attempts": 2.45,
    "num_idk": 5,
    "eval_time": 234.5,
    "beat_rate": 0.78,
}


def _seed_eval() -> None:
    eventlog.emit("eval_summary", step=10, split="val", total=100, metrics=SEED_EVAL)


def analyze_eval_logs(output_dir: Any) -> None:
    """Seed 004's analysis script, verbatim."""
    eval_logs = sorted(glob.glob(f"{output_dir}/eval_logs/eval_step_*.json"))

    for log_file in eval_logs:
        with open(log_file) as f:
            data = json.load(f)

        print(
            f"Step {data['step']:4d}: "
            f"Acc={data['accuracy'] * 100:5.1f}%, "
            f"Found={data['found_correct_email']}/{data['total_samples']}, "
            f"Read={data['read_correct_email']}/{data['total_samples']}, "
            f"Repeats={data['total_repeated_searches']}"
        )


class TestEvalFiles:
    def test_eval_summary_writes_the_flat_eval_step_file(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Eval stats files: `eval_logs/eval_step_0010.json` is the seed's flat object; `analyze_eval_logs()` works."""
        _, run = console_run(_seed_eval)
        assert (run / "eval_logs").is_dir()
        assert ["eval_step_0010.json"] == sorted(p.name for p in (run / "eval_logs").iterdir())
        data = json.loads((run / "eval_logs" / "eval_step_0010.json").read_text(encoding="utf-8"))
        assert 10 == data["step"]
        assert "metrics" not in data
        assert SEED_EVAL == {k: data[k] for k in SEED_EVAL}
        capsys.readouterr()
        analyze_eval_logs(run)
        assert "Step   10: Acc= 85.0%, Found=87/100, Read=82/100, Repeats=15\n" == capsys.readouterr().out

    def test_console_names_the_saved_file(self) -> None:
        """Eval stats files: the console prints `💾 Eval stats saved to: …/eval_logs/eval_step_0010.json`."""
        lines, run = console_run(_seed_eval)
        saved = [ln for ln in lines if ln.lstrip().startswith("💾 Eval stats saved to: ")]
        assert 1 == len(saved)
        printed = Path(saved[0].split("💾 Eval stats saved to: ", 1)[1].strip())
        assert printed.resolve() == (run / "eval_logs" / "eval_step_0010.json").resolve()

    def test_eval_files_setting_off(self) -> None:
        """Eval stats files: `eval_files=False` writes no eval_logs and prints no saved line."""
        lines, run = console_run(_seed_eval, eval_files=False)
        assert not (run / "eval_logs").exists()
        assert not any("Eval stats saved to" in ln for ln in lines)
        assert 1 == sum(e["event"] == "eval_summary" for e in read_events(run / "events.jsonl"))

    def test_cli_eval_json_is_the_same_flat_object(self) -> None:
        """Eval stats files: `eventlog eval --json` writes the same flat object as eval_step_0010.json."""
        _, run = console_run(_seed_eval)
        proc = cli("eval", "--json", str(run))
        assert 0 == proc.returncode, proc.stderr
        out = json.loads(proc.stdout)
        assert (10, 0.85, 87) == (out.get("step"), out.get("accuracy"), out.get("found_correct_email"))
        assert "metrics" not in out
        assert json.loads((run / "eval_logs" / "eval_step_0010.json").read_text(encoding="utf-8")) == out


class TestGrpoConsole:
    def test_detailed_rubric_statistics_in_verbose_mode(self) -> None:
        """Rubric statistics: verbose mode prints `📊 Detailed Rubric Statistics:` with `n/N (pct%)` lines."""
        lines, _ = console_run(marked(_seed_eval), verbosity="verbose")
        out = between_marks(lines)
        titles = [i for i, ln in enumerate(out) if ln.strip() == "📊 Detailed Rubric Statistics:"]
        assert 1 == len(titles)
        block = out[titles[0] + 1 :]
        for frac in ("95/100 (95.0%)", "87/100 (87.0%)", "82/100 (82.0%)"):
            assert any(ln.rstrip().endswith(frac) for ln in block), frac

    def test_concise_eval_keeps_one_line(self) -> None:
        """Rubric statistics: concise mode keeps one line for the eval (besides the saved-file line)."""
        lines, _ = console_run(marked(_seed_eval))
        out = [ln for ln in between_marks(lines) if "Eval stats saved to" not in ln]
        assert 1 == len(out), out
        assert "0.85" in out[0]

    def test_group_summary_concise_line(self) -> None:
        """Group summary: concise mode prints the seed's line `Groups: 6/8 kept (2 filtered), 18/48 finished early`."""

        def emit() -> None:
            eventlog.emit(
                "group_summary",
                step=10,
                groups_total=8,
                groups_kept=6,
                groups_filtered=2,
                rollouts_total=48,
                rollouts_early_exit=18,
            )

        lines, _ = console_run(marked(emit))
        assert ["Groups: 6/8 kept (2 filtered), 18/48 finished early"] == [ln.strip() for ln in between_marks(lines)]

    def test_turn_advantage_table_in_the_seed_layout(self) -> None:
        """Advantage table: `📊` title, rules, `Rollout | Turn  1 | …`, rollouts numbered from 1, as seed 004."""

        def emit() -> None:
            eventlog.emit(
                "group_detail",
                step=3,
                group=0,
                turn_advantages=[[0.35, 0.42, 0.8, 1.2], [-0.2, -0.15, 0.3, 0.85], [0.15, 0.25, -0.3, -0.45]],
            )

        lines, _ = console_run(marked(emit), verbosity="verbose")
        out = [ln.rstrip() for ln in between_marks(lines)]
        titles = [i for i, ln in enumerate(out) if ln.startswith("📊 Turn-by-Turn Advantage Table")]
        assert 1 == len(titles), out
        i = titles[0]
        assert THIN == out[i - 1]
        assert [
            THIN,
            "Rollout | Turn  1 | Turn  2 | Turn  3 | Turn  4 |",
            THIN,
            "    1  | +0.350 | +0.420 | +0.800 | +1.200 |",
            "    2  | -0.200 | -0.150 | +0.300 | +0.850 |",
            "    3  | +0.150 | +0.250 | -0.300 | -0.450 |",
            THIN,
        ] == out[i + 1 : i + 8]

    def test_verbose_env_switch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """VERBOSE=true (the seed's switch) turns verbose on: group details are printed."""
        monkeypatch.setenv("VERBOSE", "true")

        def emit() -> None:
            eventlog.emit("group_detail", step=3, group=0, turn_advantages=[[0.5, -0.5]])

        lines, _ = console_run(marked(emit))
        assert any("Turn-by-Turn Advantage Table" in ln for ln in between_marks(lines))

    def test_eventlog_verbosity_env_still_works(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """EVENTLOG_VERBOSITY=verbose keeps working next to VERBOSE=true."""
        monkeypatch.setenv("EVENTLOG_VERBOSITY", "verbose")

        def emit() -> None:
            eventlog.emit("group_detail", step=3, group=0, turn_advantages=[[0.5, -0.5]])

        lines, _ = console_run(marked(emit))
        assert any("Turn-by-Turn Advantage Table" in ln for ln in between_marks(lines))


# --- make demo ------------------------------------------------------------------------------


def _demo_command(out: Path) -> list[str]:
    """The demo, wherever it lives: examples/grpo_demo.py after the restructure, eventlog.demo before."""
    script = ROOT / "examples" / "grpo_demo.py"
    base = [sys.executable, str(script)] if script.exists() else [sys.executable, "-m", "eventlog.demo"]
    helptext = subprocess.run(
        [*base, "--help"], capture_output=True, text=True, encoding="utf-8", timeout=60, env=_env()
    ).stdout
    fast = ["--delay", "0"] if "--delay" in helptext else []
    return [*base, "--out", str(out), *fast]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path, Path, list[dict[str, Any]]]:
    """The demo's console lines, its saved log, its run directory and its events."""
    d = tmp_path_factory.mktemp("demo")
    out = d / "runs" / "demo"
    proc = subprocess.run(
        _demo_command(out), capture_output=True, text=True, encoding="utf-8", timeout=180, env=_env(), cwd=d
    )
    assert 0 == proc.returncode, proc.stderr
    log = d / "training.log"
    log.write_text(proc.stdout, encoding="utf-8")
    return proc.stdout.splitlines(), log, out, read_events(out / "events.jsonl")


def _count(events: list[dict[str, Any]], kind: str, *names: str) -> int:
    return sum(e["event"] == kind and (not names or e.get("phase") in names) for e in events)


class TestDemo:
    def test_demo_console_has_every_seed_banner_in_order(self, demo: Any) -> None:
        """Done when: `make demo` output contains every seed banner in the seed's order."""
        lines, _, _, events = demo
        assert_in_order(lines, seed_flow(events))

    def test_grep_meta_finds_the_phase_structure(self, demo: Any) -> None:
        """Grep recipe `grep "\\[META\\]"`: the seed's phase markers, in order, one per phase start."""
        _, log, _, events = demo
        found = grep(r"\[META\]", log)
        assert_in_order(found, [p for p in seed_flow(events) if r"\[META\]" in p])
        starts = [ln for ln in found if "[META] PHASE:" in ln and "COMPLETE" not in ln]
        assert _count(events, "phase_start") == len(starts)

    def test_grep_validation_phases(self, demo: Any) -> None:
        """Grep recipe `grep "\\[META\\] PHASE.*VALIDATION"`: per validation its kind, VALIDATION, PHASE COMPLETE."""
        _, log, _, events = demo
        wrappers = _count(
            events, "phase_start", "pre_training_validation", "periodic_validation", "post_training_validation"
        )
        validations = _count(events, "phase_start", "validation")
        assert validations == wrappers > 0
        assert wrappers + 2 * validations == len(grep(r"\[META\] PHASE.*VALIDATION", log))

    def test_grep_training_steps(self, demo: Any) -> None:
        """Grep recipe `grep "\\[META\\] PHASE: TRAINING STEP"`: one line per training step."""
        _, log, _, events = demo
        steps = _count(events, "phase_start", "training_step")
        assert steps == len(grep(r"\[META\] PHASE: TRAINING STEP", log))
        assert steps == _count(events, "step_metrics")

    def test_grep_count_phase_complete_validation(self, demo: Any) -> None:
        """Grep recipe `grep -c "PHASE COMPLETE: VALIDATION"`: the number of validation runs."""
        _, log, _, events = demo
        assert _count(events, "phase_start", "validation") == grep("PHASE COMPLETE: VALIDATION", log, count=True)

    def test_grep_checkpoint(self, demo: Any) -> None:
        """Grep recipe `grep "CHECKPOINT"`: `CHECKPOINT SAVING (Step N)` and `SAVED SUCCESSFULLY` per save."""
        _, log, _, events = demo
        steps = [e["step"] for e in events if e["event"] == "checkpoint"]
        assert steps
        expected = []
        for s in steps:
            expected += [f"💾 [META] PHASE: CHECKPOINT SAVING (Step {s})", "✅ [META] CHECKPOINT SAVED SUCCESSFULLY"]
        assert expected == grep("CHECKPOINT", log)

    def test_grep_complete(self, demo: Any) -> None:
        """Grep recipe `grep "COMPLETE"`: validation completions, TRAINING COMPLETE, then ALL PHASES COMPLETE."""
        _, log, _, events = demo
        found = grep("COMPLETE", log)
        expected = [
            p
            for p in seed_flow(events)
            if "COMPLETE" in p and "Total" not in p  # the heads, not their totals lines
        ]
        assert_in_order(found, expected)
        assert found[-1] == "🏁 [META] ALL PHASES COMPLETE - Training Finished Successfully!"

    def test_demo_leaves_eval_step_files(self, demo: Any) -> None:
        """Done when: the demo leaves `eval_logs/eval_step_XXXX.json`, one per eval, and prints where."""
        lines, _, out, events = demo
        steps = [e["step"] for e in events if e["event"] == "eval_summary"]
        assert steps
        assert (out / "eval_logs").is_dir()
        assert [f"eval_step_{s:04d}.json" for s in steps] == sorted(p.name for p in (out / "eval_logs").iterdir())
        assert len(steps) == sum(ln.lstrip().startswith("💾 Eval stats saved to: ") for ln in lines)

    def test_seed_jq_loop_prints_the_accuracies(self, demo: Any) -> None:
        """Done when: seed 004's `jq -r '.accuracy'` loop over eval_logs prints each eval's accuracy."""
        _, _, out, events = demo
        accs = {e["step"]: e["metrics"]["accuracy"] for e in events if e["event"] == "eval_summary"}
        files = sorted(glob.glob(f"{out}/eval_logs/eval_step_*.json"))
        assert len(accs) == len(files)
        if shutil.which("jq"):
            loop = 'for f in "$1"/eval_logs/eval_step_*.json; do echo -n "$(basename $f): "; jq -r ".accuracy" $f; done'
            proc = subprocess.run(["bash", "-c", loop, "loop", str(out)], capture_output=True, text=True, timeout=60)
            assert 0 == proc.returncode, proc.stderr
            printed = proc.stdout.splitlines()
        else:  # the same loop: `.accuracy` is the top-level key
            printed = [f"{Path(f).name}: {json.loads(Path(f).read_text())['accuracy']}" for f in files]
        assert len(files) == len(printed)
        for line in printed:
            name, _, value = line.partition(": ")
            step = int(re.fullmatch(r"eval_step_(\d{4})\.json", name).group(1))  # type: ignore[union-attr]
            assert float(value) == pytest.approx(accs[step])


class TestReadme:
    def test_readme_console_excerpt_is_regenerated(self) -> None:
        """Done when: the README's console excerpt shows the seed's banners, not today's wording."""
        text = (ROOT / "README.md").read_text(encoding="utf-8")
        assert "✅ [META] PHASE COMPLETE: VALIDATION" in text
        assert "🚀 [META] PHASE: TRAINING START" in text
        assert "Total questions processed: " in text
        assert "✅ [META] VALIDATION COMPLETE" not in text
        assert "[META] PHASE: TRAINING STEP (step " not in text

    def test_readme_documents_conditional_columns(self) -> None:
        """Step table: the README shows how a run adds `Column` objects at init from its own config."""
        text = (ROOT / "README.md").read_text(encoding="utf-8")
        blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
        assert any("Column(" in b and "columns=" in b and "init(" in b and "if " in b for b in blocks)
