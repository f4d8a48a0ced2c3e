"""Child processes (issue 13): spawned and forkserver children inherit the run, DataLoader workers reuse a file.

* A ``spawn`` or ``forkserver`` child that emits without ``init()`` writes its own file in the
  parent's run directory, with the parent's run, rank and settings (console off).
* A DataLoader worker writes one file per worker slot, reused across epochs; lock files are removed
  when a process finishes; a worker that PyTorch's own SIGTERM handler ends keeps what it flushed.

Everything runs in subprocesses; the CLI reads the resulting directories.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_integrations import need

from conftest import ROOT, read_events

CLI = "from eventlog_cli import main; main()"


def run_script(tmp_path: Path, code: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as a script file (spawn and forkserver children import ``__main__`` from it)."""
    script = tmp_path / "script.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTLOG_") and k not in ("RANK", "WORLD_SIZE")}
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp_path
    )
    assert 0 == proc.returncode, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True, env=env, timeout=120)


def assert_valid(run_dir: Path) -> None:
    v = cli("validate", str(run_dir))
    assert 0 == v.returncode and ", 0 problem(s)" in v.stdout, v.stdout + v.stderr


SPAWNED = r"""
import json, multiprocessing as mp, sys, eventlog

def child(k):
    eventlog.emit("log", level="warning", msg=f"child says {k}", k=k)
    eventlog.emit("step_metrics", step=100 + k, metrics={"child_metric": float(k)})
    st = eventlog.current_run()
    c = st.config
    return [st.path.name, st.run, st.rank, c.strict, c.fsync, c.flush_interval, c.queue_size, c.on_full,
            st.console is None]

if __name__ == "__main__":
    d, method, rank = sys.argv[1], sys.argv[2], int(sys.argv[3])
    eventlog.init(d, run="sp", rank=rank, strict=True, fsync="batch", flush_interval=0.05, queue_size=1234,
                  on_full="drop", console="compact")
    for i in range(1, 4):
        eventlog.emit("step_metrics", step=i, metrics={"loss": 1.0 / i})
    with mp.get_context(method).Pool(2) as pool:
        got = pool.map(child, range(4))
    eventlog.finish()
    print(json.dumps(got))
"""


class TestSpawnedChildren:
    @pytest.mark.timeout(300)
    @pytest.mark.parametrize("rank", [3, 0])
    @pytest.mark.parametrize("method", ["spawn", "forkserver"])
    def test_child_writes_its_own_file_with_the_parents_rank_and_settings(
        self, tmp_path: Path, method: str, rank: int
    ) -> None:
        run_dir = tmp_path / "r"
        proc = run_script(tmp_path, SPAWNED, str(run_dir), method, str(rank))
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        main_file = "events.jsonl" if rank == 0 else f"events.rank{rank}.jsonl"
        for name, run, child_rank, *settings in got:
            assert name.startswith(f"events.rank{rank}.pid"), name  # its own file, never rank 0's
            assert ("sp", rank) == (run, child_rank)
            assert [True, "batch", 0.05, 1234, "drop", True] == settings  # strict, fsync, ..., console off
        files = sorted(p.name for p in run_dir.glob("*.jsonl"))
        assert main_file in files and all(f == main_file or f.startswith(f"events.rank{rank}.pid") for f in files)
        events = [e for p in run_dir.glob("*.jsonl") for e in read_events(p)]
        assert {rank} == {e["rank"] for e in events} and {"sp"} == {e["run"] for e in events}
        assert [0, 1, 2, 3] == sorted(e["k"] for e in events if e["event"] == "log")
        assert "child says" not in proc.stdout  # the console is the parent's alone
        assert_valid(run_dir)
        summary = json.loads(cli("summary", "--json", str(run_dir)).stdout)["runs"]
        assert 1 == len(summary) and "sp" == summary[0]["run"]
        assert "completed" == summary[0]["status"]
        assert 1 == summary[0]["segments"]  # children are not resumes of the run
        table = cli("table", "--json", str(run_dir))
        assert 0 == table.returncode, table.stderr
        assert {1, 2, 3, 100, 101, 102, 103} == {row["step"] for row in json.loads(table.stdout)}


LOADER = r"""
import json, os, sys, time, torch, eventlog
from torch.utils.data import DataLoader, Dataset

class Items(Dataset):
    def __len__(self):
        return 16

    def __getitem__(self, i):
        eventlog.emit("log", level="info", msg="item", i=i)
        return torch.tensor([float(i)])

def train(epochs, context, persistent):
    loader = DataLoader(Items(), batch_size=4, num_workers=2, persistent_workers=persistent,
                        multiprocessing_context=context)
    step = 0
    for epoch in range(epochs):
        for batch in loader:
            step += 1
            eventlog.emit("step_metrics", step=step, epoch=epoch, metrics={"x": float(batch.sum())})
    return loader

if __name__ == "__main__":
    d, context, persistent, end = sys.argv[1], sys.argv[2], sys.argv[3] == "persistent", sys.argv[4]
    eventlog.init(d, run="dl", console="off", flush_interval=0.05)
    loader = train(6, context, persistent)
    if end == "finish":  # the loader goes away (its workers exit), then the run ends
        del loader
        eventlog.finish()
        print(json.dumps(sorted(os.listdir(d))))
    else:  # the loader outlives the script: at exit multiprocessing terminates the persistent workers
        time.sleep(1.0)
"""


