"""The line scan: which lines of each file may be of the types asked for, checked and indexed.

Two ways to select, both keeping too much rather than too little (see PERF-NOTES.md):

* **find** (a few types, no seq check): each file is mapped a window at a time and searched
  for the quoted type names (or for the quoted ``contains`` text, then a type name in the
  same line): ``_find`` says what it keeps and why. A damaged line is reported when it is
  among the selected ones (``validate`` reads every line).
* **every line** (no types, or every line's seq summed up): polars reads each window as lines
  and finds every line's type by its envelope prefix or ``json_path_match`` (``_lines``);
  lines without any ``"event"`` are kept so that they are reported.

Each selected line is then checked whole (msgspec, reading only its top-level ``event``): a
line that is not JSON, not an object or not UTF-8 is set aside as :class:`Skipped` with its
line number (before any output), and the type is the one the line really has. What is kept
is an index into the file (``_store.FileLines``), never the text: memory is bounded by one
window. Stdin, pipes and gzip files are read as line-aligned chunks (``_paths.chunks``) and
their kept lines copied to a spool file.

With ``seqs``, every line's seq (whatever its type) is summed up in the same pass
(``_seqs.SeqRuns``). A torn last line is marked ``torn`` (the run is still writing, or was
killed), anything else is damage.
"""

from __future__ import annotations

import functools
import mmap
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventlog._text import sanitize
from eventlog_cli.errors import DataError
from eventlog_cli.read._decode import known_keys
from eventlog_cli.read._find import find_lines, no_cr
from eventlog_cli.read._lines import every_line
from eventlog_cli.read._paths import chunks, resolve_paths
from eventlog_cli.read._record import Skipped
from eventlog_cli.read._seqs import PREFIX, SeqRuns
from eventlog_cli.read._store import WINDOW, FileLines
from eventlog_cli.read._why import TOO_DEEP, loads_lenient, torn_tail, torn_text, why

if TYPE_CHECKING:
    import msgspec
    import polars as pl
else:
    from eventlog_cli._lazy import msgspec
    from eventlog_cli._lazy import polars as pl

__all__ = ["PREFIX", "Scanned", "Skipped", "empty", "scan"]

_BOM = b"\xef\xbb\xbf"
_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)  # a window is read whole: map its pages at once
_MAX_NEEDLES = 4  # more types than this: one polars pass beats a find pass per type
_REBUILDS = 32  # a type whose keys changed more often than this is read the general way


MAPS = ("metrics", "timing")  # the maps whose keys the scan collects (other names: ``Loaded.keys`` reads them)


@functools.cache
def _head() -> Any:
    """The decoder of what the scan reads of a line: its type and its maps (whatever they hold)."""
    fields = [("event", Any, None), *((name, Any, None) for name in MAPS)]
    return msgspec.json.Decoder(msgspec.defstruct("Head", fields))


def empty() -> pl.DataFrame:
    """The lines frame of no files (built on use: polars is imported lazily)."""
    return pl.DataFrame(schema={"file": pl.UInt32, "n": pl.UInt32, "line": pl.String, "event": pl.String})


@dataclass
class Scanned:
    """What ``scan`` found: each file's kept lines, the type names their codes stand for, what was set aside."""

    stores: list[FileLines]
    names: list[str]
    types: list[str]
    skipped: list[Skipped]
    seqs: list[SeqRuns] | None
    keys: dict[tuple[str, str], list[str]]  # (type, map) → its keys in first-seen order


