"""Issue 9, library side: what the acceptance tests (test_reliability2.py) leave open.

Each test pins one mechanism behind an item of RELIABILITY.md: the console never waits for its
lock, a signal during finish() is re-raised after it, SIGTERM taken by another thread still runs
the handler, eventlog's threads block signals, late puts are delivered, int64 everywhere, resume
edges, a deleted file is created again, and a broken pyproject.toml that is ours still fails.
"""

from __future__ import annotations

import io
import signal
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

import eventlog
from conftest import read_events, run_python
from eventlog._console import Console
from eventlog._pump import Pump
from eventlog._render import Renderer

# --- the console never waits for its lock -----------------------------------------------------------


class _StalledStream(io.StringIO):
    """A stdout whose first write blocks until released (a full pipe)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self._first = True

    def write(self, s: str) -> int:
        if self._first:
            self._first = False
            self.entered.set()
            assert self.release.wait(30)
        return super().write(s)


class TestConsoleNeverWaits:
    def test_show_while_another_write_is_stalled_returns_and_prints_after_it(self) -> None:
        stream = _StalledStream()
        console = Console(Renderer("compact"), stream, colour=False)
        first = {"v": 1, "ts": 1.0, "event": "log", "run": "r", "rank": 0, "seq": None, "level": "info", "msg": "one"}
        second = {**first, "msg": "two"}
        holder = threading.Thread(target=console.show, args=(first,))
        holder.start()
        assert stream.entered.wait(10)
        other = threading.Thread(target=console.show, args=(second,))
        other.start()
        other.join(10)
        assert not other.is_alive(), "show() waited for the lock held by a stalled write"
        assert "two" not in stream.getvalue()
        stream.release.set()
        holder.join(10)
        text = stream.getvalue()
        assert 0 <= text.index("one") < text.index("two"), text

    def test_a_deferred_event_is_a_copy(self) -> None:
        """The writer thread stamps seq on the original dict; a deferred line shows what was emitted."""
        stream = _StalledStream()
        console = Console(Renderer("compact"), stream, colour=False)
        ev = {"v": 1, "ts": 1.0, "event": "log", "run": "r", "rank": 0, "seq": None, "level": "info", "msg": "a"}
        holder = threading.Thread(target=console.show, args=(dict(ev),))
        holder.start()
        assert stream.entered.wait(10)
        late = {**ev, "msg": "b"}
        console.show(late)
        late["msg"] = "changed"
        stream.release.set()
        holder.join(10)
        assert "changed" not in stream.getvalue()
        assert "b" in stream.getvalue().splitlines()[-1]


# --- signals -------------------------------------------------------------------------------------------

SIGTERM_DURING_FINISH = r"""
import os, signal, sys, eventlog
eventlog.init(sys.argv[1], run="f", console="off", flush_interval=60)
for i in range(300):
    eventlog.emit("log", level="info", msg="m", i=i)
eventlog.current_run().on_finish(lambda: os.kill(os.getpid(), signal.SIGTERM))  # lands inside finish()
eventlog.finish()
print("survived", flush=True)
"""

SIGTERM_TAKEN_BY_ANOTHER_THREAD = r"""
import multiprocessing, signal, sys, threading, eventlog
eventlog.init(sys.argv[1], run="w", console="off", flush_interval=60)
for i in range(100):
    eventlog.emit("log", level="info", msg="m", i=i)
lock = multiprocessing.Lock()
lock.acquire()
user = threading.Thread(target=threading.Event().wait, daemon=True)  # a thread that does not block signals
user.start()
def send():
    import time
    time.sleep(0.3)
    signal.pthread_kill(user.ident, signal.SIGTERM)  # the kernel may pick any such thread
