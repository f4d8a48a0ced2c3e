"""Acceptance tests for issue #9 (reliability round 2): each test pins one item of the issue.

Only public interfaces: ``import eventlog``, the CLI as a real process, files on disk and
``eventlog.testing.read_events``. Anything that exits, hangs or is signalled runs in a subprocess
with a timeout; the signal tests run 20 trials each, in parallel subprocesses.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import eventlog
from eventlog.testing import read_events

CLI = "from eventlog_cli import main; main()"
TS = 1_700_000_000.0


def cli(*args: str, timeout: float = 60, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``eventlog`` CLI as a real process with a fixed terminal width (output decoded as is: CR kept)."""
    env = {**os.environ, "COLUMNS": "100"}
    proc = subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, timeout=timeout, cwd=cwd, env=env)
    out, err = (b.decode("utf-8", "backslashreplace") for b in (proc.stdout, proc.stderr))
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def py(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (for exits, signals, stuck threads)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
    )


def line(event: str, seq: int, *, run: str = "a", **payload: Any) -> str:
    """One event line as eventlog writes it (compact separators, envelope first)."""
    ev = {"v": 1, "ts": TS + seq, "event": event, "run": run, "rank": 0, "seq": seq, **payload}
    return json.dumps(ev, separators=(",", ":"))


def write_run(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")
    return path


def metrics_run(path: Path, metrics: list[dict[str, Any]], *, run: str = "a") -> Path:
    """run_start, one step_metrics per entry (steps 1..n), run_end."""
    lines = [line("run_start", 0, run=run)]
    lines += [line("step_metrics", i, run=run, step=i, metrics=m) for i, m in enumerate(metrics, 1)]
    lines.append(line("run_end", len(lines), run=run, status="completed", events_dropped=0))
    return write_run(path, lines)


def assert_answer_or_one_line_error(proc: subprocess.CompletedProcess[str]) -> None:
    """Never a traceback: exit 0, or exit 1/2 with exactly one line on stderr."""
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode in (0, 1, 2), proc.stderr[-2000:]
    if proc.returncode != 0:
        assert 1 == len(proc.stderr.strip().splitlines()), proc.stderr[-2000:]


# --- 1. signals landing inside the console write ---------------------------------------------------

SIGNAL_CHILD = r"""
import signal, sys, eventlog
signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal: a background job inherits SIGINT ignored
d, style, which = sys.argv[1], sys.argv[2], sys.argv[3]
stop = []
if which == "USR1":
    def on_usr1(signum, frame):  # the user's own handler: a preemption notice
        eventlog.emit("log", level="warning", msg="preemption notice")
        stop.append(1)
    signal.signal(signal.SIGUSR1, on_usr1)
eventlog.init(d, run="sig", console=style, flush_interval=0.05)
sys.stderr.write("ready\n")
sys.stderr.flush()
i = 0
with eventlog.phase("validation", total_batches=10**9, total_questions=10**9, batch_size=1) as v:
    while not stop:
        i += 1
        v.val_batch(i, questions=i, avg_reward=0.5)
        eventlog.emit("log", level="info", msg="printing " + "x" * 200, i=i)
eventlog.finish()
"""

SIGNALS = {"TERM": signal.SIGTERM, "INT": signal.SIGINT, "USR1": signal.SIGUSR1}
TRIALS = 20


def _drain(stream: Any, slow: threading.Event | None = None) -> None:
    """Read a pipe to EOF; while ``slow`` is set, 512 bytes every 2 ms (a slow terminal, a loaded ``tee``)."""
    try:
        while True:
            throttled = slow is not None and slow.is_set()
            chunk = stream.read1(512 if throttled else 1 << 16)
            if not chunk:
                return
            if throttled:
                time.sleep(0.002)
    except (OSError, ValueError):
        return


def _signal_trial(base: Path, style: str, which: str, k: int) -> tuple[Any, ...]:
    """One trial: fill stdout's pipe, signal, then let the pipe drain. Returns what the run left behind."""
    d = base / f"{style}-{which}-{k}"
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGNAL_CHILD, str(d), style, which],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "EVENTLOG_STRICT": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        assert b"ready\n" == proc.stderr.readline()
        threading.Thread(target=_drain, args=(proc.stderr,), daemon=True).start()
        slow = threading.Event()
        if k % 2 == 1:  # odd trials: a slow reader until the signal; even trials: stdout stalled until the signal
            slow.set()
            threading.Thread(target=_drain, args=(proc.stdout, slow), daemon=True).start()
        time.sleep(0.15 + 0.01 * (k % 7))  # setup delay (not an assertion): the pipe is full by now
        proc.send_signal(SIGNALS[which])
        if slow.is_set():
            slow.clear()  # the signal has landed: from now on the reader keeps up
        else:
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
    end = [e.get("status") for e in events if e["event"] == "run_end"]
    preempt = sum(e.get("msg") == "preemption notice" for e in events)
    return (rc, end, preempt)


