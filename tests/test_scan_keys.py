"""The scan's map keys and kept lines against a plain reading of every line, on lines whose keys change.

The scan reads most lines with a decoder that only accepts map keys it has seen for the line
before's type (``_decode.known_keys``); these files make it meet new keys, other types between, maps
that are not objects, odd key names, escapes and keys that never stop changing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventlog_cli.read._scan import MAPS, scan

TYPES = ["step_metrics", "eval_summary", "log"]
KEYS = ["loss", "kl", "acc/top1", 'q"uote', "back\\slash", "tab\tkey", "", "ünï", "a" * 40]


def _key(k: str) -> bytes:
    """A key as JSON, now and then with its first letter written as an escape."""
    if k and k[0].isalpha() and k[0].isascii() and len(k) % 2:
        return b'"\\u%04x' % ord(k[0]) + orjson.dumps(k)[2:]
    return orjson.dumps(k)


def _map(value: Any) -> bytes:
    if isinstance(value, dict):
        return b"{" + b",".join(_key(k) + b":" + orjson.dumps(v) for k, v in value.items()) + b"}"
    return orjson.dumps(value)


maps = st.one_of(
    st.dictionaries(
        st.sampled_from(KEYS),
        st.one_of(st.floats(allow_nan=False), st.integers(-(2**63), 2**63 - 1), st.none()),
        max_size=5,
    ),
    st.sampled_from([None, [], [1.0], "text", 3]),
)
line = st.tuples(st.sampled_from(TYPES), maps, maps, st.sampled_from(["plain", "escaped", "spaced", "broken"]))


def _text(i: int, kind: str, metrics: Any, timing: Any, how: str) -> bytes:
    event = b'"\\u0073tep_metrics"' if how == "escaped" and kind == "step_metrics" else orjson.dumps(kind)
    sep = b", " if how == "spaced" else b","
    text = sep.join(
        [b'{"v":1', b'"event":' + event, b'"seq":%d' % i, b'"metrics":' + _map(metrics), b'"timing":' + _map(timing)]
    )
    return text + b"}" if how != "broken" else text


def _expected(lines: list[bytes], wanted: set[str]) -> tuple[list[int], dict[tuple[str, str], list[str]]]:
    kept, keys = [], {}
    for n, text in enumerate(lines):
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if obj.get("event") not in wanted:
            continue
        kept.append(n)
        for name in MAPS:
            m = obj.get(name)
            if isinstance(m, dict) and m:
                keys.setdefault((obj["event"], name), {}).update(dict.fromkeys(m))
    return kept, {k: list(v) for k, v in keys.items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(line, min_size=1, max_size=60), st.sampled_from([["step_metrics"], ["step_metrics", "eval_summary"]]))
def test_keys_and_kept_lines_match_a_plain_reading(tmp_path: Path, rows: list[Any], wanted: list[str]) -> None:
    lines = [_text(i, *row) for i, row in enumerate(rows)]
    path = tmp_path / "run.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    found = scan([str(path)], wanted)
    kept, keys = _expected(lines, set(wanted))
    store = found.stores[0]
    rows_kept = store.rows(None)
    assert sorted(n for n in store.numbers(rows_kept)) == kept
    assert found.keys == keys


def test_keys_that_never_stop_changing(tmp_path: Path) -> None:
    """A new key on every line (past the decoder rebuilds the scan allows itself): every key is still found."""
    lines = [b'{"event":"step_metrics","metrics":{"k%d":1.0,"loss":2.0}}' % i for i in range(300)]
    path = tmp_path / "run.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    found = scan([str(path)], ["step_metrics"])
    assert found.keys[("step_metrics", "metrics")] == ["k0", "loss", *(f"k{i}" for i in range(1, 300))]


@pytest.mark.parametrize("between", [b'{"event":"eval_summary","metrics":{"other":1}}', b'{"event":"step_metrics"}'])
def test_a_key_after_another_type(tmp_path: Path, between: bytes) -> None:
    """The line before was of another type (or had no maps): a new key of this type is still seen."""
    lines = [b'{"event":"step_metrics","metrics":{"loss":1}}'] * 3 + [between]
    lines += [b'{"event":"step_metrics","metrics":{"loss":1,"late":2}}']
    path = tmp_path / "run.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    found = scan([str(path)], ["step_metrics", "eval_summary"])
    assert found.keys[("step_metrics", "metrics")] == ["loss", "late"]