class _Scan:
    """One scan's state: the types wanted, the type codes given out, the lines set aside."""

    def __init__(self, wanted: list[str] | None, contains: str | None) -> None:
        self.wanted = wanted
        self.wanted_set = set(wanted) if wanted is not None else None
        self.contains = contains
        self.types: list[str] = []
        self.codes: dict[str, int] = {}
        self.skipped: list[Skipped] = []
        self.pending: list[tuple[FileLines, str, int, str]] = []  # lines set aside before their number is known
        self.keys: dict[tuple[str, str], dict[str, None]] = {}
        self._last: dict[tuple[str, str], Any] = {}
        self._changes: dict[str, int] = {}  # type → how often its maps' keys grew
        self._known: dict[str, tuple[int, Any]] = {}  # type → (its changes then, its ``known_keys`` decoder)

    def code(self, event: str) -> int:
        if (c := self.codes.get(event)) is None:
            c = self.codes[event] = len(self.types)
            self.types.append(event)
        return c

    def check(self, text: bytes) -> tuple[str | None, str | None]:
        """(the line's event type, or None and why it is unusable; both None: blank or another type)."""
        if not text:
            return None, None
        if not text.isascii():
            try:
                text.decode("utf-8")
            except UnicodeDecodeError as exc:
                return None, f"invalid UTF-8 at byte {exc.start}"
        try:
            head = _head().decode(text)
            event, maps = head.event, (head.metrics, head.timing)
        except (msgspec.ValidationError, RecursionError) as exc:  # RecursionError: msgspec's depth limit
            return None, TOO_DEEP if isinstance(exc, RecursionError) else why(text.decode("utf-8", "replace"), False)
        except msgspec.DecodeError:
            obj = loads_lenient(text)  # json.dumps' bare NaN / Infinity: the line is kept
            if not isinstance(obj, dict):
                return None, why(text.decode("utf-8", "replace"), False)
            event, maps = obj.get("event"), (obj.get("metrics"), obj.get("timing"))
        if not isinstance(event, str):
            return None, 'no "event" field'
        if self.wanted_set is not None and event not in self.wanted_set:
            return None, None
        for name, m in zip(MAPS, maps, strict=True):
            if isinstance(m, dict) and m:
                key = (event, name)
                ks = m.keys()
                if ks != self._last.get(key):
                    seen = self.keys.setdefault(key, {})
                    had = len(seen)
                    seen.update(dict.fromkeys(str(k) for k in m))
                    if len(seen) != had:
                        self._changes[event] = self._changes.get(event, 0) + 1
                    self._last[key] = ks
        return event, None

    def known(self, event: str) -> tuple[str, int, Any] | None:
        """(type, code, ``_decode.known_keys`` decoder) of the lines of ``event`` that bring no new key."""
        changes = self._changes.get(event, 0)
        got = self._known.get(event)
        if got is None or got[0] != changes:
            ok = changes <= _REBUILDS  # keys that keep changing: a decoder per line would cost more than it saves
            got = self._known[event] = (
                changes,
                known_keys([(n, list(self.keys.get((event, n), ()))) for n in MAPS]) if ok else None,
            )
        return None if got[1] is None else (event, self.code(event), got[1])

    def keep(self, store: FileLines, off: int, text: bytes, n: int) -> None:
        """Check one selected line and index it (or set it aside); ``n`` is -1 when not counted."""
        if off == 0 and text.startswith(_BOM):
            off, text = 3, text[3:]
        event, bad = self.check(text)
        if event is not None:
            if store.spool is not None:
                store.add_text(text, n, self.code(event))
            else:
                store.add(off, len(text), n, self.code(event))
        elif bad is not None:
            if n >= 0:
                self.skipped.append(Skipped(store.path, n + 1, bad))
            else:
                self.pending.append((store, store.path, off, bad))

    def keep_spans(self, store: FileLines, buf: Any, base: int, spans: list[tuple[int, int]]) -> None:
        """``keep`` for the lines ``buf[s:e]`` of a mapped window at ``base``: the same checks, one call a window.

        The common line (ASCII, a JSON object of the type of the line before, its map keys all
        seen before) costs one decode that builds none of its maps; the next most common (a
        JSON object of a wanted type whose map keys are the last line's of its type) one
        decode and a few comparisons; anything else goes through :meth:`keep`, which sets it
        aside or records its new keys.
        """
        dec = _head().decode
        wanted, last, codes, keep, add = self.wanted_set, self._last, self.codes, self.keep, store.add
        known = None  # (type, code, decoder): the line before's type, with the keys known of it
        for s, e in spans:
            text = buf[s:e]
            if text[-1:] == b"\r":
                text = text[:-1]
            off = base + s
            if off == 0 or not text or not text.isascii():
                keep(store, off, text, -1)
                continue
            if known is not None:
                try:
                    if known[2](text).event == known[0]:
                        add(off, len(text), -1, known[1])
                        continue
                except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):  # new key, other type, odd
                    pass
            try:
                head = dec(text)
            except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
                keep(store, off, text, -1)
                continue
            event, m, t = head.event, head.metrics, head.timing
            if type(event) is not str:
                keep(store, off, text, -1)
                continue
            if wanted is not None and event not in wanted:
                continue
            if (type(m) is dict and m and m.keys() != last.get((event, "metrics"))) or (
                type(t) is dict and t and t.keys() != last.get((event, "timing"))
            ):
                keep(store, off, text, -1)  # new keys: recorded there
            else:
                code = codes.get(event)
                add(off, len(text), -1, self.code(event) if code is None else code)
            known = self.known(event)

    def find(self, buf: Any, start: int, end: int) -> list[tuple[int, int]]:
        """(start, end) of the lines of ``buf[start:end]`` that may be of the wanted types (``_find``)."""
        assert self.wanted is not None  # the find way is taken for a few named types only
        return find_lines(self.wanted, self.contains, buf, start, end)

    def number_pending(self) -> None:
        """Line numbers for the lines set aside in a plain file (one count of its newlines)."""
        for store in dict.fromkeys(p[0] for p in self.pending):
            mine = sorted((p for p in self.pending if p[0] is store), key=lambda p: p[2])
            for (_, path, _, bad), n in zip(mine, store.count_lines([p[2] for p in mine]), strict=True):
                self.skipped.append(Skipped(path, n + 1, bad))
        self.pending.clear()