class TestSignalsInsideTheConsoleWrite:
    @pytest.mark.timeout(300)
    @pytest.mark.parametrize("style", ["banner", "compact"])
    @pytest.mark.parametrize(
        ("which", "expected"),
        [
            ("TERM", (-signal.SIGTERM, ["interrupted"], 0)),
            ("INT", (-signal.SIGINT, ["interrupted"], 0)),
            ("USR1", (0, ["completed"], 1)),
        ],
        ids=["TERM", "INT", "USR1"],
    )
    def test_signal_inside_console_write_never_hangs(
        self, tmp_path: Path, style: str, which: str, expected: tuple[Any, ...]
    ) -> None:
        """Item 1: SIGTERM, SIGINT or an emitting SIGUSR1 handler inside the console write never hangs (20 trials)."""
        with ThreadPoolExecutor(max_workers=TRIALS) as pool:
            results = list(pool.map(lambda k: _signal_trial(tmp_path, style, which, k), range(TRIALS)))
        hung = sum(r == ("hung",) for r in results)
        assert [expected] * TRIALS == results, f"{hung}/{TRIALS} trials hung; results: {results}"


NON_MAIN_INIT = r"""
import os, signal, sys, threading, time, eventlog
t = threading.Thread(target=lambda: eventlog.init(sys.argv[1], run="t", console="off", flush_interval=60))
t.start()
t.join()
for i in range(1000):
    eventlog.emit("log", level="info", msg="m", i=i)
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(30)
"""


class TestSignalsAfterInitFromAThread:
    @pytest.mark.timeout(60)
    def test_sigterm_after_init_from_a_non_main_thread_keeps_every_event(self, tmp_path: Path) -> None:
        """Minor: init() from a non-main thread, then SIGTERM: all 1000 events on disk and run_end interrupted."""
        proc = py(NON_MAIN_INIT, str(tmp_path / "r"), timeout=50)
        assert -signal.SIGTERM == proc.returncode, proc.stderr
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert list(range(1000)) == [e["i"] for e in events if e["event"] == "log"]
        assert ["interrupted"] == [e["status"] for e in events if e["event"] == "run_end"]


# --- 2. resume after a crash -------------------------------------------------------------------------


class TestResume:
    def test_resume_after_a_torn_last_line_keeps_its_run_start(self, tmp_path: Path) -> None:
        """Item 2: init() on a file with a torn last line (SIGKILL mid-write) writes run_start on a line of its own."""
        d = tmp_path / "r"
        path = write_run(d / "events.jsonl", [line("run_start", 0), line("log", 1, level="info", msg="before")])
        torn = line("log", 2, level="info", msg="y" * 300_000)[:200_000]  # a 3 MB-style write cut short
        with path.open("a", encoding="utf-8") as f:
            f.write(torn)
        eventlog.init(d, run="b", console="off")
        eventlog.emit("log", level="info", msg="after")
        eventlog.finish()
        resumed = [e for e in read_events(path) if e["run"] == "b"]
        assert ["run_start", "log", "run_end"] == [e["event"] for e in resumed]
        assert [2, 3, 4] == [e["seq"] for e in resumed]

    def test_resume_continues_seq_after_a_last_line_over_64_kib(self, tmp_path: Path) -> None:
        """Item 2: when the last line is over 64 KiB, a resumed run continues seq instead of restarting at 0."""
        d = tmp_path / "r"
        lines = [line("run_start", 0)] + [line("log", i, level="info", msg="m") for i in range(1, 4)]
        lines.append(line("log", 4, level="info", msg="z" * 100_000))
        path = write_run(d / "events.jsonl", lines)
        eventlog.init(d, run="b", console="off")
        eventlog.emit("log", level="info", msg="after")
        eventlog.finish()
        assert [5, 6, 7] == [e["seq"] for e in read_events(path) if e["run"] == "b"]

    def test_resume_after_the_largest_seq_still_writes(self, tmp_path: Path) -> None:
        """Item 2: a last seq of 2**64-1 does not make every later event drop."""
        d = tmp_path / "r"
        path = write_run(
            d / "events.jsonl", [line("run_start", 2**64 - 2), line("log", 2**64 - 1, level="info", msg="m")]
        )
        eventlog.init(d, run="b", console="off")
        for i in range(3):
            eventlog.emit("log", level="info", msg="after", i=i)
        eventlog.finish()
        resumed = [e for e in read_events(path) if e["run"] == "b"]
        assert ["run_start", "log", "log", "log", "run_end"] == [e["event"] for e in resumed]
        assert 0 == resumed[-1]["events_dropped"]


# --- 3. a slow disk and a new init() -----------------------------------------------------------------