def loader_run(tmp_path: Path, context: str, persistent: str, end: str = "finish") -> tuple[Path, Any]:
    need("torch")
    run_dir = tmp_path / "r"
    proc = run_script(tmp_path, LOADER, str(run_dir), context, persistent, end)
    return run_dir, proc


class TestDataLoaderWorkers:
    @pytest.mark.timeout(400)
    @pytest.mark.parametrize(
        ("context", "persistent"), [("fork", "fresh"), ("fork", "persistent"), ("spawn", "persistent")]
    )
    def test_one_file_per_worker_slot_and_every_event_on_disk(
        self, tmp_path: Path, context: str, persistent: str
    ) -> None:
        run_dir, proc = loader_run(tmp_path, context, persistent)
        listed = json.loads(proc.stdout.strip().splitlines()[-1])  # the directory right after finish()
        assert [] == [n for n in listed if n.endswith(".lock")]
        files = sorted(run_dir.glob("*.jsonl"))
        assert len(files) <= 3, [p.name for p in files]  # the main file and one per worker slot, not per epoch
        assert {"events.jsonl", "events.rank0.worker0.jsonl", "events.rank0.worker1.jsonl"} == {p.name for p in files}
        events = [e for p in files for e in read_events(p)]
        items = sorted(e["i"] for e in events if e.get("msg") == "item")
        assert sorted(list(range(16)) * 6) == items  # every item of every epoch, once
        assert 24 == sum(e["event"] == "step_metrics" for e in events)
        for p in files:
            seqs = [e["seq"] for e in read_events(p)]
            assert list(range(len(seqs))) == seqs, p.name
        assert [] == sorted(run_dir.glob("*.lock"))
        assert_valid(run_dir)
        summary = json.loads(cli("summary", "--json", str(run_dir)).stdout)["runs"][0]
        assert ("completed", 1, 24) == (summary["status"], summary["segments"], summary["steps_done"])

    @pytest.mark.timeout(300)
    def test_workers_ended_by_pytorchs_sigterm_handler_keep_what_they_flushed(self, tmp_path: Path) -> None:
        """Persistent workers still alive at exit are terminated (SIGTERM → PyTorch's handler → _exit(0)).

        What they emitted more than a flush interval before (here: everything) is on disk.
        """
        run_dir, _ = loader_run(tmp_path, "fork", "persistent", end="exit")
        files = sorted(run_dir.glob("*.jsonl"))
        assert {"events.jsonl", "events.rank0.worker0.jsonl", "events.rank0.worker1.jsonl"} == {p.name for p in files}
        events = [e for p in files for e in read_events(p)]
        assert sorted(list(range(16)) * 6) == sorted(e["i"] for e in events if e.get("msg") == "item")
        workers = [read_events(p) for p in files if "worker" in p.name]
        assert all("run_end" not in {e["event"] for e in w} for w in workers)  # ended by _exit, not by eventlog
        assert_valid(run_dir)


STALE_LOCK = r"""
import os, signal, sys, time, eventlog
d = sys.argv[1]
eventlog.init(d, run="s", console="off")
pid = os.fork()
if pid == 0:
    eventlog.emit("log", level="info", msg="child")
    eventlog.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # dies before its finish: its lock file stays behind
os.waitpid(pid, 0)
print(sorted(n for n in os.listdir(d) if n.endswith(".lock")), flush=True)
eventlog.finish()
print(sorted(n for n in os.listdir(d) if n.endswith(".lock")), flush=True)
"""


class TestLockFiles:
    @pytest.mark.timeout(60)
    def test_the_main_process_removes_locks_left_by_killed_children(self, tmp_path: Path) -> None:
        proc = run_script(tmp_path, STALE_LOCK, str(tmp_path / "r"))
        before, after = proc.stdout.strip().splitlines()
        assert "events.jsonl.lock" in before and ".pid" in before  # the parent's and the killed child's
        assert "[]" == after

    def test_a_lock_file_removed_under_a_new_writer_never_admits_two(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The holder finishes (removes its lock file) between a new writer's open() and flock(): the new
        writer's lock on the removed file does not count, it locks the file now at that name, and a third
        writer of the same name goes to its pid file."""
        import fcntl

        from eventlog._files import open_run_file

        a = open_run_file(tmp_path, 0, 1)
        real, raced = fcntl.flock, []

        def flock(fd: int, op: int) -> None:
            if not raced:
                raced.append(1)
                a.close()  # the lock file b has just opened is removed and released
            real(fd, op)

        monkeypatch.setattr(fcntl, "flock", flock)
        b = open_run_file(tmp_path, 0, 2)
        c = open_run_file(tmp_path, 0, 3)
        assert raced and ("events.jsonl", "events.rank0.pid3.jsonl") == (b.path.name, c.path.name)
        assert b.lock_fd is not None
        assert os.fstat(b.lock_fd).st_ino == os.stat(tmp_path / "events.jsonl.lock").st_ino
        c.close()
        b.close()
        assert [] == sorted(p.name for p in tmp_path.glob("*.lock"))

    @pytest.mark.timeout(60)
    def test_a_damaged_inherit_variable_is_one_line_on_stderr(self, tmp_path: Path) -> None:
        code = "import eventlog\neventlog.emit('log', level='info', msg='x')\n"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "EVENTLOG_DIR": str(tmp_path / "r"),
            "EVENTLOG_RUN": "r",
            "EVENTLOG_INHERIT": "{not json",
        }
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=50)
        assert 0 == proc.returncode and "Traceback" not in proc.stderr, proc.stderr
        assert "eventlog: EVENTLOG_INHERIT: not the JSON that eventlog.init() writes" in proc.stderr
