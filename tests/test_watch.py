"""eventlog watch: the live view, driven in tmux against a run being written, and its state."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from conftest import ROOT, FakeClock, build_fixture_run
from eventlog_cli.commands._watchview import render
from eventlog_cli.query.watch import Tail, WatchState

WRITER = """
import sys, time, eventlog
eventlog.init(sys.argv[1], run="live", console="off", config={"total_steps": 100})
with eventlog.phase("training", total_steps=100) as tr:
    for step in range(1, 6):
        with tr.step_phase(step):
            loss = float("nan") if step == 3 else 1.0 / step
            eventlog.emit("step_metrics", step=step, total_steps=100, metrics={"loss": loss, "kl": 0.01 * step})
    eventlog.flush()
    while not (sys.argv[2] and __import__("os").path.exists(sys.argv[2])):
        time.sleep(0.1)  # hold the run open (stalled) until the test says go on
eventlog.finish()
"""


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'cli'}", "EVENTLOG_STRICT": "1"}


class Tmux:
    """A private tmux server (its own socket) with one pane."""

    def __init__(self, name: str) -> None:
        self.sock = f"eventlog-test-{os.getpid()}-{name}"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, text=True, timeout=10)
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "w")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (make test installs it with apt)")
class TestWatchInTmux:
    def test_live_run(self, tmp_path: Path) -> None:
        """Waits for the run, shows phase, progress, a NaN and a stall warning, the final status; q quits."""
        run, go = tmp_path / "live", tmp_path / "go"
        cmd = f"{sys.executable} -c 'from eventlog_cli import main; main()' watch {run} --stall 2 --refresh 0.1"
        cmd += "; echo watch-exit=$?; sleep 60"
        tmux = Tmux("live")
        tmux("-f", "/dev/null", "new-session", "-d", "-s", "w", "-x", "110", "-y", "40", "-e",
             f"PYTHONPATH={env()['PYTHONPATH']}", cmd)  # fmt: skip
        try:
            tmux.wait_for("waiting for")
            writer = subprocess.Popen([sys.executable, "-c", WRITER, str(run), str(go)], env=env())
            screen = tmux.wait_for("stalled: no event for")
            Path(os.environ.get("EVENTLOG_ARTIFACTS", ROOT / "test-artifacts")).mkdir(exist_ok=True)
            (Path(os.environ.get("EVENTLOG_ARTIFACTS", ROOT / "test-artifacts")) / "watch.txt").write_text(screen)
            assert "phase: training" in screen
            assert "training step 5/100" in screen
            assert "ETA" in screen
            assert "⚠ step 3: loss is nan" in screen
            go.touch()
            assert 0 == writer.wait(timeout=30)
            screen = tmux.wait_for("run completed")
            assert "stalled" not in screen
            assert "⚠ step 3: loss is nan" in screen
            tmux("send-keys", "-t", "w", "q")
            tmux.wait_for("watch-exit=0")
        finally:
            tmux("kill-server")


class TestWatchState:
    def test_frame_of_a_finished_run(self, tmp_path: Path, clock: FakeClock, golden) -> None:
        """The fixture run fed whole: last steps, sparklines, warnings, final status (pinned)."""
        path = build_fixture_run(Path("fx"))
        state = WatchState(rows=3)
        tail = Tail(path)
        lines, more = tail.read()
        assert not more
        for line in lines:
            state.feed_line(line, str(path), 0.0)
        console = Console(width=100, record=True, color_system=None, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(render(state, "fx", now=0.0, width=100))
        golden("cli_watch_final", console.export_text())

    def test_reads_only_appended_bytes_and_waits_for_whole_lines(self, tmp_path: Path) -> None:
        """A torn line is held back until its end arrives; nothing is read twice."""
        p = tmp_path / "e.jsonl"
        p.write_bytes(b'{"a":1}\n{"b":')
        tail = Tail(p)
        assert ([b'{"a":1}'], False) == tail.read()
        with p.open("ab") as f:
            f.write(b"2}\n")
        assert ([b'{"b":2}'], False) == tail.read()
        assert ([], False) == tail.read()

    def test_stall_and_seq_gap(self) -> None:
        """No event for longer than the threshold is a stall; a seq jump counts the lost events."""
        s = WatchState(stall_after=5)
        s.feed_line(b'{"v":1,"ts":1.0,"event":"log","run":"r","rank":0,"seq":0,"level":"info","msg":"hi"}', "f", 100.0)
        s.tick(104.0)
        assert s.stalled is None
        s.tick(106.0)
        assert "stalled: no event for 6s (threshold 5s)" == s.stalled
        s.feed_line(b'{"v":1,"ts":2.0,"event":"log","run":"r","rank":0,"seq":4,"level":"info","msg":"x"}', "f", 107.0)
        assert s.stalled is None
        assert ["3 event(s) lost before seq 4 (f)"] == list(s.warnings)

    def test_windows_stay_bounded(self) -> None:
        """10,000 steps leave the last N rows and 40 values per metric: memory does not grow with the run."""
        s = WatchState(rows=5)
        for step in range(1, 10_001):
            s.feed({"event": "step_metrics", "rank": 0, "seq": step, "step": step, "metrics": {"loss": 1.0 / step}})
        assert [9996, 9997, 9998, 9999, 10000] == [r["step"] for r in s.steps]
        assert 40 == len(s.series["loss"])
        assert ["loss"] == s.metric_keys

    def test_control_characters_never_reach_the_terminal(self) -> None:
        """A log message with an escape sequence is shown with the escape visible."""
        s = WatchState()
        s.feed({"event": "log", "rank": 0, "level": "warning", "msg": "\x1b[2Jboom"})
        assert ["warning: \\x1b[2Jboom"] == list(s.warnings)