SLOW_DISK = r"""
import os, sys, time, eventlog
old, new = sys.argv[1], sys.argv[2]
os.makedirs(old)
fifo = os.path.join(old, "events.jsonl")
os.mkfifo(fifo)  # a disk that stops accepting writes: nobody reads the FIFO until the new run is open
r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
keep = os.open(fifo, os.O_WRONLY)  # a second writer, so that opening the FIFO to read it never blocks
eventlog.init(old, run="old", console="off")
for i in range(5000):
    eventlog.emit("log", level="info", msg="old " + "x" * 100, i=i)
eventlog.finish()  # times out: the writer thread is stuck in os.write
eventlog.init(new, run="new", console="off")
deadline = time.monotonic() + 3
while time.monotonic() < deadline:  # the disk recovers
    try:
        os.read(r, 1 << 16)
    except BlockingIOError:
        time.sleep(0.01)
eventlog.emit("log", level="info", msg="new")
eventlog.finish()
print("done", flush=True)
"""


class TestSlowDisk:
    @pytest.mark.timeout(120)
    def test_old_run_never_lands_in_the_next_runs_file(self, tmp_path: Path) -> None:
        """Item 3: after finish() times out on a stuck write, a new init()'s file holds only the new run."""
        new = tmp_path / "new"
        proc = py(SLOW_DISK, str(tmp_path / "old"), str(new), timeout=100)
        assert "done" == proc.stdout.splitlines()[-1], proc.stderr
        events = read_events(new / "events.jsonl")
        assert {"new"} == {e["run"] for e in events}
        assert ["run_start", "log", "run_end"] == [e["event"] for e in events]


# --- 4. metric names with braces ---------------------------------------------------------------------


@pytest.fixture
def braces_run(tmp_path: Path) -> Path:
    lines = [line("run_start", 0)]
    for s in (1, 2, 3):
        lines.append(line("step_metrics", s, step=s, metrics={"acc{top1}": 0.25 * s, "loss": 1.0 / s}))
    lines.append(line("eval_summary", 4, step=3, split="val", metrics={"accuracy": 0.5, "acc{top1}": 0.75}))
    lines.append(line("run_end", 5, status="completed", events_dropped=0))
    return write_run(tmp_path / "r" / "events.jsonl", lines)


class TestBraceMetricNames:
    def test_table_keeps_every_metric_of_a_line_with_a_brace_key(self, braces_run: Path) -> None:
        """Item 4: a metric named acc{top1} does not make loss disappear from table."""
        proc = cli("table", "--json", str(braces_run))
        assert 0 == proc.returncode, proc.stderr
        assert [1.0, 0.5, 1.0 / 3] == [r.get("loss") for r in json.loads(proc.stdout)]

    def test_trend_of_a_brace_metric(self, braces_run: Path) -> None:
        """Item 4: trend finds acc{top1} (and loss on the same lines)."""
        proc = cli("trend", "step.acc{top1}", "--json", str(braces_run))
        assert 0 == proc.returncode, proc.stderr
        assert [0.25, 0.5, 0.75] == [r["value"] for r in json.loads(proc.stdout)["rows"]]
        proc = cli("trend", "loss", "--json", str(braces_run))
        assert 0 == proc.returncode, proc.stderr
        assert [1.0, 0.5, 1.0 / 3] == [r["value"] for r in json.loads(proc.stdout)["rows"]]

    def test_eval_keeps_brace_metrics(self, braces_run: Path) -> None:
        """Item 4: eval --json shows every metric of an eval that has a brace key."""
        proc = cli("eval", "--json", str(braces_run))
        assert 0 == proc.returncode, proc.stderr
        flat = json.loads(proc.stdout)  # the flat eval_step_XXXX.json object of seed 004 (issue 11)
        assert (0.5, 0.75) == (flat["accuracy"], flat["acc{top1}"])

    def test_export_has_a_column_for_every_metric(self, braces_run: Path, tmp_path: Path) -> None:
        """Item 4: export writes metrics.acc{top1} and metrics.loss columns."""
        import polars as pl

        proc = cli("export", "--out", str(tmp_path / "ex"), str(braces_run))
        assert 0 == proc.returncode, proc.stderr
        df = pl.read_parquet(tmp_path / "ex" / "step_metrics.parquet")
        assert [0.25, 0.5, 0.75] == df["metrics.acc{top1}"].to_list()
        assert [1.0, 0.5, 1.0 / 3] == df["metrics.loss"].to_list()


# --- 5. many distinct metric keys --------------------------------------------------------------------

KEYS = 10_000


@pytest.fixture
def many_keys_run(tmp_path: Path) -> Path:
    """A step_metrics event with 10,000 distinct keys (per-layer statistics, about 200 kB) beside loss."""
    metrics: dict[str, Any] = {f"layer{i:05d}": i / KEYS for i in range(KEYS)}
    return metrics_run(tmp_path / "r" / "events.jsonl", [{**metrics, "loss": 0.25}, {"layer00001": 0.5, "loss": 0.5}])


