"""Property tests: whatever emit() accepts comes back equal through the readers (NaN-aware)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import eventlog
from eventlog._run import reset
from eventlog.testing import read_events
from eventlog_cli._app import app

names = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12).filter(
    lambda s: s not in ("v", "ts", "event", "run", "rank", "seq")
)
text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)
any_float = st.floats(allow_nan=True, allow_infinity=True)
finite = st.floats(allow_nan=False, allow_infinity=False)
ints = st.integers(-(2**63), 2**63 - 1)
json_values = st.recursive(
    st.none() | st.booleans() | ints | finite | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)

events = st.one_of(
    st.builds(
        lambda step, m, t: ("step_metrics", {"step": step, "metrics": m, "timing": t}),
        ints,
        st.dictionaries(names, any_float, max_size=6),
        st.dictionaries(names, any_float, max_size=3),
    ),
    st.builds(
        lambda step, m, split: ("eval_summary", {"step": step, "metrics": m, "split": split}),
        ints,
        st.dictionaries(names, any_float, min_size=1, max_size=6),
        text,
    ),
    st.builds(
        lambda out, prompt, golden, r, c: (
            "sample",
            {"output": out, "prompt": prompt, "golden": golden, "reward": r, "correct": c},
        ),
        text,
        text,
        st.lists(text, max_size=3),
        any_float,
        st.booleans(),
    ),
    st.builds(
        lambda msg, extra: ("log", {"level": "info", "msg": msg, **extra}),
        text,
        st.dictionaries(
            names.filter(lambda k: k not in ("level", "msg", "logger", "phase_id", "step")), json_values, max_size=4
        ),
    ),
    st.builds(
        lambda adv, rewards: ("group_detail", {"step": 1, "group": 0, "turn_advantages": adv, "rewards": rewards}),
        st.lists(st.lists(any_float | st.none(), max_size=3), max_size=3),
        st.lists(any_float, max_size=4),
    ),
)


def same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(events, min_size=1, max_size=5))
def test_emit_then_read_gives_the_same_values(tmp_path: Path, batch: list[tuple[str, dict[str, Any]]]) -> None:
    """Every payload emit() accepts is read back equal by eventlog.testing.read_events."""
    reset()
    run_dir = tmp_path / "p"
    shutil.rmtree(run_dir, ignore_errors=True)  # eval_summary leaves eval_logs/ there
    eventlog.init(run_dir, run="p", console="off")
    for name, payload in batch:
        eventlog.emit(name, **payload)
    eventlog.finish()
    back = [e for e in read_events(run_dir / "events.jsonl") if e["event"] not in ("run_start", "run_end")]
    assert len(batch) == len(back)
    for (name, payload), ev in zip(batch, back, strict=True):
        assert name == ev["event"]
        assert same(payload, {k: ev[k] for k in payload}), (payload, ev)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    metrics=st.lists(
        st.dictionaries(st.sampled_from(["loss", "kl", "lr", "x y", "é"]), any_float, min_size=1),
        min_size=1,
        max_size=6,
    )
)
def test_table_json_reads_what_was_emitted(tmp_path: Path, metrics: list[dict[str, float]]) -> None:
    """The CLI loader returns every metric value (NaN and ±Inf included) that was emitted, step by step."""
    reset()
    run_dir = tmp_path / "t"
    for f in run_dir.glob("*"):
        f.unlink()
    eventlog.init(run_dir, run="t", console="off")
    for step, m in enumerate(metrics):
        eventlog.emit("step_metrics", step=step, metrics=m)
    eventlog.finish()
    keys = sorted({k for m in metrics for k in m})
    out = CliRunner().invoke(app, ["table", "--json", "--cols", ",".join(["step", *keys]), str(run_dir)])
    rows = json.loads(out.stdout)
    decoded = [
        {
            k: {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(v, v) if isinstance(v, str) else v
            for k, v in r.items()
        }
        for r in rows
    ]
    expected = [{"step": i, **{k: m.get(k) for k in keys}} for i, m in enumerate(metrics)]
    assert same(expected, decoded)
