"""Signals defer to the program's own handler (issue 13): record and flush, then hand the signal on.

``signals="chain"`` (``EVENTLOG_SIGNALS=chain``), and the default when a handler is already installed
at ``init()``: on SIGTERM/SIGINT eventlog writes a ``log`` event naming the signal, flushes, then calls
the previous handler, and never ends the process itself while one exists. A framework that installs
its handler after ``init()`` and calls the one it found (Lightning's ``fit()``) is served the same
way. Everything that signals runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from test_integrations import check_cli, need, train
from test_reliability2 import _drain

import eventlog
from conftest import ROOT, read_events, run_python

CLI = "from eventlog_cli import main; main()"

USER_HANDLER = r"""
import json, os, signal, sys, eventlog
d, how = sys.argv[1], sys.argv[2]
calls = []
def mine(signum, frame):  # the program's own handler: how much is on disk when it runs?
    with open(os.path.join(d, "events.jsonl"), "rb") as f:
        calls.append(f.read().count(b"\n"))
signal.signal(signal.SIGTERM, mine)
settings = {"signals": "chain"} if how == "arg" else {}
eventlog.init(d, run="u", console="off", flush_interval=60, **settings)
for i in range(500):
    eventlog.emit("log", level="info", msg="m", i=i)
os.kill(os.getpid(), signal.SIGTERM)
for i in range(5):
    eventlog.emit("log", level="info", msg="after", i=i)
print(json.dumps(calls), flush=True)
"""


def signal_events(events: list[dict[str, Any]]) -> list[str]:
    return [e["signal"] for e in events if e["event"] == "log" and "signal" in e]


class TestChainToAPreviousHandler:
    @pytest.mark.timeout(60)
    @pytest.mark.parametrize("how", ["default", "arg", "env"])
    def test_the_users_handler_runs_once_after_our_flush(self, tmp_path: Path, how: str) -> None:
        """A handler installed before init() is called once, with every event (and the signal's) on disk."""
        env = {"EVENTLOG_SIGNALS": "chain"} if how == "env" else {}
        proc = run_python(USER_HANDLER, str(tmp_path / "r"), how, timeout=50, env=env)
        assert 0 == proc.returncode, proc.stderr
        assert [502] == json.loads(proc.stdout), proc.stdout  # run_start, 500 logs and the signal's event: flushed
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert ["SIGTERM"] == signal_events(events)
        assert list(range(5)) == [e["i"] for e in events if e.get("msg") == "after"]  # the process went on
        end = events[-1]
        assert ("run_end", "interrupted", "SIGTERM") == (end["event"], end["status"], end.get("error"))

    @pytest.mark.timeout(60)
    def test_summary_and_replay_show_the_signal(self, tmp_path: Path) -> None:
        proc = run_python(USER_HANDLER, str(tmp_path / "r"), "default", timeout=50)
        assert 0 == proc.returncode, proc.stderr
        env = {**os.environ, "COLUMNS": "120"}
        for args in (["summary"], ["replay"], ["validate"]):
            out = subprocess.run(
                [sys.executable, "-c", CLI, *args, str(tmp_path / "r")], capture_output=True, text=True, env=env
            )
            assert 0 == out.returncode, out.stderr
            if args == ["summary"]:
                assert "signal SIGTERM received" in out.stdout, out.stdout
            if args == ["replay"]:
                assert "SIGTERM received" in out.stdout, out.stdout

    @pytest.mark.timeout(60)
    @pytest.mark.parametrize("how", ["arg", "env"])
    def test_chain_without_a_previous_handler_is_todays_default(self, tmp_path: Path, how: str) -> None:
        """Nothing to hand SIGTERM to: finish as interrupted and die of SIGTERM (exit status -15)."""
        code = r"""
import os, signal, sys, time, eventlog
chain = {"signals": "chain"} if sys.argv[2] == "arg" else {}
eventlog.init(sys.argv[1], run="c", console="off", flush_interval=60, **chain)
for i in range(300):
    eventlog.emit("log", level="info", msg="m", i=i)
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(20)
print("survived")
"""
        env = {"EVENTLOG_SIGNALS": "chain"} if how == "env" else {}
        proc = run_python(code, str(tmp_path / "r"), how, timeout=50, env=env)
        assert -signal.SIGTERM == proc.returncode, proc.stderr
        assert "survived" not in proc.stdout
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert list(range(300)) == [e["i"] for e in events if e["event"] == "log" and "i" in e]
        assert ["interrupted"] == [e["status"] for e in events if e["event"] == "run_end"]

    @pytest.mark.timeout(60)
    def test_chained_sigint_still_raises_keyboard_interrupt(self, tmp_path: Path) -> None:
        """SIGINT's previous handler is Python's: KeyboardInterrupt is raised after the signal is recorded."""
        code = r"""
import os, signal, sys, time, eventlog
signal.signal(signal.SIGINT, signal.default_int_handler)
eventlog.init(sys.argv[1], run="i", console="off", flush_interval=60, signals="chain")
for i in range(100):
    eventlog.emit("log", level="info", msg="m", i=i)
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(20)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    raise
"""
        proc = run_python(code, str(tmp_path / "r"), timeout=50)
        assert -signal.SIGINT == proc.returncode, proc.stderr
        assert "KeyboardInterrupt" in proc.stdout
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert ["SIGINT"] == signal_events(events)
        assert 100 == sum(e.get("msg") == "m" for e in events)
        assert ["interrupted"] == [e["status"] for e in events if e["event"] == "run_end"]

    @pytest.mark.timeout(60)
    def test_a_handler_that_wraps_ours_is_called_once(self, tmp_path: Path) -> None:
        """A framework wraps eventlog's handler (Lightning's fit()), then a second init() takes the wrapper as
        the previous handler: SIGTERM runs the wrapper once (no recursion) and the process goes on."""
        code = r"""
import os, signal, sys, eventlog
calls = []
eventlog.init(sys.argv[1] + "/a", run="a", console="off")
found = signal.getsignal(signal.SIGTERM)
def framework(signum, frame):  # its own work, then the handler it found: eventlog's
    calls.append("framework")
    found(signum, frame)
signal.signal(signal.SIGTERM, framework)
eventlog.init(sys.argv[1] + "/b", run="b", console="off")
os.kill(os.getpid(), signal.SIGTERM)
print(calls, flush=True)
"""
        proc = run_python(code, str(tmp_path), timeout=50)
        assert 0 == proc.returncode, proc.stderr
        assert "['framework']" == proc.stdout.strip()
        events = read_events(tmp_path / "b" / "events.jsonl")
        assert ["SIGTERM"] == signal_events(events)
        assert ("run_end", "interrupted") == (events[-1]["event"], events[-1]["status"])

    def test_signals_setting_is_parsed(self) -> None:
        assert "chain" == eventlog.Config(signals="chain").signals
        for value, expected in (("chain", "chain"), ("auto", "auto"), (True, "auto"), ("1", "auto"), (False, "off")):
            assert expected == eventlog._config.load_config({"signals": value}).signals  # type: ignore[attr-defined]
        with pytest.raises(eventlog.ConfigError, match=r"init\(signals\)='later': expected one of auto, chain, off"):
            eventlog._config.load_config({"signals": "later"})  # type: ignore[attr-defined]


CHAIN_IN_CONSOLE_WRITE = r"""
import signal, sys, eventlog
stop = []
signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(1))  # the program's graceful stop
eventlog.init(sys.argv[1], run="sig", console="banner", flush_interval=0.05)
sys.stderr.write("ready\n")
sys.stderr.flush()
i = 0
with eventlog.phase("validation", total_batches=10**9, total_questions=10**9, batch_size=1) as v:
    while not stop:
        i += 1
        v.val_batch(i, questions=i, avg_reward=0.5)
"""


def _chain_trial(base: Path, k: int) -> tuple[Any, ...]:
    d = base / f"t{k}"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHAIN_IN_CONSOLE_WRITE, str(d)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        assert b"ready\n" == proc.stderr.readline()
        threading.Thread(target=_drain, args=(proc.stderr,), daemon=True).start()
        time.sleep(0.15 + 0.01 * (k % 7))  # setup delay (not an assertion): stdout's pipe is full by now
        proc.send_signal(signal.SIGTERM)
        threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            return ("hung",)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    events = read_events(d / "events.jsonl")
    return (rc, signal_events(events), [e.get("status") for e in events if e["event"] == "run_end"])


class TestChainNeverWaitsOnALock:
    @pytest.mark.timeout(300)
    def test_chained_sigterm_inside_the_console_write_never_hangs(self, tmp_path: Path) -> None:
        """Issue 9's rule holds on the chained path: SIGTERM inside a stalled console write (20 trials)."""
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda k: _chain_trial(tmp_path, k), range(20)))
        assert [(0, ["SIGTERM"], ["interrupted"])] * 20 == results


