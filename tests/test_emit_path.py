"""emit()'s hot path (issue 12): lean checks + orjson on the caller give exactly what the full check gives.

The lean acceptors keep the caller's objects and leave some refusals to
orjson; whatever they let through must be written byte for byte as the full
check writes it, with the same warnings (lenient) and the same errors (strict).
The writer numbers the encoded lines in queue order, so seq stays gap-free and
increasing in file order whatever thread, signal handler or refusal came between.
"""

from __future__ import annotations

import enum
import math
import os
import signal
import threading
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eventlog
from conftest import read_events, run_python
from eventlog._schema import Refused, check, encode
from eventlog.exceptions import EventlogError


class Tag(str):
    pass


class Level(enum.IntEnum):
    HIGH = 3


class Ratio(float):
    pass


ODD_VALUES: list[Any] = [
    0.5,
    3,
    True,
    False,
    None,
    math.nan,
    math.inf,
    -math.inf,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64,
    1e308 * 10,
    Level.HIGH,
    Ratio(0.25),
    np.float32(0.5),
    np.float64(1.5),
    np.int64(7),
    np.bool_(True),
    (3, 4),
    [1, 2],
    "0.5",
    "\ud800",
    {"x": 1.0},
]
ODD_KEYS: list[Any] = ["ok", "é", "\ud800", Tag("tag"), 1, 1.5, None, True, (1, 2)]


def _outcome(name: str, payload: dict[str, Any], strict: bool, lean: bool) -> tuple[Any, ...]:
    """What emit() would store: (line or error, warnings) through the lean path or today's full check."""
    warnings: list[tuple[str, str]] = []

    def warn(key: str, message: str) -> None:
        warnings.append((key, message))

    ev: dict[str, Any] = {"v": 1, "ts": 1.5, "event": name, "run": "r", "rank": 0, "seq": -1}
    try:
        if lean:
            ev, line = encode(name, payload, strict, warn, ev)
        else:
            check(name, payload, strict, warn, ev)
            try:
                line = orjson.dumps(ev)
            except (TypeError, ValueError) as exc:
                line = exc
    except (EventlogError, Refused) as exc:
        return ("raised", type(exc).__name__, str(exc), warnings)
    if not isinstance(line, bytes):
        return ("unencodable", warnings)
    return (line, warnings)


def _same_both_ways(name: str, payload: dict[str, Any]) -> None:
    for strict in (True, False):
        assert _outcome(name, payload, strict, lean=False) == _outcome(name, payload, strict, lean=True), (
            strict,
            payload,
        )


class TestLeanIsExact:
    @pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
    def test_an_odd_metric_value_is_stored_and_reported_as_the_full_check_does(self, value: Any) -> None:
        _same_both_ways("step_metrics", {"step": 1, "metrics": {"loss": 0.5, "odd": value}})

    @pytest.mark.parametrize("key", ODD_KEYS, ids=repr)
    def test_an_odd_metric_key_is_stored_and_reported_as_the_full_check_does(self, key: Any) -> None:
        _same_both_ways("step_metrics", {"step": 1, "metrics": {"loss": 0.5, key: 1.0}})

    @pytest.mark.parametrize("value", ODD_VALUES + ODD_KEYS, ids=repr)
    def test_odd_values_in_other_fields(self, value: Any) -> None:
        _same_both_ways("step_metrics", {"step": value, "epoch": value, "metrics": {"a": 1.0}})
        _same_both_ways("log", {"level": "info", "msg": value, "extra": value})
        _same_both_ways("sample", {"output": value, "golden": [value, "x"], "reward": value, "correct": value})
        _same_both_ways("phase_start", {"phase": "training", "phase_id": 1, "tags": [value]})

    @settings(max_examples=300, deadline=None)
    @given(
        st.dictionaries(
            st.sampled_from(ODD_KEYS) | st.text(max_size=5),
            st.sampled_from(ODD_VALUES) | st.floats() | st.integers() | st.booleans() | st.none(),
            max_size=6,
        )
    )
    def test_any_metrics_map(self, metrics: dict[Any, Any]) -> None:
        _same_both_ways("step_metrics", {"step": 3, "metrics": metrics})
        _same_both_ways("eval_summary", {"step": 3, "metrics": metrics, "split": "val"})

    def test_numpy_values_that_overflow_when_added_warn_nothing(self, tmp_path: Path) -> None:
        """The lean check adds the values up: numpy scalars must not do that in numpy (a RuntimeWarning on stderr)."""
        code = (
            "import warnings, numpy as np, eventlog\n"
            "warnings.simplefilter('always')\n"
            f"eventlog.init({str(tmp_path)!r}, run='x', console='off')\n"
            "big = {'a': np.float32(3e38), 'b': np.float32(3e38), 'c': np.float64(1e308), 'd': np.float64(1e308)}\n"
            "eventlog.emit('step_metrics', step=1, metrics=big)\n"
            "eventlog.finish()\n"
        )
        r = run_python(code)
        assert r.returncode == 0 and "Warning" not in r.stderr, r.stderr
        (ev,) = [e for e in read_events(tmp_path / "events.jsonl") if e["event"] == "step_metrics"]
        assert ev["metrics"]["c"] == 1e308


