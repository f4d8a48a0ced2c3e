"""Records one at a time, in run order, holding a window of each file rather than every event.

``Loaded.records()`` decodes every selected line into a list and sorts it (ts, then rank,
then seq: ``Record.order``). :func:`in_run_order` gives the same records in the same order
without the list: each file is read a window at a time and the files are merged. Python's
sort is stable and ``heapq.merge`` breaks ties by the earlier file, so the merge equals the
sort when each file's own records are in order. They nearly always are; a file that is not
(threads' clocks, a restarted run's clock behind, another tool's file) is found by a first
pass over its ``ts``/``rank``/``seq`` only, and read in its sorted order a block at a time.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from eventlog_cli.read._record import Record, order_key
from eventlog_cli.read._store import FileLines
from eventlog_cli.read._why import loads_lenient

if TYPE_CHECKING:
    import msgspec
else:
    from eventlog_cli._lazy import msgspec

__all__ = ["Make", "in_run_order"]

Make = Callable[[int, int, int, bytes], "Record | None"]  # (file, 0-based line, row, text) -> record, or None
_BLOCK = 1 << 15  # rows of an out-of-order file decoded at a time
_LAST = (float("inf"), 0, 0)


def in_run_order(
    stores: Sequence[FileLines], parts: Iterable[tuple[int, Sequence[int]]], make: Make, merge: bool
) -> Iterator[Record]:
    """The records of ``parts`` (file index, rows in file order) as ``records()`` orders them: in file order,
    or (``merge``: the load has several files) by ``Record.order``."""
    parts = list(parts)
    if not merge and len(parts) == 1:
        f, rows = parts[0]
        yield from _in_file_order(stores[f], f, rows, make)
        return
    streams = [_sorted(stores[f], f, rows, make) for f, rows in parts]
    yield from heapq.merge(*streams, key=Record.order)


def _in_file_order(store: FileLines, f: int, rows: Sequence[int], make: Make) -> Iterator[Record]:
    store.number(rows)  # counted once, for all rows (then read from the index)
    ns = store.ns
    for chunk, texts in store.chunks(rows):
        for r, text in zip(chunk, texts, strict=True):
            rec = make(f, ns[r], r, text)
            if rec is not None:
                yield rec


def _sorted(store: FileLines, f: int, rows: Sequence[int], make: Make) -> Iterator[Record]:
    """The file's records stably sorted by ``Record.order``, a block of rows at a time."""
    if _in_order(store, rows):
        yield from _in_file_order(store, f, rows, make)
        return
    keys = dict(zip(rows, (_key(text) for _, text in store.texts(rows)), strict=True))
    order = sorted(rows, key=keys.__getitem__)
    del keys
    store.number(rows)
    ns = store.ns
    for i in range(0, len(order), _BLOCK):
        block = order[i : i + _BLOCK]
        texts = dict(store.texts(sorted(block)))
        for r in block:
            rec = make(f, ns[r], r, texts[r])
            if rec is not None:
                yield rec


def _in_order(store: FileLines, rows: Sequence[int]) -> bool:
    last = (float("-inf"), 0, 0)
    for _, text in store.texts(rows):
        key = _key(text)
        if key < last:
            return False
        last = key
    return True


@functools.cache
def _order_decoder() -> Any:
    fields = [("ts", Any, None), ("rank", Any, None), ("seq", Any, None)]
    return msgspec.json.Decoder(msgspec.defstruct("Order", fields))


def _key(text: bytes) -> tuple[float, int, int]:
    """``Record.order`` of the line's event, read without building the rest of it."""
    try:
        o = _order_decoder().decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        ev = loads_lenient(text)
        return order_key(ev.get("ts"), ev.get("rank"), ev.get("seq")) if isinstance(ev, dict) else _LAST
    return order_key(_as_orjson(o.ts), _as_orjson(o.rank), _as_orjson(o.seq))


def _as_orjson(v: Any) -> Any:
    """``v`` as orjson decodes it (the records are decoded by orjson): an int beyond -2**63 .. 2**64-1 is a float."""
    if type(v) is int and not -(2**63) <= v < 2**64:
        return float(str(v))  # float() of the int overflows past 1e308; of its text it is inf, as orjson reads it
    return v
