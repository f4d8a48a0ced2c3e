"""The scan's search with the C library's memmem gives ``find``'s answers, and its threads stop cleanly.

``finder`` is pinned against ``bytes.find`` and ``mmap.find`` on random buffers, needles and
ranges (ranges past either end included), with memmem and with the fallback; ``side_by_side``
against the searches run one after the other, and with a failing search.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventlog_cli.read import _memmem
from eventlog_cli.read._memmem import Find, finder, side_by_side

pytestmark = pytest.mark.skipif(_memmem._lib() is None, reason="no memmem in this C library")

BYTES = st.binary(max_size=300).map(lambda b: b.replace(b"\x01", b"ab"))  # a small alphabet finds more
NEEDLE = st.sampled_from([b"", b"a", b"ab", b"\\", b'"step"', b"\n", b"abab", b"\x00"]) | st.binary(max_size=4)
POS = st.integers(min_value=-320, max_value=320)


@settings(max_examples=400, deadline=None)
@given(BYTES, NEEDLE, POS, POS)
def test_finder_answers_as_find_does(data: bytes, needle: bytes, start: int, end: int) -> None:
    with finder(data) as (find, free):
        assert free
        assert data.find(needle, start, end) == find(needle, start, end)


def test_finder_on_a_mapped_file_and_the_mapping_closes_after(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b'x\n{"event":"step"}\n' * 1000 + b"tail")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mm, finder(mm) as (find, _):
        for needle, start, end in [(b'"step"', 0, len(mm)), (b'"step"', 5000, 9000), (b"tail", 0, 10**9)]:
            assert mm.find(needle, start, end) == find(needle, start, end)
        with pytest.raises(BufferError):
            mm.close()  # exported while searched
    assert mm.closed


def test_without_memmem_finder_is_find(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memmem, "_lib", lambda: None)
    data = b"abcabc"
    with finder(data) as (find, free):
        assert not free
        assert 3 == find(b"abc", 1, 6)


def _count(needle: bytes, data: bytes) -> Callable[[Find], list[int]]:
    def search(find: Find) -> list[int]:
        hits, i = [], 0
        while (j := find(needle, i, len(data))) >= 0:
            hits.append(j)
            i = j + 1
        return hits

    return search


def test_side_by_side_gives_each_search_its_own_result() -> None:
    data = b"ab\\cd" * 20_000 + b'"run_start"' + b"x" * 1000
    searches = [_count(n, data) for n in (b"ab", b'"run_start"', b"\\", b"zz")]
    assert [s(data.find) for s in searches] == side_by_side(data, searches)


def test_a_failing_search_is_raised_and_the_others_stop() -> None:
    data = b"a" * 1_000_000

    def fails(find: Find) -> None:
        find(b"b", 0, len(data))
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        side_by_side(data, [_count(b"a", data), fails])


def _scan_file(tmp_path: Path) -> Path:
    """2.4 MB of lines (one window, past the size from which the passes run on threads), some escaped."""
    path = tmp_path / "events.jsonl"
    lines = [b'{"v":1,"ts":1.0,"event":"run_start","run":"r","rank":0,"seq":0}']
    for s in range(1, 12_000):
        lines.append(b'{"v":1,"ts":1.0,"event":"step_metrics","run":"r","rank":0,"seq":%d,"metrics":{"m":%d}}' % (s, s))
        if s % 7 == 0:
            lines.append(b'{"v":1,"ts":1.0,"event":"log","run":"r","rank":0,"seq":%d,"msg":"a\\"b"}' % s)
        if s % 1000 == 0:
            lines.append(b'{"v":1,"ts":1.0,"event":"step_metrics","run":"r","rank":0,"seq":%d,"note":"\\u0041"}' % s)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_without_ctypes_the_scan_keeps_the_same_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python built without libffi has no ctypes: the scan falls back to find and keeps the same lines."""
    from eventlog_cli.read import _scan

    path = _scan_file(tmp_path)

    def rows() -> list[tuple[int, int, str]]:
        got = _scan.scan([str(path)], ["run_start", "step_metrics"])
        (store,) = got.stores
        return [(off, n, got.types[c]) for off, n, c in zip(store.offs, store.lens, store.codes, strict=True)]

    with_memmem = rows()
    monkeypatch.setitem(__import__("sys").modules, "ctypes", None)
    _memmem._lib.cache_clear()
    try:
        assert _memmem._lib() is None
        assert with_memmem == rows()
    finally:
        monkeypatch.undo()
        _memmem._lib.cache_clear()
    assert 12_000 + 11 == len(with_memmem)  # run_start, 11,999 step_metrics, 11 escaped ones (1,714 logs left out)