class TestSnapshot:
    def test_the_line_is_the_snapshot_of_the_callers_map(self, tmp_path: Path) -> None:
        """No copy is taken on the hot path: the encoded bytes are what is written, whatever happens after."""
        eventlog.init(tmp_path / "r", run="r", console="off", flush_interval=60)
        metrics = {"loss": 1.0}
        eventlog.emit("step_metrics", step=1, metrics=metrics)
        metrics["loss"] = 2.0
        metrics["late"] = 3.0
        eventlog.finish()
        (ev,) = [e for e in read_events(tmp_path / "r" / "events.jsonl") if e["event"] == "step_metrics"]
        assert {"loss": 1.0} == ev["metrics"]


class TestSeqInQueueOrder:
    def test_an_emit_stalled_after_taking_its_place_never_reorders_seq(self, tmp_path: Path) -> None:
        """A thread held inside emit() (its value's item()) while another emits 200 events: file order = seq order."""
        eventlog.init(tmp_path / "r", run="r", console="off")
        inside, release = threading.Event(), threading.Event()

        class Slow:
            def item(self) -> float:
                inside.set()
                assert release.wait(10)
                return 0.5

        held = threading.Thread(target=lambda: eventlog.emit("step_metrics", step=0, metrics={"slow": Slow()}))
        held.start()
        assert inside.wait(10)
        for i in range(1, 201):
            eventlog.emit("step_metrics", step=i, metrics={"x": 1.0})
        eventlog.flush()
        release.set()
        held.join(10)
        eventlog.finish()
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert list(range(len(events))) == [e["seq"] for e in events]
        steps = [e["step"] for e in events if e["event"] == "step_metrics"]
        assert [*range(1, 201), 0] == steps

    def test_a_strict_refusal_after_the_lean_path_leaves_no_hole(self, tmp_path: Path) -> None:
        """A map key orjson refuses goes to the full check, which raises in strict mode: the next seq follows on."""
        eventlog.init(tmp_path / "r", run="r", console="off", strict=True)
        eventlog.emit("step_metrics", step=1, metrics={"a": 1.0})
        with pytest.raises(eventlog.ValidationError, match="key 1 is not a string"):
            eventlog.emit("step_metrics", step=2, metrics={1: 1.0})
        eventlog.emit("step_metrics", step=3, metrics={"a": 1.0})
        eventlog.finish()
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert list(range(len(events))) == [e["seq"] for e in events]
        assert [1, 3] == [e["step"] for e in events if e["event"] == "step_metrics"]
        assert 0 == events[-1]["events_dropped"]

    def test_an_unencodable_event_is_a_counted_gap(self, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
        """A lone surrogate in a map key passes every check but not orjson: dropped, counted, a seq gap, one report."""
        eventlog.init(tmp_path / "r", run="r", console="off")
        eventlog.emit("step_metrics", step=1, metrics={"a": 1.0})
        eventlog.emit("step_metrics", step=2, metrics={"\ud800": 1.0})
        eventlog.emit("step_metrics", step=3, metrics={"\udc00": 1.0})
        eventlog.emit("step_metrics", step=4, metrics={"a": 1.0})
        eventlog.finish()
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert [0, 1, 4, 5] == [e["seq"] for e in events]
        assert [1, 4] == [e["step"] for e in events if e["event"] == "step_metrics"]
        assert 2 == events[-1]["events_dropped"]
        err = capfd.readouterr().err
        assert 1 == err.count("--- eventlog: problem ---")
        assert "could not be encoded" in err


SIGNAL_INSIDE_EMIT = r"""
import os, signal, sys, threading, eventlog
eventlog.init(sys.argv[1], run="s", console=sys.argv[3], flush_interval=60)
which = getattr(signal, "SIG" + sys.argv[2])
if which == signal.SIGUSR1:
    def on_usr1(signum, frame):
        eventlog.emit("log", level="warning", msg="preemption notice")
        eventlog.flush()
    signal.signal(signal.SIGUSR1, on_usr1)

class Kick:
    def item(self):
        os.kill(os.getpid(), which)  # the handler runs here, inside emit(), between check and queue
        return 0.5

for i in range(300):
    eventlog.emit("step_metrics", step=i, metrics={"loss": Kick() if i == 150 else 1.0})
eventlog.finish()
"""


class TestSignalsInsideEmit:
    @pytest.mark.timeout(120)
    @pytest.mark.parametrize("console", ["off", "compact"])
    @pytest.mark.parametrize(
        ("which", "code", "status", "steps"),
        [
            ("TERM", -signal.SIGTERM, "interrupted", 150),
            ("INT", -signal.SIGINT, "interrupted", 150),
            ("USR1", 0, "completed", 300),
        ],
    )
    def test_a_signal_inside_emit_never_hangs_nor_reorders(
        self, tmp_path: Path, console: str, which: str, code: int, status: str, steps: int
    ) -> None:
        """SIGTERM/SIGINT/an emitting SIGUSR1 handler inside emit(): no hang, run_end, seq 0..N-1 in file order."""
        proc = run_python(SIGNAL_INSIDE_EMIT, str(tmp_path / "r"), which, console, timeout=100)
        assert code == proc.returncode, proc.stderr
        events = read_events(tmp_path / "r" / "events.jsonl")
        assert list(range(len(events))) == [e["seq"] for e in events]
        assert [status] == [e["status"] for e in events if e["event"] == "run_end"]
        assert list(range(steps)) == [e["step"] for e in events if e["event"] == "step_metrics"]
        notices = [i for i, e in enumerate(events) if e.get("msg") == "preemption notice"]
        if which == "USR1":
            step_150 = next(i for i, e in enumerate(events) if e.get("step") == 150)
            assert 1 == len(notices) and notices[0] < step_150  # the handler's event, then the one it interrupted


class TestForkAfterEncode:
    def test_a_forked_child_never_writes_the_parents_encoded_lines(self, tmp_path: Path) -> None:
        """Lines queued (already encoded) at fork time are the parent's alone."""
        eventlog.init(tmp_path / "r", run="r", console="off", flush_interval=60)
        for i in range(500):
            eventlog.emit("step_metrics", step=i, metrics={"x": 1.0})
        pid = os.fork()
        if pid == 0:
            try:
                eventlog.emit("step_metrics", step=-1, metrics={"child": 1.0})
                eventlog.finish()
            finally:
                os._exit(0)
        assert 0 == os.waitpid(pid, 0)[1]
        eventlog.finish()
        parent = read_events(tmp_path / "r" / "events.jsonl")
        (child_file,) = (tmp_path / "r").glob("events.rank0.pid*.jsonl")
        child = read_events(child_file)
        assert list(range(500)) == [e["step"] for e in parent if e["event"] == "step_metrics"]
        assert [-1] == [e["step"] for e in child if e["event"] == "step_metrics"]
        assert list(range(len(child))) == [e["seq"] for e in child]
