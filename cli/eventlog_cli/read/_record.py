"""One decoded event and where it came from, kept beside the event (never inside it); a line set aside."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Record", "Skipped", "as_rank", "hashable", "order_key"]


def hashable(v: Any) -> Any:
    """``v``, or its repr when it cannot be a set member or dict key (another writer's ``"rank": [1]``): a value
    of its own."""
    return v if v.__hash__ is not None else repr(v)


def as_rank(v: Any) -> Any:
    """A rank as every command groups by it: another writer's text ``"0"`` (``os.environ["RANK"]``) is rank 0, a
    list or object its repr (see :func:`hashable`)."""
    return int(v) if type(v) is str and v.isdecimal() and v.isascii() else hashable(v)


def order_key(ts: Any, rank: Any, seq: Any) -> tuple[float, int, int]:
    """Run order across files: ts, then rank, then seq (odd values last or first; a NaN ts, which compares
    false with everything and would leave the order to chance, last)."""
    return (
        ts if isinstance(ts, (int, float)) and ts == ts else float("inf"),
        rank if isinstance(rank, int) else 0,
        seq if isinstance(seq, int) else 0,
    )


@dataclass(frozen=True, slots=True)
class Record:
    """An event as written, with its file (index into ``Loaded.files``) and 1-based line."""

    file: int
    line: int
    event: dict[str, Any]

    def order(self) -> tuple[float, int, int]:
        """Run order across files: ts, then rank, then seq (odd values last or first)."""
        ev = self.event
        return order_key(ev.get("ts"), ev.get("rank"), ev.get("seq"))


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line that was not used, and why."""

    path: str
    line: int  # 1-based
    reason: str
    torn: bool = False
