"""Reliability: nothing lost, nothing torn, nothing stalled (subprocesses for anything that exits or dies)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from conftest import ROOT, read_events, run_python


def lines_ok(path: Path) -> tuple[list[dict[str, Any]], list[bytes]]:
    """(decoded events, lines that are not complete JSON objects)."""
    good, bad = [], []
    data = path.read_bytes()
    for line in data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"):
        try:
            ev = orjson.loads(line)
            (good if isinstance(ev, dict) else bad).append(ev if isinstance(ev, dict) else line)
        except orjson.JSONDecodeError:
            bad.append(line)
    return good, bad


KILL_CHILD = r"""
import mmap, struct, sys, time, eventlog
counter = mmap.mmap(-1, 8)
eventlog.init(sys.argv[1], run="k", console="off")
paced = sys.argv[2] == "paced"
with open(sys.argv[3], "wb") as f:
    f.write(b"\0" * 8)
fd = open(sys.argv[3], "r+b")
shared = mmap.mmap(fd.fileno(), 8)
print("ready", flush=True)
i = 0
while True:
    eventlog.emit("log", level="info", msg="tick", i=i)
    i += 1
    struct.pack_into("q", shared, 0, i)
    if paced:
        time.sleep(0.001)
"""


class TestSigkill:
    @pytest.mark.timeout(60)
    @pytest.mark.parametrize("mode", ["tight", "paced"])
    def test_kill_9_leaves_a_valid_contiguous_prefix(self, tmp_path: Path, mode: str) -> None:
        """After SIGKILL every line is complete, seq is 0..N-1, and nothing on disk was never emitted.

        How much is lost is a timing figure: ``make bench`` reports it (bench/sigkill.py).
        """
        counter = tmp_path / "count"
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_CHILD, str(tmp_path / "r"), mode, str(counter)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert "ready" == proc.stdout.readline().strip()  # type: ignore[union-attr]
        time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        emitted = int.from_bytes(counter.read_bytes(), "little")
        good, bad = lines_ok(tmp_path / "r" / "events.jsonl")
        assert [] == bad
        assert list(range(len(good))) == [e["seq"] for e in good]
        written = sum(e["event"] == "log" for e in good)
        assert 0 < written <= emitted
        assert list(range(written)) == [e["i"] for e in good if e["event"] == "log"]


MP_CHILD = r"""
import multiprocessing as mp, sys, eventlog

def work(k):
    for i in range(50):
        eventlog.emit("log", level="info", msg="child", k=k, i=i)
    return k

if __name__ == "__main__":
    eventlog.init(sys.argv[1], run="mp", console="off", flush_interval=60)
    for i in range(2000):
        eventlog.emit("log", level="info", msg="parent", i=i)
    ctx = mp.get_context(sys.argv[2])
    with ctx.Pool(3) as pool:
        assert sorted(pool.map(work, range(6))) == list(range(6))
    eventlog.finish()
"""


class TestChildren:
    @pytest.mark.timeout(90)
    @pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
    def test_multiprocessing_children_write_once(self, tmp_path: Path, method: str) -> None:
        """Pool workers' events are written exactly once, the parent's backlog never duplicated."""
        script = tmp_path / "mp_child.py"
        script.write_text(MP_CHILD)
        proc = subprocess.run(
            [sys.executable, str(script), str(tmp_path / "r"), method],
            capture_output=True,
            text=True,
            timeout=80,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert 0 == proc.returncode, proc.stderr
        events = [e for p in (tmp_path / "r").glob("*.jsonl") for e in read_events(p)]
        child = [(e["k"], e["i"]) for e in events if e.get("msg") == "child"]
        assert sorted(child) == sorted((k, i) for k in range(6) for i in range(50))
        assert 2000 == sum(e.get("msg") == "parent" for e in events)
        for p in (tmp_path / "r").glob("*.jsonl"):
            seqs = [e["seq"] for e in read_events(p)]
            assert list(range(len(seqs))) == seqs, p.name

    @pytest.mark.timeout(60)
    def test_twenty_forks_while_the_writer_is_busy(self, tmp_path: Path) -> None:
        """Forking 20 times during heavy writing neither hangs nor copies the parent's events."""
        code = r"""
import os, sys, threading, eventlog
eventlog.init(sys.argv[1], run="f", console="off", flush_interval=0.001)
stop = False
def spam():
    i = 0
    while not stop:
        eventlog.emit("log", level="info", msg="bg", i=i, pad="x" * 2000)
        i += 1
t = threading.Thread(target=spam)
t.start()
for n in range(20):
    pid = os.fork()
    if pid == 0:
        eventlog.emit("log", level="info", msg="child", n=n)
        eventlog.finish()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert status == 0, status
stop = True
t.join()
eventlog.finish()
print("done")
"""
        proc = run_python(code, str(tmp_path / "r"), timeout=50)
        assert "done" == proc.stdout.strip(), proc.stderr
        children = sorted((tmp_path / "r").glob("events.rank0.pid*.jsonl"))
        assert 20 == len(children)
        for p in children:
            assert ["run_start", "log", "run_end"] == [e["event"] for e in read_events(p)]
        _, bad = lines_ok(tmp_path / "r" / "events.jsonl")
        assert [] == bad


