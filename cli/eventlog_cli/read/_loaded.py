"""``load()`` and what it returns: the selected lines, decoded on demand as records or frames."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from eventlog._schema import get_type
from eventlog_cli.read._frames import (
    ENVELOPE_DTYPES,
    STRING,
    decode_typed,
    frame_from_records,
    is_free,
    key_of,
    map_fields,
    object_keys,
    to_columns,
    to_float,
    to_numbers,
)
from eventlog_cli.read._record import Record
from eventlog_cli.read._scan import Skipped, loads_lenient, scan, short
from eventlog_cli.read._seqs import SeqRuns, seq_parts

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

__all__ = ["Loaded", "load"]

_SLICE = 4096  # lines decoded at a time by frame()


def load(
    paths: Sequence[str], types: Iterable[str] | None = None, contains: str | None = None, seqs: bool = False
) -> Loaded:
    """Read the files, keeping only the lines of ``types`` (all when None); see ``read._scan.scan``.

    ``seqs``: sum up every line's seq during the scan, whatever ``types`` keeps, so that
    :meth:`Loaded.seq_problems` answers for the whole files (without it, only when ``types`` is None).

    Raises:
        DataError: a path does not exist or cannot be read.
    """
    lines, files, skipped, runs = scan(paths, types, contains, seqs)
    return Loaded(lines, files, skipped, seqs=runs, complete=types is None)


@dataclass
class Loaded:
    """The selected lines of one or more files, ready to decode."""

    lines: pl.DataFrame  # file (u32), n (u32, 0-based line), line (str), event (str)
    files: list[str]
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # values kept but not usable as numbers
    warn: Callable[[str], None] | None = None  # told each new note as it is found (commands print it)
    seqs: list[SeqRuns] | None = None  # each file's seq numbers, summed up during the scan (``load(seqs=True)``)
    complete: bool = True  # every line with a type is in ``lines`` (no ``types`` asked for)
    _keys: dict[tuple[str, str], list[str]] = field(default_factory=dict, repr=False)

    def records(self, types: Iterable[str] | None = None) -> list[Record]:
        """Decoded events in run order (ts, then rank, then seq), each with its file and line."""
        df = self._select(types)
        wanted = None if types is None else set(types)
        out: list[Record] = []
        loads = orjson.loads
        for f, n, line in zip(df["file"].to_list(), df["n"].to_list(), df["line"].to_list(), strict=True):
            try:
                ev = loads(line)
            except orjson.JSONDecodeError as exc:
                ev = loads_lenient(line)  # json.dumps' bare NaN / Infinity: the value is kept
                if ev is None:
                    self._skip(f, n, f"not valid JSON ({short(exc)})")
                    continue
            if not isinstance(ev, dict):
                self._skip(f, n, f"a JSON {type(ev).__name__}, not an object")
                continue
            if wanted is not None and ev.get("event") not in wanted:  # the pre-filter's answer, re-checked
                continue
            out.append(Record(f, n + 1, ev))
        if len(self.files) > 1:
            out.sort(key=Record.order)
        return out

    def keys(self, event: str, field: str = "metrics") -> list[str]:
        """The keys of the object ``field`` across all events of one type, without decoding them."""
        if (event, field) not in self._keys:
            df = self._select([event])
            self._keys[(event, field)] = object_keys(df["line"], field) if df.height else []
        return self._keys[(event, field)]

    def frame(
        self, event: str, metrics: Sequence[str] | None = None, timing: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """One event type as a frame: envelope, typed fields, ``metrics.*``/``timing.*`` as Float64.

        Args:
            event: the event type.
            metrics: decode only these ``metrics`` keys (all present keys when None; no discovery pass).
            timing: the same for ``timing``.
        """
        df = self._select([event])
        if df.height == 0:
            return pl.DataFrame()
        et = get_type(event)
        nested = map_fields(et) if et is not None else []
        if is_free(et) or self._has_foreign_fields(df["line"], et, nested):
            return frame_from_records(self.records([event]), self.note)
        wanted = {"metrics": metrics, "timing": timing}
        keys = {
            name: list(wanted[name] or []) if wanted.get(name) is not None else self.keys(event, name)
            for name in nested
        }
        parts: list[pl.DataFrame] = []
        bad: list[pl.DataFrame] = []  # per slice: which values are present but not numbers
        for i in range(0, df.height, _SLICE):  # the decoded text of one slice at a time (it is ~5x the line)
            try:
                decoded = decode_typed(df.slice(i, _SLICE), et, keys)
            except pl.exceptions.PolarsError:  # a value of an unexpected type somewhere: the forgiving path
                return frame_from_records(self.records([event]), self.note)
            masks = []
            for name in nested:
                if name not in decoded.columns:
                    continue
                if keys[name]:  # one pass over all keys: linear in their number
                    text = to_columns(decoded.select(name), name)
                    masks.append(text.select(pl.all().is_not_null() & to_float(pl.all()).is_null()))
                    numbers = to_numbers(text, df["line"].slice(i, _SLICE))  # integers stay Int64
                    decoded = pl.concat([decoded.drop(name), numbers], how="horizontal")
                else:
                    decoded = decoded.drop(name)
            parts.append(decoded)
            if masks:
                bad.append(pl.concat(masks, how="horizontal"))
        decoded = pl.concat(parts, how="vertical_relaxed")  # a slice's Int128 (a value beyond int64) wins
        if bad:
            self._note_non_numbers(decoded["n"], pl.concat(bad))
        decoded = decoded.filter(pl.col("event") == event)
        return decoded.sort(["ts", "rank", "seq"], nulls_last=True, maintain_order=True)

    def _has_foreign_fields(self, lines: pl.Series, et: Any, nested: list[str]) -> bool:
        """Whether another writer added top-level fields the schema does not declare (kept as columns then).

        Checked for types without maps of numbers (``sample``, ``checkpoint``...): for
        ``step_metrics``/``eval_summary`` the key scan would cost as much as the decoding
        itself, so fields outside their schema are not looked for there.
        """
        if nested:
            return False
        known = {*ENVELOPE_DTYPES, *(f.name for f in et.fields)}
        found = set(lines.str.extract_all(rf"{STRING}\s*:").explode().drop_nulls().unique().to_list())
        for match in found:
            key = key_of(match)
            if key in known:
                continue
            for text in lines.filter(lines.str.contains(match[: match.rindex('"') + 1], literal=True)).head(20):
                try:
                    if key in orjson.loads(text):
                        return True
                except (orjson.JSONDecodeError, TypeError):
                    continue
        return False

    def seq_problems(self) -> list[str]:
        """Gaps and duplicates in each file's ``seq`` (every line with a type; any writer's spelling).

        Raises:
            ValueError: only some types were loaded and the seqs were not summed up (``load(seqs=True)``).
        """
        if self.seqs is None:
            if not self.complete:
                raise ValueError("seq_problems() needs load(..., seqs=True) when only some types are loaded")
            self.seqs = []
            for f in range(len(self.files)):
                count, runs = pl.collect_all(list(seq_parts(self.lines.lazy().filter(pl.col("file") == f))))
                self.seqs.append(SeqRuns())
                self.seqs[-1].add(count.item(), runs)
        return [p for f, runs in enumerate(self.seqs) for p in runs.problems(self.files[f])]

    def note(self, text: str) -> None:
        """Keep a note found while decoding (once per distinct text) and pass it to ``warn``."""
        if text not in self.notes:
            self.notes.append(text)
            if self.warn is not None:
                self.warn(text)

    def _note_non_numbers(self, n: pl.Series, bad: pl.DataFrame) -> None:
        """Name metric values that are present but not numbers (``bad``: one mask per column); one pass."""
        counts = bad.sum().row(0)
        for c, k in zip(bad.columns, counts, strict=True):
            if k:
                lines = (n.filter(bad[c]).head(5) + 1).to_list()
                shown = ", ".join(map(str, lines)) + (" ..." if k > 5 else "")
                self.note(f"{c}: {k} value(s) are not numbers (line {shown}); shown as empty")

    def _select(self, types: Iterable[str] | None) -> pl.DataFrame:
        if types is None:
            return self.lines
        return self.lines.filter(pl.col("event").is_in(list(types)))

    def _skip(self, f: int, n: int, reason: str) -> None:
        """A line found unusable while decoding: kept, and told to ``warn`` (the load-time report is past)."""
        s = Skipped(self.files[f], n + 1, reason)
        if s not in self.skipped:
            self.skipped.append(s)
            if self.warn is not None:
                self.warn(f"{s.path}:{s.line}: {reason}; skipped")