threading.Thread(target=send, daemon=True).start()
lock.acquire()  # the main thread sleeps in sem_wait: the C handler ran elsewhere and nothing wakes it
"""


class TestSignals:
    @pytest.mark.timeout(60)
    def test_sigterm_inside_finish_lets_it_complete_then_dies_of_it(self, tmp_path: Path) -> None:
        proc = run_python(SIGTERM_DURING_FINISH, str(tmp_path / "r"), timeout=50)
        assert -signal.SIGTERM == proc.returncode, proc.stderr
        assert "survived" not in proc.stdout
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert list(range(300)) == [e["i"] for e in events if e["event"] == "log"]
        assert 1 == sum(e["event"] == "run_end" for e in events)
        assert "run_end" == events[-1]["event"]

    @pytest.mark.timeout(60)
    def test_sigterm_taken_by_another_thread_still_runs_the_handler(self, tmp_path: Path) -> None:
        """The watchdog sees SIGTERM on the wakeup fd and re-sends it to the blocked main thread."""
        proc = run_python(SIGTERM_TAKEN_BY_ANOTHER_THREAD, str(tmp_path / "r"), timeout=50)
        assert -signal.SIGTERM == proc.returncode, proc.stderr
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert 100 == sum(e["event"] == "log" for e in events)
        assert ["interrupted"] == [e["status"] for e in events if e["event"] == "run_end"]

    def test_the_writer_thread_blocks_asynchronous_signals(self) -> None:
        masks: list[set[int]] = []

        def deliver(batch: list[Any], skipped: int) -> None:
            masks.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, [])))

        pump = Pump(deliver, interval=0.01)
        pump.put(1)
        pump.flush(10, "test")
        pump.close()
        assert masks
        assert {signal.SIGTERM, signal.SIGINT, signal.SIGUSR1} <= masks[0]
        assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # the caller's mask is restored


# --- the pump after close ------------------------------------------------------------------------------


class TestLatePuts:
    def test_a_put_after_the_thread_stopped_is_delivered(self) -> None:
        got: list[Any] = []
        pump = Pump(lambda batch, skipped: got.extend(batch), interval=0.01)
        pump.put("before")
        pump.close()
        assert not pump.thread.is_alive()
        pump.put("late")  # a thread that passed emit()'s finished check just before finish()
        assert ["before", "late"] == got
        assert 0 == pump.dropped


# --- ints are int64 -------------------------------------------------------------------------------------


class TestInt64:
    @pytest.mark.parametrize("step", [2**63, -(2**63) - 1, 2**64 - 1])
    def test_strict_emit_refuses_a_step_outside_int64(self, tmp_path: Path, step: int) -> None:
        eventlog.init(tmp_path / "r", run="a", console="off")
        with pytest.raises(eventlog.ValidationError, match=r"int64"):
            eventlog.emit("step_metrics", step=step, metrics={"loss": 1.0})
        eventlog.finish()

    def test_lenient_emit_warns_about_a_free_int_outside_int64(self, tmp_path: Path) -> None:
        eventlog.init(tmp_path / "r", run="a", console="off", strict=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            eventlog.emit("log", level="info", msg="m", big=2**63)
        eventlog.finish()
        assert any("int64" in str(w.message) for w in caught)

    def test_the_int64_bounds_read_back(self, tmp_path: Path) -> None:
        eventlog.init(tmp_path / "r", run="a", console="off")
        eventlog.emit("step_metrics", step=2**63 - 1, metrics={"loss": 1.0})
        eventlog.emit("log", level="info", msg="m", low=-(2**63), high=2**63 - 1)
        eventlog.finish()
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert [2**63 - 1] == [e["step"] for e in events if e["event"] == "step_metrics"]
        assert [(-(2**63), 2**63 - 1)] == [(e["low"], e["high"]) for e in events if e["event"] == "log"]


# --- values and event types ------------------------------------------------------------------------------


class TestValuesAndTypes:
    def test_a_str_subclass_in_a_typed_field_is_stored_by_value(self, tmp_path: Path) -> None:
        class Tag(str):
            def __str__(self) -> str:
                return "other"

        eventlog.init(tmp_path / "r", run="a", console="off")
        eventlog.emit("log", level="info", msg=Tag("value"))
        eventlog.finish()
        assert ["value"] == [e["msg"] for e in read_events(tmp_path / "r" / "events.jsonl") if e["event"] == "log"]

    def test_lenient_emit_of_an_empty_event_type_warns(self, tmp_path: Path) -> None:
        eventlog.init(tmp_path / "r", run="a", console="off", strict=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            eventlog.emit("")
        eventlog.finish()
        assert 1 == len(caught)
        assert "event type must be a non-empty str" in str(caught[0].message)


# --- resume ---------------------------------------------------------------------------------------------------


def _line(event: str, seq: int, **extra: Any) -> str:
    import json

    ev = {"v": 1, "ts": 1.0, "event": event, "run": "a", "rank": 0, "seq": seq, **extra}
    return json.dumps(ev, separators=(",", ":"))


class TestResumeEdges:
    def test_a_torn_line_is_ended_with_a_note(self, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
        d = tmp_path / "r"
        d.mkdir()
        path = d / "events.jsonl"
        path.write_text(_line("run_start", 0) + "\n" + _line("log", 1, msg="x")[:20], encoding="utf-8")
        eventlog.init(d, run="b", console="off")
        eventlog.finish()
        lines = path.read_bytes().split(b"\n")
        assert b'"event":"run_start","run":"b"' in lines[2]
        assert "the last line was incomplete (20 bytes" in capfd.readouterr().err

    def test_crlf_lines_continue_seq(self, tmp_path: Path) -> None:
        d = tmp_path / "r"
        d.mkdir()
        path = d / "events.jsonl"
        path.write_bytes(f"{_line('run_start', 0)}\r\n{_line('log', 7, msg='x')}\r\n".encode())
        eventlog.init(d, run="b", console="off")
        eventlog.finish()
        assert [8, 9] == [e["seq"] for e in read_events(path) if e["run"] == "b"]


# --- files deleted, config files broken -------------------------------------------------------------------------


class TestFilesAndConfig:
    def test_a_deleted_events_file_is_created_again_and_reported(
        self, tmp_path: Path, capfd: pytest.CaptureFixture[str]
    ) -> None:
        d = tmp_path / "r"
        eventlog.init(d, run="a", console="off")
        eventlog.emit("log", level="info", msg="m", i=0)
        eventlog.flush()
        (d / "events.jsonl").unlink()
        eventlog.emit("log", level="info", msg="m", i=1)
        eventlog.finish()
        events = read_events(d / "events.jsonl")
        assert ["log", "run_end"] == [e["event"] for e in events]
        assert "was deleted while the run was writing it" in capfd.readouterr().err

    def test_a_broken_pyproject_with_our_table_is_still_an_error(self, tmp_path: Path) -> None:
        (tmp_path / "pyproject.toml").write_text("[tool.eventlog]\nconsole = \n", encoding="utf-8")
        with pytest.raises(eventlog.ConfigError, match=r"pyproject\.toml"):
            eventlog.init(tmp_path / "r", run="a", console="off")

    def test_a_nul_in_dir_is_a_config_error(self, tmp_path: Path) -> None:
        with pytest.raises(eventlog.ConfigError, match="NUL"):
            eventlog.init(str(tmp_path / "a\x00b"), run="a", console="off")