class TestBackpressure:
    @pytest.mark.timeout(60)
    def test_block_policy_loses_nothing_with_a_slow_writer(self, tmp_path: Path) -> None:
        """A writer slower than emit(): the default policy blocks, so all events arrive, no deadlock."""
        code = r"""
import os, sys, time, eventlog
eventlog.init(sys.argv[1], run="s", console="off", queue_size=100)
real, target = os.write, eventlog.current_run().writer.sink.fd
def slow(fd, data):
    if fd != target:
        return real(fd, data)
    time.sleep(0.002)
    return real(fd, data[:4096])  # short writes, slowly
os.write = slow
for i in range(5000):
    eventlog.emit("log", level="info", msg="m", i=i)
eventlog.finish()
"""
        proc = run_python(code, str(tmp_path / "r"), timeout=55)
        assert 0 == proc.returncode, proc.stderr
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert list(range(5000)) == [e["i"] for e in events if e["event"] == "log"]

    @pytest.mark.timeout(60)
    def test_drop_policy_counts_and_warns_once(self, tmp_path: Path) -> None:
        """on_full='drop': events are dropped, counted in run_end, seq shows the gap, one warning."""
        code = r"""
import os, sys, time, eventlog
eventlog.init(sys.argv[1], run="d", console="off", queue_size=100, on_full="drop")
real, target = os.write, eventlog.current_run().writer.sink.fd
def slow(fd, data):
    if fd == target:
        time.sleep(0.05)
    return real(fd, data)
os.write = slow
for i in range(20000):
    eventlog.emit("log", level="info", msg="m", i=i)
eventlog.finish()
"""
        proc = run_python(code, str(tmp_path / "r"), timeout=55)
        assert 0 == proc.returncode, proc.stderr
        events = read_events(tmp_path / "r" / "events.jsonl")
        end = events[-1]
        kept = sum(e["event"] == "log" for e in events)
        assert 0 < end["events_dropped"] == 20000 - kept
        assert 1 == proc.stderr.count("--- eventlog: problem ---")
        assert end["seq"] + 1 > len(events)  # the gap is visible


FULL_DISK = r"""
import os, resource, signal, sys, eventlog
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
eventlog.init(sys.argv[1], run="q", console="off")
path = eventlog.current_run().path
eventlog.flush()
limit = os.path.getsize(path) + 5000
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
for i in range(300):
    eventlog.emit("log", level="info", msg="before", i=i, pad="y" * 50)
eventlog.flush()
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
for i in range(100):
    eventlog.emit("log", level="info", msg="after", i=i)
eventlog.finish()
print("dropped", eventlog.current_run().writer.dropped)
"""


