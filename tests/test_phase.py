"""Phases: nesting, status, interruption, progress helpers; logs stamped with phase and step."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import eventlog
from conftest import FakeClock, read_events


def events(tmp_path: Path) -> list[dict[str, Any]]:
    eventlog.flush()
    return read_events(tmp_path / "r" / "events.jsonl")


@pytest.fixture
def run(tmp_path: Path, clock: FakeClock) -> Path:
    eventlog.init(tmp_path / "r", run="r", console="off")
    return tmp_path


class TestNesting:
    def test_parent_ids_follow_nesting(self, run: Path) -> None:
        """A phase opened inside another records the outer id as parent."""
        with eventlog.phase("training") as outer, eventlog.phase("checkpoint", step=3) as inner:
            assert outer is eventlog.current_phase().parent  # type: ignore[union-attr]
            assert inner is eventlog.current_phase()
            assert 3 == eventlog.current_step()
        starts = [e for e in events(run) if e["event"] == "phase_start"]
        assert [("training", None), ("checkpoint", starts[0]["id"])] == [(e["phase"], e.get("parent")) for e in starts]

    def test_worker_threads_nest_in_the_loops_phase_not_in_each_other(self, run: Path) -> None:
        """Threads started inside a step open their phases under the step, while a sibling's phase is open.

        Before, a thread took the run's most recently opened phase as its parent: the other worker's.
        """
        import threading

        both_open = threading.Barrier(2)

        def worker(n: int) -> None:
            with eventlog.phase("rollout_worker", worker=n):
                both_open.wait(timeout=10)
                eventlog.get_logger("w").info("worker msg", n=n)
                both_open.wait(timeout=10)

        with eventlog.phase("training"), eventlog.phase("training_step", step=1) as step:
            threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        evs = events(run)
        workers = [e for e in evs if e["event"] == "phase_start" and e["phase"] == "rollout_worker"]
        assert [step.id, step.id] == [e["parent"] for e in workers]
        by_worker = {e["worker"]: e["id"] for e in workers}
        logs = [e for e in evs if e["event"] == "log"]
        assert {(e["n"], e["phase_id"]) for e in logs} == set(by_worker.items())

    def test_exception_marks_failed_and_propagates(self, run: Path) -> None:
        """An exception ends the phase as failed with the error, and is re-raised."""
        with pytest.raises(ValueError, match="bad"), eventlog.phase("validation"):
            raise ValueError("bad")
        end = [e for e in events(run) if e["event"] == "phase_end"][0]
        assert ("failed", "ValueError: bad") == (end["status"], end["error"])

    def test_decorator_opens_a_phase_per_call(self, run: Path) -> None:
        """@phase wraps each call in its own phase."""

        @eventlog.phase("initialization")
        def setup(x: int) -> int:
            return x * 2

        assert 4 == setup(2)
        assert 6 == setup(3)
        assert 2 == sum(e["event"] == "phase_end" for e in events(run))

    def test_open_phases_end_interrupted_at_finish(self, run: Path) -> None:
        """Phases still open when the run finishes are closed innermost first as interrupted."""
        eventlog.phase("training").__enter__()
        eventlog.phase("training_step", step=1).__enter__()
        eventlog.finish()
        ends = [(e["phase"], e["status"]) for e in read_events(run / "r" / "events.jsonl") if e["event"] == "phase_end"]
        assert [("training_step", "interrupted"), ("training", "interrupted")] == ends


class TestProgress:
    def test_val_batch_has_elapsed_and_eta_from_the_phase_clock(self, run: Path, clock: FakeClock) -> None:
        """Each batch carries elapsed seconds and ETA = elapsed / done * left."""
        with eventlog.phase("validation", total_batches=4, total_questions=40) as v:
            clock.advance(2.0)
            v.val_batch(1, questions=10, avg_reward=0.5)
        vb = [e for e in events(run) if e["event"] == "val_batch"][0]
        assert (4, 40, 0.5) == (vb["total_batches"], vb["total_questions"], vb["avg_reward"])
        assert (2.0, 6.0) == (vb["elapsed"], vb["eta"])

    def test_training_step_eta_uses_recent_step_durations(self, run: Path, clock: FakeClock) -> None:
        """A step phase knows epoch, totals and an ETA from the mean of finished steps."""
        with eventlog.phase("training", total_steps=10, total_epochs=2) as tr:
            clock.advance(1.5)
            for s, seconds in ((1, 1.0), (2, 3.0), (3, 5.0)):
                with tr.step_phase(s, epoch=1):
                    clock.advance(seconds)
        evs = events(run)
        steps = [e for e in evs if e["event"] == "phase_start" and e["phase"] == "training_step"]
        durations = [e["duration"] for e in evs if e["event"] == "phase_end" and e["phase"] == "training_step"]
        assert [1, 2, 3] == [e["step"] for e in steps]
        assert [1.0, 3.0, 5.0] == durations
        assert (1, 2, 10) == (steps[2]["epoch"], steps[2]["total_epochs"], steps[2]["total_steps"])
        assert (1.5, 15.0) == (steps[0]["elapsed"], steps[0]["eta"])  # before any step ended: 1.5 s as one step, x 10
        assert 2.0 * 8 == steps[2]["eta"]  # the mean of the finished steps times the steps left

    def test_first_step_eta_is_unknown_without_anything_to_go_on(self, run: Path, clock: FakeClock) -> None:
        """Less than a second before the first step and no step finished: no ETA (the console shows ?)."""
        with eventlog.phase("training", total_steps=10) as tr:
            clock.advance(0.5)
            with tr.step_phase(1):
                clock.advance(1.0)
            with tr.step_phase(2):
                pass
        steps = [e for e in events(run) if e["event"] == "phase_start" and e["phase"] == "training_step"]
        assert "eta" not in steps[0]
        assert 9.0 == steps[1]["eta"]

    def test_phase_counts_its_own_totals(self, run: Path, clock: FakeClock) -> None:
        """Validation counts questions, batches and time per batch; training counts the steps completed."""
        with eventlog.phase("validation", total_batches=2) as v:
            clock.advance(1.0)
            v.val_batch(1, questions=4)
            clock.advance(1.0)
            v.val_batch(2, questions=8)
        with eventlog.phase("training", total_steps=3) as tr:
            for s in (1, 2):
                with tr.step_phase(s):
                    clock.advance(1.0)
        ends = {e["phase"]: e for e in events(run) if e["event"] == "phase_end"}
        val = ends["validation"]
        assert (8, 2) == (val["questions_processed"], val["batches"])
        assert val["avg_batch_time"] == pytest.approx(val["duration"] / 2)
        assert 2 == ends["training"]["steps_completed"]

    def test_checkpoint_records_path_size_and_duration(self, run: Path, clock: FakeClock) -> None:
        """eventlog.checkpoint wraps a save in a phase and emits a checkpoint event with the file size."""
        target = run / "c.bin"
        with eventlog.checkpoint(7, target):
            target.write_bytes(b"x" * 1000)
            clock.advance(1.5)
        ck = [e for e in events(run) if e["event"] == "checkpoint"][0]
        assert (7, str(target), 1000, 1.5) == (ck["step"], ck["path"], ck["size_bytes"], ck["duration"])


class TestLogs:
    def test_structlog_logger_events_carry_phase_and_step(self, run: Path) -> None:
        """get_logger() calls become log events stamped with the current phase id and step."""
        log = eventlog.get_logger("train")
        with eventlog.phase("training_step", step=12) as p:
            log.warning("observation too long", length=9000)
        ev = [e for e in events(run) if e["event"] == "log"][0]
        assert {
            "level": "warning",
            "msg": "observation too long",
            "logger": "train",
            "length": 9000,
            "phase_id": p.id,
            "step": 12,
        } == {k: ev[k] for k in ("level", "msg", "logger", "length", "phase_id", "step")}

    def test_stdlib_logging_bridge(self, run: Path) -> None:
        """Records from stdlib logging land as log events with level, logger and extra fields."""
        logger = logging.getLogger("data")
        handler = eventlog.capture_logging()
        try:
            logger.info("loaded %d rows", 5, extra={"split": "val"})
        finally:
            logging.getLogger().removeHandler(handler)
        ev = [e for e in events(run) if e["event"] == "log"][0]
        assert ("info", "loaded 5 rows", "data", "val") == (ev["level"], ev["msg"], ev["logger"], ev["split"])

    def test_reserved_names_in_log_fields_are_renamed(self, run: Path) -> None:
        """A log field named like the envelope (run=...) is kept as run_ instead of failing."""
        eventlog.get_logger().info("hello", run="other")
        ev = [e for e in events(run) if e["event"] == "log"][0]
        assert ("r", "other") == (ev["run"], ev["run_"])
