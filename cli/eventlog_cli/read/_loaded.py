"""``load()`` and what it returns: the selected lines, decoded on demand as records or frames."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, cast

import orjson

from eventlog._schema import get_type
from eventlog._text import sanitize
from eventlog_cli.read._decode import Decoder, keys_decoder
from eventlog_cli.read._frames import ENVELOPE_DTYPES, frame_from_records, is_free, map_fields
from eventlog_cli.read._record import Record, as_rank, hashable
from eventlog_cli.read._scan import MAPS, Skipped, empty, scan
from eventlog_cli.read._seqs import SeqRuns, seq_parts
from eventlog_cli.read._store import FileLines
from eventlog_cli.read._stream import Make, in_run_order
from eventlog_cli.read._why import TOO_DEEP, loads_lenient, short, too_deep

if TYPE_CHECKING:
    import msgspec
    import polars as pl
else:
    from eventlog_cli._lazy import msgspec
    from eventlog_cli._lazy import polars as pl

__all__ = ["Loaded", "load"]

_SLICE = 8192  # lines decoded into one frame chunk at a time by frame()


def load(
    paths: Sequence[str], types: Iterable[str] | None = None, contains: str | None = None, seqs: bool = False
) -> Loaded:
    """Read the files, keeping only the lines of ``types`` (all when None); see ``read._scan.scan``.

    ``seqs``: sum up every line's seq during the scan, whatever ``types`` keeps, so that
    :meth:`Loaded.seq_problems` answers for the whole files (without it, only when ``types`` is None).

    Raises:
        DataError: a path does not exist or cannot be read.
    """
    found = scan(paths, types, contains, seqs)
    loaded = Loaded(found.stores, found.names, found.types, found.skipped, seqs=found.seqs, complete=types is None)
    for t in found.types:  # the keys of the maps of numbers were collected by the scan
        for name in MAPS:
            loaded._keys[(t, name)] = found.keys.get((t, name), [])
    return loaded


@dataclass
class Loaded:
    """The selected lines of one or more files (an index, not their text), decoded on demand."""

    stores: list[FileLines]  # per file: where each kept line is, its line number and type code
    files: list[str]
    types: list[str]  # the type names the stores' codes stand for
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # values kept but not usable as numbers
    warn: Callable[[str], None] | None = None  # told each new note as it is found (commands print it)
    seqs: list[SeqRuns] | None = None  # each file's seq numbers, summed up during the scan (``load(seqs=True)``)
    complete: bool = True  # every line with a type is kept (no ``types`` asked for)
    _keys: dict[tuple[str, str], list[str]] = field(default_factory=dict, repr=False)

    @property
    def lines(self) -> pl.DataFrame:
        """Every kept line as a frame (``file``, 0-based ``n``, ``line``, ``event``): its text is read here."""
        return self.lines_of(None)

    def lines_of(self, types: Iterable[str] | None) -> pl.DataFrame:
        """:attr:`lines` of these types only (all when None): only their text is read."""
        parts = []
        for f, rows in self._rows(types):
            store = self.stores[f]
            texts = [t.decode("utf-8") for _, t in store.texts(rows)]
            parts.append(
                pl.DataFrame(
                    {
                        "file": pl.Series([f] * len(rows), dtype=pl.UInt32),
                        "n": pl.Series(store.numbers(rows), dtype=pl.UInt32),
                        "line": pl.Series(texts, dtype=pl.String),
                        "event": pl.Series([self.types[store.codes[r]] for r in rows], dtype=pl.String),
                    }
                )
            )
        return pl.concat(parts) if parts else empty()

    def each_line(self) -> Iterator[tuple[int, int, bytes]]:
        """(file, 0-based number, text) of every kept line, in file order, a window at a time."""
        for f, rows in self._rows(None):
            store = self.stores[f]
            store.number(rows)
            ns = store.ns
            for r, text in store.texts(rows):
                yield f, ns[r], text

    def count(self, types: Iterable[str] | None = None) -> int:
        """How many lines of these types (all when None) were kept."""
        return sum(len(rows) for _, rows in self._rows(types))

    def present(self) -> list[str]:
        """The types of the kept lines, in order of first appearance."""
        seen: dict[int, None] = {}
        for store in self.stores:
            seen.update(dict.fromkeys(store.codes))
        return [self.types[c] for c in seen]

    def ranks(self, types: Iterable[str] | None = None) -> set[Any]:
        """The ``rank`` of each kept line of ``types`` (all when None; None for a line without one), read alone."""
        dec: Any = msgspec.json.Decoder(msgspec.defstruct("Rank", [("rank", Any, None)])).decode
        out: set[Any] = set()
        for f, rows in self._rows(types):
            for _, text in self.stores[f].texts(rows):
                try:
                    rank = dec(text).rank
                except (msgspec.ValidationError, msgspec.DecodeError):
                    ev = loads_lenient(text)
                    if not isinstance(ev, dict):
                        continue  # not an event: set aside when decoded
                    rank = ev.get("rank")
                out.add(hashable(rank))
        return out

    def last_lines(self) -> dict[int, int]:
        """Per file with kept lines (its index): the 1-based number of its last kept line."""
        return {f: self.stores[f].numbers(rows[-1:])[0] + 1 for f, rows in self._rows(None)}

    def all_keys(self, field: str) -> list[str]:
        """The keys of the object ``field`` across every kept type, in first-seen order (type by type)."""
        return list(dict.fromkeys(k for t in self.present() for k in self.keys(t, field)))

    def rows_of(self, types: Iterable[str] | None) -> list[tuple[int, Sequence[int]]]:
        """(file index, rows in file order) of the kept lines of these types (all when None), per file that has
        any; ``stores[file].texts(rows)`` reads them."""
        return self._rows(types)

    def _rows(self, types: Iterable[str] | None) -> list[tuple[int, Sequence[int]]]:
        codes = None if types is None else {self.types.index(t) for t in set(types) if t in self.types}
        out = []
        for f, store in enumerate(self.stores):
            rows = store.rows(codes)
            if rows:
                out.append((f, rows))
        return out

    def records(
        self,
        types: Iterable[str] | None = None,
        only: Mapping[str, Sequence[str]] | None = None,
        fold: bool = False,
        where: Callable[[bytes], bool] | None = None,
    ) -> list[Record]:
        """Decoded events in run order (ts, then rank, then seq), each with its file and line.

        ``only``: for these types keep just the envelope and the named fields (the rest of
        the line is skipped, never built: a long ``log`` message costs nothing).
        ``fold``: events of an ``only`` type that agree on file, run, rank and those fields are
        kept as two records, the first and the last, and ``event["_count"]`` says how many
        lines each stands for (they add up): memory stays bounded by the distinct values, not
        the number of lines, while the first and last times survive.
        ``where``: a test of each line's text; a line it rejects is not decoded (it may keep too
        much, never too little: the caller checks the decoded events).
        """
        make = self._maker(types, only, where)
        out: list[Record | None] = []
        groups: dict[tuple[Any, ...], list[int]] = {}  # key -> [index of first, index of last (-1: none)]
        for f, rows in self._rows(types):
            store = self.stores[f]
            numbers = store.numbers(rows)
            for (r, text), n in zip(store.texts(rows), numbers, strict=True):
                rec = make(f, n, r, text)
                if rec is None:
                    continue
                if fold and only and rec.event.get("event") in only and self._fold(out, groups, rec, only):
                    continue
                out.append(rec)
        kept = [r for r in out if r is not None] if groups else cast("list[Record]", out)  # None: folded away
        if len(self.files) > 1:
            kept.sort(key=Record.order)
        return kept

    def stream(
        self,
        types: Iterable[str] | None = None,
        only: Mapping[str, Sequence[str]] | None = None,
        where: Callable[[bytes], bool] | None = None,
    ) -> Iterator[Record]:
        """:meth:`records` one at a time, in the same order, never holding them all (a window of each file)."""
        return in_run_order(self.stores, self._rows(types), self._maker(types, only, where), len(self.files) > 1)

    def _maker(
        self,
        types: Iterable[str] | None,
        only: Mapping[str, Sequence[str]] | None,
        where: Callable[[bytes], bool] | None,
    ) -> Make:
        """A line's text → its record (None: ``where`` rejects it, or it is not an event, set aside with a
        warning); ``only``, ``where``: see :meth:`records`."""
        wanted = None if types is None else set(types)
        light = {t: _light_decoder(fs) for t, fs in (only or {}).items()}
        loads = orjson.loads

        def make(f: int, n: int, r: int, text: bytes) -> Record | None:
            if where is not None and not where(text):
                return None
            dec = light.get(self.types[self.stores[f].codes[r]]) if light else None
            try:
                ev = loads(text) if dec is None else dec.decode(text)
            except (orjson.JSONDecodeError, msgspec.DecodeError) as exc:
                ev = loads_lenient(text)  # json.dumps' bare NaN / Infinity: the value is kept
                if ev is None:
                    self._skip(f, n, f"not valid JSON ({short(exc)})")
                    return None
            if not isinstance(ev, dict) or too_deep(text, ev):
                self._skip(f, n, TOO_DEEP if isinstance(ev, dict) else f"a JSON {type(ev).__name__}, not an object")
                return None
            if wanted is not None and ev.get("event") not in wanted:  # checked at the scan; kept as a guard
                return None
            step, rank = ev.get("step"), ev.get("rank")
            if type(step) is float and step.is_integer():  # another writer's 2.0: step 2 for every command
                ev["step"] = int(step)
            if type(rank) is str:  # os.environ["RANK"]: rank 0
                ev["rank"] = as_rank(rank)
            return Record(f, n + 1, ev)

        return make

    @staticmethod
    def _fold(
        out: list[Record | None],
        groups: dict[tuple[Any, ...], list[int]],
        rec: Record,
        only: Mapping[str, Sequence[str]],
    ) -> bool:
        """Fold ``rec`` into its group's first/last pair (see :meth:`records`); False: keep it as it is."""
        ev = rec.event
        try:
            key = (rec.file, ev.get("event"), ev.get("run"), ev.get("rank"), *(ev.get(k) for k in only[ev["event"]]))
            hash(key)
        except (KeyError, TypeError):  # an unhashable value: not folded
            return False
        g = groups.get(key)
        if g is None:
            ev["_count"] = 1
            groups[key] = [len(out), -1]
            return False
        if g[1] < 0:
            ev["_count"] = 1
            g[1] = len(out)
            out.append(rec)
            return True
        last = out[g[1]]
        assert last is not None
        first = out[g[0]]
        assert first is not None
        first.event["_count"] += 1  # the previous last joins the first's count
        out[g[1]] = None
        ev["_count"] = 1
        g[1] = len(out)
        out.append(rec)
        return True

    def keys(self, event: str, field: str = "metrics") -> list[str]:
        """The keys of the object ``field`` across all events of one type, in first-seen order."""
        if (event, field) not in self._keys:
            dec = keys_decoder(field).decode
            seen: dict[str, None] = {}
            last: Any = None
            for f, rows in self._rows([event]):
                for _, text in self.stores[f].texts(rows):
                    try:
                        obj = dec(text).f0
                    except (msgspec.ValidationError, msgspec.DecodeError):
                        try:
                            whole = loads_lenient(text) if b"NaN" in text or b"Infinity" in text else orjson.loads(text)
                        except orjson.JSONDecodeError:
                            continue
                        obj = whole.get(field) if isinstance(whole, dict) else None
                    if isinstance(obj, dict) and obj and obj.keys() != last:
                        seen.update(dict.fromkeys(str(k) for k in obj))
                        last = obj.keys()
            self._keys[(event, field)] = list(seen)
        return self._keys[(event, field)]

    def frame(
        self, event: str, metrics: Sequence[str] | None = None, timing: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """One event type as a frame: ``file``, envelope, typed fields, ``metrics.*``/``timing.*`` as Float64.

        Args:
            event: the event type.
            metrics: decode only these ``metrics`` keys (all present keys when None).
            timing: the same for ``timing``.
        """
        picked = self._rows([event])
        if not picked:
            return pl.DataFrame()
        et = get_type(event)
        if is_free(et):
            return frame_from_records(self.stream([event]), self._note_odd)
        wanted = {"metrics": metrics, "timing": timing}
        keys = {
            name: list(wanted[name] or []) if wanted.get(name) is not None else self.keys(event, name)
            for name in map_fields(et)
        }
        dec = Decoder(et, keys)
        parts: list[pl.DataFrame] = []
        odd: dict[str, list[tuple[int, int]]] = {}
        strict = not map_fields(et)  # fields outside the schema are kept as columns: the forgiving path
        for f, rows in picked:
            store = self.stores[f]
            for i in range(0, len(rows), _SLICE):
                part = rows[i : i + _SLICE]
                texts = [t for _, ts in store.chunks(part) for t in ts]
                try:
                    objs = dec.decode(texts)
                    if strict and _foreign(texts, et):
                        raise msgspec.ValidationError("a field outside the schema")
                except (msgspec.ValidationError, msgspec.DecodeError):  # an odd value somewhere: the forgiving path
                    return frame_from_records(self.stream([event]), self._note_odd)
                chunk, bad = dec.columns(objs, [f] * len(part))
                parts.append(chunk)
                for col, where in bad.items():
                    odd.setdefault(col, []).extend((f, part[j]) for j in where)
        decoded = pl.concat(parts, how="vertical_relaxed")  # a chunk's Int128 (a value beyond int64) wins
        self._note_non_numbers(odd)
        return decoded.sort(["ts", "rank", "seq"], nulls_last=True, maintain_order=True)

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

    def _note_non_numbers(self, odd: Mapping[str, list[tuple[int, int]]]) -> None:
        """Name metric values that are present but not numbers, with their first lines."""
        for col, where in odd.items():
            self._note_odd(col, [(f, self.stores[f].numbers([r])[0] + 1) for f, r in where[:5]], len(where))

    def _note_odd(self, col: str, first: list[tuple[int, int]], count: int) -> None:
        """The note for ``count`` values of ``col`` that are not numbers, the first at these (file, line): lines
        alone for one file, ``path:line`` when there are several (a directory's rank files)."""
        several = len(self.files) > 1
        shown = ", ".join(f"{sanitize(self.files[f])}:{n}" if several else str(n) for f, n in first)
        more = " ..." if count > len(first) else ""
        self.note(
            f"{col}: {count} value(s) are not numbers ({'at' if several else 'line'} {shown}{more}); shown as empty"
        )

    def _skip(self, f: int, n: int, reason: str) -> None:
        """A line found unusable while decoding: kept, and told to ``warn`` (the load-time report is past)."""
        s = Skipped(self.files[f], n + 1, reason)
        if s not in self.skipped:
            self.skipped.append(s)
            if self.warn is not None:
                self.warn(f"{s.path}:{s.line}: {reason}; skipped")


def _light_decoder(fields: Sequence[str]) -> Any:
    """A decoder of the envelope and ``fields`` only, into a dict (absent fields stay absent; the rest of the
    line is skipped, never built)."""
    names = dict.fromkeys([*ENVELOPE_DTYPES, *fields])
    return msgspec.json.Decoder(TypedDict("Light", {n: Any for n in names}, total=False))  # type: ignore[misc,operator]


def _foreign(texts: Sequence[bytes], et: Any) -> bool:
    """Whether another writer added top-level fields the schema does not declare (kept as columns then)."""
    known = {*ENVELOPE_DTYPES, *(f.name for f in et.fields)}
    for text in texts:
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict) and not known.issuperset(obj):
            return True
    return False