class TestDisk:
    @pytest.mark.timeout(60)
    def test_short_write_then_recovery_never_fuses_lines(self, tmp_path: Path) -> None:
        """A file-size limit cuts a write short; after recovery every new event is on its own line."""
        proc = run_python(FULL_DISK, str(tmp_path / "r"))
        assert 0 == proc.returncode, proc.stderr
        dropped = int(proc.stdout.split()[-1])
        good, bad = lines_ok(tmp_path / "r" / "events.jsonl")
        assert len(bad) <= 1  # at most the one fragment cut by the limit, terminated by a newline
        assert 0 < dropped
        assert list(range(100)) == [e["i"] for e in good if e.get("msg") == "after"]
        assert dropped == good[-1]["events_dropped"]
        assert 1 == proc.stderr.count("--- eventlog: problem ---")

    @pytest.mark.timeout(30)
    def test_enospc_through_emit_never_raises(self, tmp_path: Path) -> None:
        """With the events file on /dev/full, emit() and finish() return normally and count the loss."""
        code = r"""
import sys, eventlog
from eventlog import _run
from eventlog._writer import Writer
eventlog.init(sys.argv[1], run="n", console="off")
st = _run.current_run()
st.writer.abandon()
st.writer = Writer("/dev/full", flush_interval=0.01)
for i in range(1000):
    eventlog.emit("log", level="info", msg="m", i=i)
eventlog.finish()
print(st.writer.dropped)
"""
        proc = run_python(code, str(tmp_path / "r"))
        assert 0 == proc.returncode, proc.stderr
        assert 1001 == int(proc.stdout.strip())  # 1000 logs + run_end


WRITER_PROC = r"""
import random, sys, eventlog
eventlog.init(sys.argv[1], run="w", console="off")
rng = random.Random(int(sys.argv[2]))
for i in range(20000):
    size = 65536 if i % 100 == 0 else rng.randint(100, 1000)
    eventlog.emit("log", level="info", msg="w", p=int(sys.argv[2]), i=i, pad="z" * size)
if sys.argv[2] == "0":
    eventlog.emit("log", level="info", msg="big", pad="B" * 5_000_000)
eventlog.finish()
"""


class TestConcurrentFiles:
    @pytest.mark.timeout(120)
    def test_four_processes_appending_tear_nothing(self, tmp_path: Path) -> None:
        """Four processes × 20,000 events (100 B to 64 KiB) into one run: no torn or lost line; a 5 MB event whole."""
        env = {**os.environ, "PYTHONPATH": str(ROOT), "RANK": "0"}
        procs = [
            subprocess.Popen([sys.executable, "-c", WRITER_PROC, str(tmp_path / "r"), str(p)], env=env)
            for p in range(4)
        ]
        assert [0, 0, 0, 0] == [p.wait(110) for p in procs]
        seen: set[tuple[int, int]] = set()
        for path in (tmp_path / "r").glob("*.jsonl"):
            good, bad = lines_ok(path)
            assert [] == bad, path.name
            seen |= {(e["p"], e["i"]) for e in good if e.get("msg") == "w"}
            assert all(len(e["pad"]) == 5_000_000 for e in good if e.get("msg") == "big")
        assert {(p, i) for p in range(4) for i in range(20000)} == seen


class TestStress:
    @pytest.mark.timeout(180)
    def test_eight_threads_with_logging_and_phases(self, tmp_path: Path) -> None:
        """8 threads × 50,000 emits plus stdlib logging and phases: validate is clean, each (thread, i) once."""
        code = r"""
import logging, sys, threading, eventlog
eventlog.init(sys.argv[1], run="s", console="off")
eventlog.capture_logging()
log = logging.getLogger("stress")
def work(t):
    with eventlog.phase("worker", thread=t):
        for i in range(50000):
            if i % 1000 == 0:
                log.info("progress %d", i, extra={"t": t})
            eventlog.emit("step_metrics", step=i, metrics={"t": t, "i": i})
threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
eventlog.finish()
"""
        proc = run_python(code, str(tmp_path / "r"), timeout=170)
        assert 0 == proc.returncode, proc.stderr
        from typer.testing import CliRunner

        from eventlog_cli._app import app

        result = CliRunner().invoke(app, ["validate", "--json", str(tmp_path / "r")])
        report = json.loads(result.stdout)
        assert ([], 0) == (report["problems"], result.exit_code)
        pairs = [
            (e["metrics"]["t"], e["metrics"]["i"])
            for e in read_events(tmp_path / "r" / "events.jsonl")
            if e["event"] == "step_metrics"
        ]
        assert len(pairs) == len(set(pairs)) == 400_000
