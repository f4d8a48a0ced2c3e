"""The writer: order, seq, flushing on every kind of exit, I/O errors, forks."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

import eventlog
from conftest import read_events, run_python
from eventlog._writer import Writer

CHILD = """
import sys, time, eventlog
eventlog.init(sys.argv[1], run="c", console="off", flush_interval=60)
for i in range(500):
    eventlog.emit("log", level="info", msg=f"m{i}")
with eventlog.phase("training"):
    MODE = sys.argv[2]
    if MODE == "raise":
        raise RuntimeError("boom")
    if MODE == "exit3":
        sys.exit(3)
    if MODE == "term":
        print("ready", flush=True)
        import os, signal
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
    if MODE == "int":
        raise KeyboardInterrupt
    if MODE == "sigint":
        import os, signal
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(10)
"""


class TestOrderAndSeq:
    def test_seq_counts_from_zero_in_file_order(self, tmp_path: Path) -> None:
        """Events from several threads land whole, with seq 0..N-1 in file order."""
        eventlog.init(tmp_path / "r", run="r", console="off", queue_size=64)

        def work(t: int) -> None:
            for i in range(500):
                eventlog.emit("log", level="info", msg="m", t=t, i=i)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        eventlog.finish()
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert list(range(len(events))) == [e["seq"] for e in events]
        assert {(t, i) for t in range(4) for i in range(500)} == {(e["t"], e["i"]) for e in events if "t" in e}
        assert "completed" == events[-1]["status"]

    def test_resumed_run_appends(self, tmp_path: Path) -> None:
        """init() on an existing run directory appends; nothing is truncated."""
        for _ in range(2):
            eventlog.init(tmp_path / "r", run="r", console="off")
            eventlog.emit("log", level="info", msg="hello")
            eventlog.finish()
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert ["run_start", "log", "run_end"] * 2 == [e["event"] for e in events]
        assert list(range(6)) == [e["seq"] for e in events]  # the resumed process continues seq


class TestExits:
    @pytest.mark.parametrize(
        ("mode", "code", "status"),
        [
            ("ok", 0, "completed"),
            ("raise", 1, "failed"),
            ("exit3", 3, "failed"),
            ("int", -signal.SIGINT, "interrupted"),
            ("sigint", -signal.SIGINT, "interrupted"),
            ("term", -signal.SIGTERM, "interrupted"),
        ],
    )
    def test_every_event_is_on_disk_and_exit_status_kept(
        self, tmp_path: Path, mode: str, code: int, status: str
    ) -> None:
        """With a 60 s flush interval, exit paths still flush everything and keep the exit status."""
        proc = run_python(CHILD, str(tmp_path / "r"), mode)
        assert code == proc.returncode, proc.stderr
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert list(range(len(events))) == [e["seq"] for e in events]
        assert 500 == sum(e["event"] == "log" for e in events)
        assert status == events[-1]["status"]
        phase_end = [e for e in events if e["event"] == "phase_end"]
        assert 1 == len(phase_end)
        expected_phase = {
            "ok": "ok",
            "raise": "failed",
            "exit3": "failed",
            "int": "interrupted",
            "term": "interrupted",
            "sigint": "interrupted",
        }
        assert expected_phase[mode] == phase_end[0]["status"]


class TestTrouble:
    def test_io_error_never_raises_and_is_counted(self, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
        """Writing to /dev/full drops events, reports once on stderr and never raises."""
        w = Writer("/dev/full", flush_interval=0.01)
        for i in range(100):
            w.put({"event": "log", "i": i, "seq": None})
        w.flush()
        for i in range(100):
            w.put({"event": "log", "i": i, "seq": None})
        w.close()
        assert 200 == w.dropped
        err = capfd.readouterr().err
        assert 1 == err.count("--- eventlog: problem ---")
        assert "No space left on device" in err

    def test_file_path_instead_of_directory_fails_at_init(self, tmp_path: Path) -> None:
        """A run directory that is a file fails at init() with a message naming it."""
        (tmp_path / "f").write_text("x")
        with pytest.raises(eventlog.ConfigError, match="cannot create run directory"):
            eventlog.init(tmp_path / "f" / "run", run="r")

    def test_forked_child_writes_its_own_file_without_the_parent_backlog(self, tmp_path: Path) -> None:
        """A fork while events are queued: the child writes only its own events, once."""
        eventlog.init(tmp_path / "r", run="r", console="off", flush_interval=60)
        for i in range(100):
            eventlog.emit("log", level="info", msg=f"parent{i}")
        pid = os.fork()
        if pid == 0:
            try:
                eventlog.emit("log", level="info", msg="child")
                eventlog.finish()
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert 0 == status
        eventlog.finish()
        parent = read_events(tmp_path / "r" / "events.jsonl")
        child_files = list((tmp_path / "r").glob("events.rank0.pid*.jsonl"))
        assert 1 == len(child_files)
        child = read_events(child_files[0])
        assert 100 == sum(e.get("msg", "").startswith("parent") for e in parent)
        assert ["run_start", "log", "run_end"] == [e["event"] for e in child]
        assert "child" == child[1]["msg"]