class TestLightningSigterm:
    @pytest.mark.timeout(600)
    @pytest.mark.parametrize("mode", ["logger", "init_after"])
    def test_lightning_stops_gracefully_and_the_run_records_it(self, tmp_path: Path, mode: str) -> None:
        """SIGTERM mid-fit: Lightning's handler ran (flag set, on_exception.ckpt written) and the run is complete.

        ``logger``: the run starts before fit() installs Lightning's handler, which wraps eventlog's.
        ``init_after``: the run starts after it, so eventlog chains to Lightning's.
        """
        need("torch", "lightning")
        out = train("lightning_sigterm.py", str(tmp_path / "l"), mode, cwd=tmp_path)
        assert "lightning received_sigterm=True" in out.stdout, out.stdout + out.stderr
        assert (tmp_path / "l" / "on_exception.ckpt").is_file()
        run_dir = tmp_path / "l" / ("tiny/v0" if mode == "logger" else "late")
        events = read_events(run_dir / "events.jsonl")
        assert ["SIGTERM"] == signal_events(events)
        steps = [e["step"] for e in events if e["event"] == "step_metrics"]
        assert steps and max(steps) >= 3
        end = events[-1]
        assert ("run_end", "interrupted") == (end["event"], end["status"])
        assert "SIGTERM" in end.get("error", "")
        assert "interrupted" == check_cli(run_dir, "loss" if mode == "init_after" else "train_loss")["status"]