def scan(
    paths: Sequence[str], types: Iterable[str] | None = None, contains: str | None = None, seqs: bool = False
) -> Scanned:
    """Read the files, keeping only the lines of ``types`` (all when None).

    Args:
        paths: files, run directories, globs or ``-`` (see ``resolve_paths``).
        types: event types to keep.
        contains: also keep only lines that may hold this literal text, e.g. a JSON-quoted
            key ``'"accuracy"'`` (a pre-filter: lines that hold an escape are kept too, as
            they may spell it differently; the caller re-checks after decoding).
        seqs: also sum up every line's ``seq`` (of any type), file by file, during the scan.

    Raises:
        DataError: a path does not exist or cannot be read.
    """
    files = resolve_paths(paths)
    wanted = sorted(set(types)) if types is not None else None
    state = _Scan(wanted, contains)
    stores: list[FileLines] = []
    runs = [SeqRuns() for _ in files] if seqs else None
    for idx, path in enumerate(files):
        seq = runs[idx] if runs is not None else None
        try:
            parts = chunks(path)
            store = FileLines(path, streamed=parts is not None)
            stores.append(store)
            if parts is None:
                _scan_file(state, store, path, idx, seq)
            else:
                _scan_stream(state, store, parts, path, idx, seq)
        except OSError as exc:
            msg = f"{sanitize(path)}: cannot read ({exc.strerror or exc})"
            raise DataError(msg) from None
    state.number_pending()
    names = ["stdin" if f == "-" else f for f in files]
    skipped = [Skipped("stdin" if s.path == "-" else s.path, s.line, s.reason, s.torn) for s in state.skipped]
    keys = {k: list(v) for k, v in state.keys.items()}
    return Scanned(stores, names, state.types, skipped, runs, keys)


def _by_find(state: _Scan, seq: SeqRuns | None) -> bool:
    return state.wanted is not None and seq is None and 0 < len(state.wanted) <= _MAX_NEEDLES


def _scan_file(state: _Scan, store: FileLines, path: str, idx: int, seq: SeqRuns | None) -> None:
    """A plain file, one mapped window at a time (its pages released after each)."""
    with open(path, "rb") as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        stop = size
        torn = torn_tail(f, size)
        if torn is not None:
            stop = torn[0]
            n = next(store.count_lines([stop]))
            state.skipped.append(Skipped(path, n + 1, why(torn[1], True), True))
        first = 0  # line number of the window's first line (every-line way only)
        for mm, start, end, base in _windows(fd, stop):
            if _by_find(state, seq):
                state.keep_spans(store, mm, base, state.find(mm, start, end))
                continue
            data = mm[start:end]
            for n, off, text in every_line(data, idx, state, path, first, seq):
                state.keep(store, base + start + off, text, n)
            first += data.count(b"\n")


def _windows(fd: int, stop: int) -> Iterator[tuple[mmap.mmap, int, int, int]]:
    """(mapping, start, end, base): line-aligned windows of ``[0, stop)``, one mapping alive at a time."""
    pos = 0
    while pos < stop:
        base = pos - pos % mmap.ALLOCATIONGRANULARITY
        span = WINDOW
        while True:
            hi = min(stop, base + span)
            mm = mmap.mmap(fd, hi - base, flags=_FLAGS, prot=mmap.PROT_READ, offset=base)
            end = hi - base
            if hi < stop:
                k = mm.rfind(b"\n", pos - base, end)
                if k < 0:  # a line longer than the window: map more
                    mm.close()
                    span *= 2
                    continue
                end = k + 1
            break
        try:
            yield mm, pos - base, end, base
        finally:
            mm.close()
        pos = base + end


def _scan_stream(
    state: _Scan, store: FileLines, parts: Iterator[bytes], path: str, idx: int, seq: SeqRuns | None
) -> None:
    """Stdin, a pipe or a gzip file, chunk by chunk: the kept lines are copied to the spool."""
    first = 0
    for chunk in parts:
        data = chunk
        if not data.endswith(b"\n"):  # only the last chunk can end without a newline
            torn = torn_text(data)
            if torn is not None:
                cut = data.rfind(b"\n") + 1
                state.skipped.append(Skipped(path, first + data.count(b"\n", 0, cut) + 1, why(torn, True), True))
                data = data[:cut]
        if _by_find(state, seq):
            counted, n = 0, first
            for s, e in state.find(data, 0, len(data)):
                n += data.count(b"\n", counted, s)
                counted = s
                state.keep(store, -1 if first or s else 0, no_cr(data[s:e]), n)
        else:
            for n, off, text in every_line(data, idx, state, path, first, seq):
                state.keep(store, -1 if first or off else 0, text, n)
        first += chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