class TestManyMetricKeys:
    @pytest.mark.timeout(120)
    def test_summary_of_ten_thousand_keys_finishes(self, many_keys_run: Path) -> None:
        """Item 5: summary is linear in the number of keys: 10k keys finish well inside 30 s (282 s when quadratic)."""
        try:
            proc = cli("summary", "--json", str(many_keys_run), timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("summary of 10,000 metric keys did not finish in 30 s (quadratic)")
        assert 0 == proc.returncode, proc.stderr
        (summary,) = json.loads(proc.stdout)["runs"]  # one shape for one run or several (issue 10)
        assert ("completed", 2) == (summary["status"], summary["steps_done"])
        loss = {"metric": "step.loss", "last": 0.5, "last_step": 2, "best": 0.25, "best_step": 1}
        keys = list(loss)
        assert [loss] == [{k: m[k] for k in keys} for m in summary["metrics"] if m["metric"] == "step.loss"]

    @pytest.mark.timeout(120)
    def test_export_of_ten_thousand_keys_finishes(self, many_keys_run: Path, tmp_path: Path) -> None:
        """Item 5: export is linear in the number of keys: 10k keys finish well inside 30 s."""
        import polars as pl

        try:
            proc = cli("export", "--out", str(tmp_path / "ex"), str(many_keys_run), timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("export of 10,000 metric keys did not finish in 30 s (quadratic)")
        assert 0 == proc.returncode, proc.stderr
        df = pl.read_parquet(tmp_path / "ex" / "step_metrics.parquet")
        assert KEYS + 1 == sum(c.startswith("metrics.") for c in df.columns)  # the layers and loss
        assert [9999 / KEYS, None] == df["metrics.layer09999"].to_list()


# --- 6. .jsonl.gz streamed in bounded memory ---------------------------------------------------------

MAXRSS = (
    "import atexit, resource, sys\n"
    "def _report():\n"
    "    kb = max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))\n"
    "    sys.stderr.write(f'\\nmaxrss_kb={kb}\\n')\n"
    "atexit.register(_report)\n"
    "from eventlog_cli import main; main()\n"
)
BIG_MB = 128


def _write_gz(path: Path, mb: int) -> None:
    """A run of ``mb`` MB (decompressed): filler log lines, with a step and an eval every 1000 lines."""
    pad = "x" * 900
    seq = 0
    with gzip.open(path, "wt", compresslevel=1, encoding="utf-8") as f:
        block = [line("run_start", 0, run="big")]
        for i in range(mb * 1000):
            if i % 1000 == 0:
                s = i // 1000 + 1
                block.append(line("step_metrics", seq := seq + 1, run="big", step=s, metrics={"loss": 1 / s}))
                block.append(line("eval_summary", seq := seq + 1, run="big", step=s, metrics={"accuracy": 0.5}))
            block.append(line("log", seq := seq + 1, run="big", level="info", msg=pad, i=i))
            if len(block) >= 5000:
                f.write("\n".join(block) + "\n")
                block = []
        block.append(line("run_end", seq + 1, run="big", status="completed", events_dropped=0))
        f.write("\n".join(block) + "\n")


@pytest.fixture(scope="module")
def gz_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("gz")
    _write_gz(d / "small.jsonl.gz", 1)
    _write_gz(d / "big.jsonl.gz", BIG_MB)
    return d / "small.jsonl.gz", d / "big.jsonl.gz"


def _peak_kb(*args: str) -> tuple[int, subprocess.CompletedProcess[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", MAXRSS, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "100"},
    )
    kb = int(proc.stderr.rsplit("maxrss_kb=", 1)[1])
    return kb, proc


class TestGzipStreaming:
    @pytest.mark.timeout(300)
    @pytest.mark.parametrize(
        "command", [["table", "--cols", "loss"], ["trend", "eval.accuracy"], ["summary"]], ids=lambda c: c[0]
    )
    def test_gz_is_read_in_bounded_memory(self, gz_runs: tuple[Path, Path], command: list[str]) -> None:
        """Item 6: reading a 128 MB (decompressed) .jsonl.gz peaks less than 32 MB above reading a tiny one."""
        small, big = gz_runs
        base_kb, proc = _peak_kb(*command, str(small))
        assert 0 == proc.returncode, proc.stderr
        big_kb, proc = _peak_kb(*command, str(big))
        assert 0 == proc.returncode, proc.stderr
        growth_mb = (big_kb - base_kb) / 1024
        assert growth_mb < BIG_MB / 4, f"{command[0]}: peak {big_kb // 1024} MB, {growth_mb:.0f} MB above the tiny file"

    @pytest.mark.timeout(300)
    def test_summary_of_a_generated_run_keeps_only_what_it_uses(self, tmp_path: Path) -> None:
        """Item 6: summary of a bench/generate.py run (128 MB decompressed) keeps only the types it reads.

        Every line's seq is still checked (summed up during the scan). What stays is what summary
        uses: each step's phase events and metrics (~1x the file; keeping every line was ~2.3x).
        """
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
        import generate

        small, big = tmp_path / "small.jsonl.gz", tmp_path / "big.jsonl.gz"
        for path, n in ((small, 2_000), (big, 215_000)):  # 215,000 events: ~128 MB of text
            with gzip.open(path, "wb", compresslevel=1) as f:
                f.writelines(line + b"\n" for line in generate.events(n))
        base_kb, proc = _peak_kb("summary", str(small))
        assert 0 == proc.returncode, proc.stderr
        big_kb, proc = _peak_kb("summary", str(big))
        assert 0 == proc.returncode, proc.stderr
        assert proc.stdout.startswith("run synthetic: completed")
        growth_mb = (big_kb - base_kb) / 1024
        assert growth_mb < BIG_MB * 1.5, f"summary: peak {big_kb // 1024} MB, {growth_mb:.0f} MB above the tiny file"


# --- minors: terminal safety --------------------------------------------------------------------------


class TestTerminalSafety:
    def test_notes_sanitise_file_and_directory_names(self, tmp_path: Path) -> None:
        """Minor: a control character in a run directory or file name never reaches stderr raw in a note."""
        d = tmp_path / "run\x1bc"  # ESC c resets a terminal (no glob characters: '[' is another bug)
        path = metrics_run(d / "ev\r\x07.jsonl", [{"loss": 1.0}])
        with path.open("a", encoding="utf-8") as f:
            f.write('{"v":1,"ts":1')  # a torn last line: the loader notes PATH:4
        proc = cli("table", "--cols", "loss", str(d))
        assert 0 == proc.returncode, proc.stderr
        assert "note:" in proc.stderr
        assert not any(c in proc.stderr for c in "\x1b\r\x07"), repr(proc.stderr)
        assert "run\\x1bc" in proc.stderr and "ev\\x0d\\x07.jsonl" in proc.stderr

    def test_using_the_newest_run_sanitises_its_name(self, tmp_path: Path) -> None:
        """Minor: the 'using runs/…' note names a run directory with control characters as visible escapes."""
        metrics_run(tmp_path / "runs" / "x\x1b[31mred" / "events.jsonl", [{"loss": 1.0}])
        proc = cli("table", "--cols", "loss", cwd=tmp_path)
        assert 0 == proc.returncode, proc.stderr
        assert "using runs/" in proc.stderr
        assert "\x1b" not in proc.stderr
        assert "x\\x1b[31mred" in proc.stderr

    def test_trend_header_sanitises_the_typed_metric_name(self, tmp_path: Path) -> None:
        """Minor: the metric name the user typed is not echoed raw into trend's column header."""
        name = "acc\x1b[31m"
        path = metrics_run(tmp_path / "r" / "events.jsonl", [{name: 0.5}, {name: 0.75}])
        proc = cli("trend", f"step.{name}", str(path))
        assert 0 == proc.returncode, proc.stderr
        assert "\x1b" not in proc.stdout
        assert "acc\\x1b[31m" in proc.stdout


# --- minors: tracebacks -------------------------------------------------------------------------------


class TestNoTracebacks:
    def test_duplicate_table_columns(self, tmp_path: Path) -> None:
        """Minor: table --cols loss,loss is a one-line error or a table, never a polars DuplicateError traceback."""
        path = metrics_run(tmp_path / "r" / "events.jsonl", [{"loss": 1.0}, {"loss": 0.5}])
        proc = cli("table", "--cols", "loss,loss", str(path))
        assert_answer_or_one_line_error(proc)
        if proc.returncode == 0:
            assert "loss" in proc.stdout.splitlines()[0]

    def test_seq_beyond_int64_in_summary(self, tmp_path: Path) -> None:
        """Minor: a seq beyond int64 in a file is read (or named in one line) by summary, never a traceback."""
        lines = [line("run_start", 0), line("log", 2**63 + 5, level="info", msg="m")]
        lines.append(line("run_end", 2**63 + 6, status="completed", events_dropped=0))
        proc = cli("summary", str(write_run(tmp_path / "r" / "events.jsonl", lines)))
        assert_answer_or_one_line_error(proc)
        if proc.returncode == 0:
            assert "run a: completed" == proc.stdout.splitlines()[0]

    @pytest.mark.parametrize(
        "where",
        ["(" * 1000 + "step >= 2" + ")" * 1000, "not " * 5000 + "step >= 2"],
        ids=["1000-parentheses", "5000-nots"],
    )
    def test_deeply_nested_where(self, tmp_path: Path, where: str) -> None:
        """Minor: --where with 1000 nested parentheses or 5000 nots is answered or refused in one line, no traceback."""
        path = metrics_run(tmp_path / "r" / "events.jsonl", [{"loss": 1.0}, {"loss": 0.5}, {"loss": 0.25}])
        proc = cli("filter", "--where", where, str(path))
        assert_answer_or_one_line_error(proc)
        if proc.returncode == 0:
            assert [2, 3] == [json.loads(x)["step"] for x in proc.stdout.splitlines()]

    def test_export_of_a_300_character_event_type(self, tmp_path: Path) -> None:
        """Minor: export of a 300-character event type writes every type, or fails in one line before writing any."""
        long_type = "e" * 300
        path = write_run(
            tmp_path / "r" / "events.jsonl",
            [line("run_start", 0), line(long_type, 1, x=1), line("log", 2, level="info", msg="m")],
        )
        out = tmp_path / "ex"
        proc = cli("export", "--out", str(out), str(path))
        assert_answer_or_one_line_error(proc)
        written = sorted(p.name for p in out.glob("*.parquet")) if out.exists() else []
        if proc.returncode == 0:
            assert 3 == len(written), written
        else:
            assert [] == written, "a partial export was left behind"


# --- minors: steps and their ranges ---------------------------------------------------------------------


class TestSteps:
    def test_a_metric_named_step_is_not_shadowed(self, tmp_path: Path) -> None:
        """Minor: table --cols metrics.step shows the metric named step, not the envelope step."""
        path = metrics_run(tmp_path / "r" / "events.jsonl", [{"step": 0.25, "loss": 1.0}, {"step": 0.5, "loss": 0.5}])
        proc = cli("table", "--cols", "metrics.step,loss", "--json", str(path))
        assert 0 == proc.returncode, proc.stderr
        rows = json.loads(proc.stdout)
        holding = [k for k in rows[0] if [r.get(k) for r in rows] == [0.25, 0.5]]
        assert 1 == len(holding), f"no column holds the metric 'step': {rows}"
        assert [1.0, 0.5] == [r["loss"] for r in rows]

    def test_the_largest_step_is_refused_or_read_back(self, tmp_path: Path) -> None:
        """Minor: step=2**64-1 is either refused by emit() or shown as that number by the CLI, never as None."""
        d = tmp_path / "r"
        eventlog.init(d, run="a", console="off")
        eventlog.emit("step_metrics", step=1, metrics={"loss": 1.0})
        try:
            eventlog.emit("step_metrics", step=2**64 - 1, metrics={"loss": 0.5})
            accepted = True
        except eventlog.ValidationError:
            accepted = False
        eventlog.finish()
        proc = cli("table", "--json", str(d))
        assert 0 == proc.returncode, proc.stderr
        expected = [1, 2**64 - 1] if accepted else [1]
        assert expected == [r["step"] for r in json.loads(proc.stdout)]


# --- minors: export file names ------------------------------------------------------------------------------


class TestExportNames:
    def test_event_types_map_one_to_one_to_files(self, tmp_path: Path) -> None:
        """Minor: export of event types a.b, a_b and 'a b' writes three files, none overwritten."""
        import polars as pl

        path = write_run(
            tmp_path / "r" / "events.jsonl", [line("a.b", 0, x=1), line("a_b", 1, x=2), line("a b", 2, x=3)]
        )
        out = tmp_path / "ex"
        proc = cli("export", "--out", str(out), str(path))
        assert 0 == proc.returncode, proc.stderr
        files = sorted(out.glob("*.parquet"))
        assert 3 == len(files), [p.name for p in files]
        assert [1, 2, 3] == sorted(v for p in files for v in pl.read_parquet(p)["x"].to_list())


# --- minors: odd entries in a run directory --------------------------------------------------------------


def _odd_entry(d: Path, kind: str) -> str:
    name = f"{kind}.jsonl"
    p = d / name
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "loop":
        p.symlink_to(p)
    elif kind == "dangling":
        p.symlink_to(d / "gone.jsonl")
    else:
        p.mkdir()
    return name


class TestOddDirectoryEntries:
    @pytest.mark.timeout(60)
    @pytest.mark.parametrize("kind", ["fifo", "loop", "dangling", "directory"])
    def test_odd_entry_is_skipped_with_a_note(self, tmp_path: Path, kind: str) -> None:
        """Minor: a FIFO, symlink loop, dangling symlink or directory named *.jsonl is skipped with a note."""
        d = tmp_path / "r"
        metrics_run(d / "events.jsonl", [{"loss": 1.0}, {"loss": 0.5}])
        name = _odd_entry(d, kind)
        try:
            proc = cli("table", "--cols", "loss", "--json", str(d), timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"reading a run directory with a {kind} named {name} hung")
        assert 0 == proc.returncode, proc.stderr
        assert [1.0, 0.5] == [r["loss"] for r in json.loads(proc.stdout)]
        assert name in proc.stderr


# --- minors: the library's edges ---------------------------------------------------------------------------

EMIT_DURING_FINISH = r"""
import sys, threading, warnings, eventlog
from eventlog.testing import read_events
warnings.simplefilter("error", RuntimeWarning)  # emit() after finish() warns: turn it into a refusal we can see
base = sys.argv[1]
bad = []
for trial in range(40):
    d = f"{base}/t{trial}"
    eventlog.init(d, run="t", console="off")
    accepted = []
    started, finished = threading.Event(), threading.Event()
    def work():
        i = 0
        while not finished.is_set():  # an emit after finish() that returns quietly counts as accepted
            try:
                eventlog.emit("log", level="info", msg="w", i=i)
            except RuntimeWarning:
                return
            accepted.append(i)
            i += 1
            if i == 50:
                started.set()
    t = threading.Thread(target=work)
    t.start()
    started.wait(10)
    eventlog.finish()
    finished.set()
    t.join(10)
    events = read_events(f"{d}/events.jsonl")
    written = [e["i"] for e in events if e["event"] == "log"]
    dropped = [e["events_dropped"] for e in events if e["event"] == "run_end"][0]
    lost = len(accepted) - len(written)
    if lost > dropped or written != accepted[: len(written)]:
        bad.append((trial, len(accepted), len(written), dropped))
print(bad)
"""


class TestLibraryEdges:
    @pytest.mark.timeout(120)
    def test_emit_racing_finish_is_written_or_counted(self, tmp_path: Path) -> None:
        """Minor: a thread emitting while finish() runs never loses an accepted event uncounted (40 trials)."""
        proc = py(EMIT_DURING_FINISH, str(tmp_path), timeout=100)
        assert 0 == proc.returncode, proc.stderr
        assert "[]" == proc.stdout.strip(), "trials that lost events uncounted (trial, accepted, written, dropped)"

    def test_nul_in_run_id_is_a_config_error_before_anything_is_opened(self, tmp_path: Path) -> None:
        """Minor: init(run='a\\x00b') raises ConfigError and opens no file."""
        d = tmp_path / "r"
        with pytest.raises(eventlog.ConfigError):
            eventlog.init(d, run="a\x00b", console="off")
        assert not (d / "events.jsonl").exists()
        assert eventlog.current_run() is None

    def test_str_subclass_is_stored_by_value(self, tmp_path: Path) -> None:
        """Minor: a str subclass is stored as its string value, not through its __str__."""

        class Tag(str):
            def __str__(self) -> str:
                return "other"

        eventlog.init(tmp_path / "r", run="a", console="off")
        eventlog.emit("log", level="info", msg="m", tag=Tag("value"))
        eventlog.finish()
        logs = [e for e in read_events(tmp_path / "r" / "events.jsonl") if e["event"] == "log"]
        assert ["value"] == [e["tag"] for e in logs]

    def test_lenient_emit_survives_a_raising_repr(self, tmp_path: Path) -> None:
        """Minor: an unencodable object whose repr raises makes lenient emit() warn and keep the event, not raise."""

        class Bad:
            def __repr__(self) -> str:
                raise RuntimeError("no repr")

        eventlog.init(tmp_path / "r", run="a", console="off", strict=False)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            eventlog.emit("log", level="info", msg="m", obj=Bad())
        eventlog.finish()
        logs = [e for e in read_events(tmp_path / "r" / "events.jsonl") if e["event"] == "log"]
        assert ["m"] == [e["msg"] for e in logs]
        assert isinstance(logs[0].get("obj"), str)

    def test_lenient_emit_of_a_list_as_event_type_warns(self, tmp_path: Path) -> None:
        """Minor: emit(['x']) in lenient mode warns instead of raising TypeError."""
        eventlog.init(tmp_path / "r", run="a", console="off", strict=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            eventlog.emit(["x"])  # type: ignore[arg-type]
        eventlog.finish()
        assert 1 == len(caught)

    def test_strict_emit_of_a_list_as_event_type_is_a_validation_error(self, tmp_path: Path) -> None:
        """Minor: emit(['x']) in strict mode raises eventlog's ValidationError, not a bare TypeError."""
        eventlog.init(tmp_path / "r", run="a", console="off", strict=True)
        with pytest.raises(eventlog.ValidationError):
            eventlog.emit(["x"])  # type: ignore[arg-type]
        eventlog.finish()

    def test_events_file_deleted_mid_run_is_rewritten_or_reported(
        self, tmp_path: Path, capfd: pytest.CaptureFixture[str]
    ) -> None:
        """Minor: events emitted after the events file is deleted are written to a new file or reported on stderr."""
        d = tmp_path / "r"
        eventlog.init(d, run="a", console="off")
        for i in range(5):
            eventlog.emit("log", level="info", msg="m", i=i)
        eventlog.flush()
        (d / "events.jsonl").unlink()
        for i in range(5, 10):
            eventlog.emit("log", level="info", msg="m", i=i)
        eventlog.finish()
        err = capfd.readouterr().err
        if (d / "events.jsonl").exists():
            events = read_events(d / "events.jsonl")
            assert [5, 6, 7, 8, 9] == [e["i"] for e in events if e["event"] == "log"]
            assert ["run_end"] == [e["event"] for e in events if e["event"] == "run_end"]
        else:
            assert "events.jsonl" in err, "the deletion lost events silently"

    def test_broken_unrelated_pyproject_warns_once_and_logs(
        self, tmp_path: Path, capfd: pytest.CaptureFixture[str]
    ) -> None:
        """Minor: a malformed pyproject.toml without [tool.eventlog] does not stop init(); it warns once."""
        (tmp_path / "pyproject.toml").write_text('[project\nname = "x"\n', encoding="utf-8")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            eventlog.init(tmp_path / "r", run="a", console="off")
            eventlog.emit("log", level="info", msg="m")
            eventlog.finish()
        said = [str(w.message) for w in caught] + [capfd.readouterr().err]
        assert 1 == sum("pyproject.toml" in s for s in said), said
        assert ["run_start", "log", "run_end"] == [e["event"] for e in read_events(tmp_path / "r" / "events.jsonl")]


# --- minors: validate and Pool.terminate ----------------------------------------------------------------------


class TestValidateDrops:
    def test_validate_reports_recorded_drops(self, tmp_path: Path) -> None:
        """Minor: validate reports run_end.events_dropped=3001 as a problem (exit 1), not 0 problems."""
        lines = [line("run_start", 0), line("log", 1, level="info", msg="m")]
        lines.append(line("run_end", 2, status="completed", events_dropped=3001))
        proc = cli("validate", str(write_run(tmp_path / "r" / "events.jsonl", lines)))
        assert 1 == proc.returncode, proc.stdout + proc.stderr
        assert "3001" in proc.stdout + proc.stderr


POOL_TERMINATE = r"""
import multiprocessing as mp, sys, eventlog

def work(k):
    for i in range(2000):
        eventlog.emit("log", level="info", msg="child", k=k, i=i)
    return k

if __name__ == "__main__":
    ctx = mp.get_context("fork")
    for trial in range(int(sys.argv[2])):
        eventlog.init(f"{sys.argv[1]}/t{trial}", run="mp", console="off", flush_interval=60)
        with ctx.Pool(3) as pool:
            assert sorted(pool.map(work, range(6))) == list(range(6))
            pool.close()  # workers leave and their exit finalizers flush the backlog...
        # ...while leaving the block calls terminate(): SIGTERM lands inside those finalizers
        eventlog.finish()
        print("trial", trial, flush=True)
    print("done", flush=True)
"""


POOL_TRIALS = 12  # per script; POOL_SCRIPTS scripts run side by side (the race needs a busy machine)
POOL_SCRIPTS = 4


class TestPoolTerminate:
    @pytest.mark.timeout(120)
    def test_terminate_during_the_exit_finalizer_never_stalls(self, tmp_path: Path) -> None:
        """Minor: Pool.terminate()'s SIGTERM inside a worker's exit finalizer neither stalls nor hangs (48 trials)."""
        script = tmp_path / "pool.py"
        script.write_text(POOL_TERMINATE)
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), str(tmp_path / f"r{n}"), str(POOL_TRIALS)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=dict(os.environ),
                start_new_session=True,  # so that stuck workers can be killed with their parent
            )
            for n in range(POOL_SCRIPTS)
        ]
        deadline = time.monotonic() + 60
        results = []
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
                out += "(did not finish in 60 s: a stall or a hang)\n"
            results.append((proc.returncode, out, err))
        for rc, out, err in results:
            assert (0, "done") == (rc, out.splitlines()[-1]), (out, err)
            assert "timed out" not in err, err
        for n in range(POOL_SCRIPTS):
            for trial in range(POOL_TRIALS):
                d = tmp_path / f"r{n}" / f"t{trial}"
                child = [(e["k"], e["i"]) for p in d.glob("*.jsonl") for e in read_events(p) if e.get("msg") == "child"]
                assert sorted((k, i) for k in range(6) for i in range(2000)) == sorted(child), (
                    f"script {n} trial {trial}"
                )


SIGNAL_AFTER_FORK = r"""
import os, signal, sys, threading, time
os.register_at_fork(after_in_child=lambda: time.sleep(0.3))  # a slow hook that runs before eventlog's
import eventlog

eventlog.init(sys.argv[1], run="fork", console="off")
pid = 0

def fork():
    global pid
    pid = os.fork()
    if pid == 0:
        time.sleep(5)
        os._exit(0)

if sys.argv[2] == "thread":  # Pool's worker handler forks from its own thread
    t = threading.Thread(target=fork)
    t.start()
    t.join()
else:
    fork()
time.sleep(0.05)  # the child is still in its at-fork hooks
os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
time.sleep(0.5)  # twice the watchdog's grace: a re-sent SIGTERM would have ended this process by now
eventlog.finish()
print("child", os.WTERMSIG(status) if os.WIFSIGNALED(status) else "exit %d" % os.WEXITSTATUS(status))
"""


class TestSignalRightAfterFork:
    @pytest.mark.parametrize("where", ["main", "thread"])
    def test_sigterm_to_a_child_in_its_at_fork_hooks_ends_the_child_not_the_parent(
        self, tmp_path: Path, where: str
    ) -> None:
        """The child shares the parent's signal wakeup pipe until its at-fork hook: the signal waits for that."""
        proc = py(SIGNAL_AFTER_FORK, str(tmp_path), where)
        assert (0, f"child {int(signal.SIGTERM)}") == (proc.returncode, proc.stdout.strip()), proc.stderr
        (end,) = [e for e in read_events(tmp_path / "events.jsonl") if e["event"] == "run_end"]
        assert "completed" == end["status"]
