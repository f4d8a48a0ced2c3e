"""The two ways the scan selects lines (find on needles, every line through polars) agree on odd files.

The find path has a fast loop for the common line and hands anything unusual (a BOM, a
non-ASCII or damaged line, a map with new keys, a false positive) to the checked path;
this pins that both ways keep the same lines, with the same types, keys and reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eventlog_cli.read import _scan

TYPES = ["run_start", "step_metrics"]


def _step(seq: int, metrics: dict[str, object], **extra: object) -> str:
    ev = {"v": 1, "ts": 1.0 + seq, "event": "step_metrics", "run": "r", "rank": 0, "seq": seq, "step": seq}
    return json.dumps({**ev, "metrics": metrics, **extra}, separators=(",", ":"))


def _lines() -> list[bytes]:
    start = '{"v":1,"ts":1.0,"event":"run_start","run":"r","rank":0,"seq":0,"config":{}}'
    return [
        b"\xef\xbb\xbf" + start.encode(),  # a BOM before the first line
        _step(1, {"loss": 1.0}).encode(),
        _step(2, {"loss": 0.9}).encode() + b"\r",  # CRLF
        _step(3, {"loss": 0.8, "acc": 0.1}).encode(),  # a new metric key
        _step(4, {"loss": 0.7, "acc": 0.2}, timing={"gen": 1.0}).encode(),  # a new timing key
        _step(5, {"loss": 0.6, "acc": 0.3}, timing={"gen": 1.0, "train": 2.0}).encode(),
        _step(6, {"loss": 0.5, "é": 1.0}).encode(),  # non-ASCII key (UTF-8)
        b'{"v":1,"ts":7.0,"event":"step_metrics","run":"r","rank":0,"seq":7,"metrics":{"loss":\xff}}',  # bad UTF-8
        b'{"v":1,"ts":8.0,"event":"step_metrics","run":"r","rank":0,"seq":8,"metrics":{"lo',  # torn mid-file
        b'{"v":1,"ts":9.0,"event":"log","run":"r","rank":0,"seq":9,"message":"saw \\"step_metrics\\""}',  # not ours
        b'{"v":1,"ts":10.0,"event":"log","run":"r","rank":0,"seq":10,"message":"\\"step_metrics\\" is \\u00e9"}',
        b'["step_metrics", 1]',  # an array holding the needle
        b'{"ts":11.0,"note":"step_metrics"}',  # no event field
        b'{"v":1,"ts":12.0,"event":"step\\u005fmetrics","run":"r","rank":0,"seq":12,"metrics":{"loss":0.4}}',
        _step(13, {"loss": float("nan"), "kl": 0.1}).encode(),  # json.dumps' bare NaN
        _step(14, {"loss": 0.3, "acc": 0.4}, metrics_extra=1).encode(),
        _step(15, {"acc": 0.5, "loss": 0.2}).encode(),  # same keys, another order
        b'{"v":1,"ts":16.0,"event":"step_metrics","run":"r","rank":0,"seq":16,"metrics":[1,2]}',  # not a map
        _step(17, {"loss": 0.1}).encode(),
    ]


def _summary(found: _scan.Scanned) -> tuple[object, ...]:
    store = found.stores[0]
    kept = [(off, n, found.types[c]) for off, n, c in zip(store.offs, store.lens, store.codes, strict=True)]
    skipped = sorted((s.line, s.reason) for s in found.skipped)
    return kept, skipped, found.keys


@pytest.mark.parametrize("window", [None, 512])
def test_find_and_every_line_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int | None) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(_lines()) + b"\n")
    if window is not None:  # many windows: lines cut at window edges are carried over
        monkeypatch.setattr(_scan, "WINDOW", window)
    by_find = _summary(_scan.scan([str(path)], TYPES))
    monkeypatch.setattr(_scan, "_MAX_NEEDLES", 0)
    by_lines = _summary(_scan.scan([str(path)], TYPES))
    assert by_find == by_lines
    kept, skipped, keys = by_find
    assert [t for _, _, t in kept].count("step_metrics") == 12
    assert [line for line, _ in skipped] == [8, 9, 12, 13]  # bad UTF-8, torn, an array, no "event"
    assert keys[("step_metrics", "metrics")] == ["loss", "acc", "é", "kl"]
    assert keys[("step_metrics", "timing")] == ["gen", "train"]


@pytest.mark.parametrize("clean", [False, True])
@pytest.mark.parametrize(
    ("types", "contains"),
    [(None, None), (TYPES, None), (TYPES, '"acc"'), (["run_start", "step_metrics", "log", "a", "b"], None)],
)
def test_small_windows_read_in_python_as_polars_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean: bool, types: list[str] | None, contains: str | None
) -> None:
    """A small window is read line by line in Python (no polars import): the same lines, types and reports."""
    from eventlog_cli.read import _lines as lines_module

    lines = _lines()
    if clean:  # no CR, valid UTF-8: polars' scan_lines path rather than its line-by-line fallback
        lines = [x.removesuffix(b"\r") for x in lines if b"\xff" not in x]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(_scan, "_MAX_NEEDLES", 0)  # the every-line way
    small = _summary(_scan.scan([str(path)], types, contains))
    monkeypatch.setattr(lines_module, "SMALL", -1)
    by_polars = _summary(_scan.scan([str(path)], types, contains))
    assert small == by_polars
    assert small[0]  # something was kept
