"""Loading eventlog JSONL with polars: one module shared by every command.

How (see PERF-NOTES.md): scan each file as lines, keep only the lines whose
text holds ``"event":"<type>"`` for the types asked for (plus lines with no
``"event":"`` at all, which are damaged or from another writer), find each
line's type from its prefix, then decode per type with an explicit dtype
built from the schema and the metric keys actually present. No schema is
guessed from the first rows, and only the selected lines are decoded.

Damaged lines are skipped and reported with their line numbers: a torn last
line is a note, anything else a warning; ``strict`` makes either an error.
"""

from __future__ import annotations

import glob
import gzip
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from eventlog._schema import get_type
from eventlog._values import as_number
from eventlog_cli._errors import CliError

__all__ = ["Loaded", "Skipped", "load", "resolve_paths"]

_PREFIX = r'^\{"v":\d+,"ts":[^,]*,"event":"([^"\\]*)"'
_KEY = r'"((?:[^"\\]|\\.)*)":'
_INT_KINDS = {"int"}
_NUM_KINDS = {"number"}
_FREE_KINDS = {"object", "any", "scalar", "number_lists"}  # decoded in Python, kept whole


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line that was not used, and why."""

    path: str
    line: int  # 1-based
    reason: str
    torn: bool = False


@dataclass
class Loaded:
    """The selected lines of one or more files, ready to decode."""

    lines: pl.DataFrame  # file (u32), n (u32, 0-based line), line (str), event (str)
    files: list[str]
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # values kept but not usable as numbers
    _keys: dict[tuple[str, str], list[str]] = field(default_factory=dict, repr=False)

    # --- decoding ----------------------------------------------------------

    def records(self, types: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Decoded events in run order (ts, then rank, then seq), with ``_file``/``_line``."""
        df = self._select(types)
        out: list[dict[str, Any]] = []
        loads = orjson.loads
        for f, n, line in zip(df["file"].to_list(), df["n"].to_list(), df["line"].to_list(), strict=True):
            try:
                ev = loads(line)
            except orjson.JSONDecodeError as exc:
                self._skip(f, n, f"not valid JSON ({_short(exc)})")
                continue
            if not isinstance(ev, dict):
                self._skip(f, n, f"a JSON {type(ev).__name__}, not an object")
                continue
            ev["_file"], ev["_line"] = f, n + 1
            out.append(ev)
        if len(self.files) > 1:
            out.sort(key=_order_key)
        return out

    def keys(self, event: str, field: str = "metrics") -> list[str]:
        """The keys of the object ``field`` across all events of one type, without decoding them."""
        if (event, field) not in self._keys:
            df = self._select([event])
            self._keys[(event, field)] = _object_keys(df["line"], field) if df.height else []
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
        if et is None or et.extra is not None or any(f.kind in _FREE_KINDS for f in et.fields):
            return _frame_from_records(self.records([event]), self.note)
        nested = [f.name for f in et.fields if f.kind == "numbers"]
        wanted = {"metrics": metrics, "timing": timing}
        keys = {
            name: list(wanted[name] or []) if wanted.get(name) is not None else self.keys(event, name)
            for name in nested
        }
        dtype = _dtype(et, keys)
        try:
            decoded = df.select("file", "n", pl.col("line").str.json_decode(dtype).alias("ev")).unnest("ev")
        except pl.exceptions.PolarsError:  # a value of an unexpected type somewhere: the forgiving path
            return _frame_from_records(self.records([event]), self.note)
        exprs = []
        for f in et.fields:
            if f.kind in _NUM_KINDS and f.name in decoded.columns:
                exprs.append(_to_float(pl.col(f.name)).alias(f.name))
            elif f.kind == "number_list" and f.name in decoded.columns:
                exprs.append(pl.col(f.name).list.eval(_to_float(pl.element())).alias(f.name))
        decoded = decoded.with_columns(exprs) if exprs else decoded
        for name in nested:
            if name in decoded.columns and keys[name]:
                text = decoded.select("n", *[pl.col(name).struct.field(k).alias(f"{name}.{k}") for k in keys[name]])
                self._note_non_numbers(text)
                decoded = decoded.with_columns(
                    [_to_float(pl.col(name).struct.field(k)).alias(f"{name}.{k}") for k in keys[name]]
                ).drop(name)
            elif name in decoded.columns:
                decoded = decoded.drop(name)
        decoded = decoded.filter(pl.col("event") == event)
        return decoded.sort(["ts", "rank", "seq"], nulls_last=True, maintain_order=True)

    def seq_problems(self) -> list[str]:
        """Gaps and duplicates in each file's ``seq`` (over the lines loaded)."""
        seqs = self.lines.select("file", pl.col("line").str.extract(r',"seq":(\d+)').cast(pl.Int64).alias("seq"))
        stats = (
            seqs.drop_nulls()
            .group_by("file")
            .agg(
                pl.len().alias("n"),
                pl.col("seq").n_unique().alias("u"),
                pl.col("seq").min().alias("lo"),
                pl.col("seq").max().alias("hi"),
            )
            .sort("file")
        )
        out = []
        for f, n, u, lo, hi in stats.iter_rows():
            if hi - lo + 1 > u:
                out.append(
                    f"{self.files[f]}: {hi - lo + 1 - u} seq number(s) missing between {lo} and {hi} (events were lost)"
                )
            if n > u:
                out.append(f"{self.files[f]}: {n - u} duplicate seq number(s)")
        return out

    def note(self, text: str) -> None:
        """Warn on stderr, once per distinct note (found while decoding, after report())."""
        if text not in self.notes:
            self.notes.append(text)
            sys.stderr.write(f"warning: {text}\n")

    def _note_non_numbers(self, text: pl.DataFrame) -> None:
        """Name metric values that are present but not numbers (they read as null)."""
        cols = [c for c in text.columns if c != "n"]
        bad = text.select("n", *[(pl.col(c).is_not_null() & _to_float(pl.col(c)).is_null()).alias(c) for c in cols])
        counts = bad.select(pl.col(cols).sum()).row(0)
        for c, k in zip(cols, counts, strict=True):
            if k:
                lines = (bad.filter(pl.col(c))["n"].head(5) + 1).to_list()
                shown = ", ".join(map(str, lines)) + (" ..." if k > 5 else "")
                self.note(f"{c}: {k} value(s) are not numbers (line {shown}); shown as empty")

    def _select(self, types: Iterable[str] | None) -> pl.DataFrame:
        if types is None:
            return self.lines
        return self.lines.filter(pl.col("event").is_in(list(types)))

    def _skip(self, f: int, n: int, reason: str) -> None:
        self.skipped.append(Skipped(self.files[f], n + 1, reason))

    # --- reporting ---------------------------------------------------------

    def report(self, strict: bool = False) -> None:
        """Print what was skipped on stderr; raise CliError when ``strict``."""
        torn = [s for s in self.skipped if s.torn]
        bad = sorted({(s.path, s.line, s.reason) for s in self.skipped if not s.torn})
        for s in torn:
            sys.stderr.write(f"note: {s.path}:{s.line}: {s.reason}; skipped\n")
        if bad:
            shown = "; ".join(f"{Path(p).name}:{n} ({r})" for p, n, r in bad[:5])
            more = f"; and {len(bad) - 5} more (eventlog validate lists all)" if len(bad) > 5 else ""
            sys.stderr.write(f"warning: {len(bad)} damaged line(s) skipped: {shown}{more}\n")
        if strict and (bad or torn):
            msg = f"{len(bad) + len(torn)} line(s) skipped and --strict is set"
            raise CliError(msg)


def _order_key(ev: dict[str, Any]) -> tuple[float, int, int]:
    ts, rank, seq = ev.get("ts"), ev.get("rank"), ev.get("seq")
    return (
        ts if isinstance(ts, (int, float)) else float("inf"),
        rank if isinstance(rank, int) else 0,
        seq if isinstance(seq, int) else 0,
    )


def _short(exc: Exception) -> str:
    return str(exc).split(":")[0][:60]


def _to_float(e: pl.Expr) -> pl.Expr:
    """Numbers decoded as text ("0.5", "NaN", "Infinity") → Float64."""
    return e.cast(pl.String).cast(pl.Float64, strict=False)


def _object_keys(lines: pl.Series, name: str) -> list[str]:
    """Every key of the flat object ``name`` across all lines, in first-seen order."""
    body = lines.str.extract(rf'"{re.escape(name)}":\{{([^{{}}]*)\}}')
    keys = body.str.extract_all(_KEY).explode().drop_nulls().unique(maintain_order=True).to_list()
    out = []
    for match in keys:  # extract_all gives whole matches: '"name":'
        k = match[1:-2]
        out.append(orjson.loads(f'"{k}"') if "\\" in k else k)
    return list(dict.fromkeys(out))


def _dtype(et: Any, keys: dict[str, list[str]]) -> pl.Struct:
    fields: dict[str, pl.DataType] = {
        "v": pl.Int64(),
        "ts": pl.Float64(),
        "event": pl.String(),
        "run": pl.String(),
        "rank": pl.Int64(),
        "seq": pl.Int64(),
    }
    for f in et.fields:
        if f.kind in _INT_KINDS:
            fields[f.name] = pl.Int64()
        elif f.kind in _NUM_KINDS or f.kind == "string":
            fields[f.name] = pl.String()
        elif f.kind == "bool":
            fields[f.name] = pl.Boolean()
        elif f.kind == "numbers":
            fields[f.name] = pl.Struct({k: pl.String() for k in keys.get(f.name, [])})
        elif f.kind == "ints":
            fields[f.name] = pl.List(pl.Int64())
        elif f.kind in ("strings", "number_list"):
            fields[f.name] = pl.List(pl.String())
    return pl.Struct(fields)


def _frame_from_records(records: list[dict[str, Any]], note: Callable[[str], None] | None = None) -> pl.DataFrame:
    """The slow, forgiving path: flatten dicts in Python (unknown types, odd values).

    A metric value that is not a number becomes null and is passed to ``note``
    with its line, never dropped silently.
    """
    rows = []
    odd: dict[str, list[int]] = {}
    for ev in records:
        row: dict[str, Any] = {}
        for k, v in ev.items():
            if k in ("_file", "_line"):
                continue
            if isinstance(v, dict) and k in ("metrics", "timing"):
                for mk, mv in v.items():
                    row[f"{k}.{mk}"] = x = as_number(mv)
                    if x is None and mv is not None:
                        odd.setdefault(f"{k}.{mk}", []).append(ev.get("_line", 0))
            elif isinstance(v, (dict, list)):
                row[k] = orjson.dumps(v).decode()
            else:
                row[k] = v
        rows.append(row)
    for col, where in odd.items():
        if note is not None:
            shown = ", ".join(str(n) for n in where[:5]) + (" ..." if len(where) > 5 else "")
            note(f"{col}: {len(where)} value(s) are not numbers (line {shown}); shown as empty")
    if not rows:
        return pl.DataFrame()
    cols = list(dict.fromkeys(k for r in rows for k in r))
    data = {c: [r.get(c) for r in rows] for c in cols}
    series = []
    for c, vals in data.items():
        try:
            s = pl.Series(c, vals, strict=False)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            s = pl.Series(c, [None if v is None else str(v) for v in vals], dtype=pl.String)
        series.append(s)
    return pl.DataFrame(series)


# --- finding and reading files ------------------------------------------------------


def resolve_paths(paths: Sequence[str]) -> list[str]:
    """Files for the given paths (files, run directories, globs, ``-``); the newest run when none."""
    if not paths:
        newest = _newest_run(Path("runs"))
        sys.stderr.write(f"using {newest} (the newest run under ./runs)\n")
        paths = [str(newest)]
    files: list[str] = []
    for p in paths:
        if p == "-":
            files.append("-")
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted(str(x) for x in path.iterdir() if x.name.endswith((".jsonl", ".jsonl.gz")))
            if not found:
                msg = f"{p}: no *.jsonl files in this directory; pass a run directory or a .jsonl file"
                raise CliError(msg)
            files.extend(found)
        elif path.is_file():
            files.append(str(path))
        elif any(c in p for c in "*?["):
            matched = sorted(glob.glob(p))
            if not matched:
                msg = f"{p}: the pattern matches no file"
                raise CliError(msg)
            files.extend(matched)
        else:
            msg = f"{p}: no such file or directory"
            raise CliError(msg)
    return files


def _newest_run(root: Path) -> Path:
    runs = [d for d in root.iterdir() if d.is_dir() and any(d.glob("*.jsonl*"))] if root.is_dir() else []
    if not runs:
        msg = "no path given and no run under ./runs; pass a run directory or a .jsonl file"
        raise CliError(msg)
    return max(runs, key=lambda d: max(f.stat().st_mtime for f in d.glob("*.jsonl*")))


def _raw(path: str) -> bytes | None:
    """Bytes for stdin and gzip files; None means polars can read the path itself."""
    if path == "-":
        return sys.stdin.buffer.read()
    if path.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (OSError, EOFError) as exc:
            msg = f"{path}: cannot decompress ({exc}); is it a complete gzip file?"
            raise CliError(msg) from None
    return None


def _python_lines(path: str, raw: bytes | None, skipped: list[Skipped]) -> pl.LazyFrame:
    """The slow path for files that are not valid UTF-8: bad lines become blank and are reported."""
    data = raw if raw is not None else Path(path).read_bytes()
    first = 0
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    text = []
    for i, b in enumerate(lines):
        try:
            text.append(b.decode("utf-8"))
        except UnicodeDecodeError as exc:
            skipped.append(Skipped(path, first + i + 1, f"invalid UTF-8 at byte {exc.start}"))
            text.append("")
    return pl.LazyFrame({"n": pl.Series(range(first, first + len(text)), dtype=pl.UInt32), "line": text})


def _torn_tail(path: str, raw: bytes | None) -> tuple[int, str] | None:
    """(0-based index, text) of an incomplete last line, or None when the file ends cleanly."""
    if raw is not None:
        data = raw
    else:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size == 0:
                return None
            f.seek(max(0, size - (1 << 20)))
            data = f.read()
    if not data or data.endswith(b"\n"):
        return None
    tail = data.rsplit(b"\n", 1)[-1]
    try:
        orjson.loads(tail.strip().lstrip(b"\xef\xbb\xbf") or b"{}")
        return None
    except orjson.JSONDecodeError:
        pass
    if raw is not None:
        index = data.count(b"\n")
    else:
        index = pl.scan_lines(path).select(pl.len()).collect().item() - 1
    return index, tail.decode("utf-8", "replace")


_EMPTY = pl.DataFrame(schema={"file": pl.UInt32, "n": pl.UInt32, "line": pl.String, "event": pl.String})


def load(paths: Sequence[str], types: Iterable[str] | None = None, contains: str | None = None) -> Loaded:
    """Read the files, keeping only the lines of ``types`` (all when None).

    ``contains``: also keep only lines holding this literal text (a cheap
    pre-filter, e.g. ``'"accuracy":'`` when one metric is asked for).

    Raises:
        CliError: a path does not exist or cannot be read.
    """
    files = resolve_paths(paths)
    wanted = sorted(set(types)) if types is not None else None
    frames: list[pl.DataFrame] = []
    skipped: list[Skipped] = []
    for idx, path in enumerate(files):
        try:
            raw = _raw(path)
            torn = _torn_tail(path, raw)
            if torn is not None:
                skipped.append(Skipped(path, torn[0] + 1, _why(torn[1], True), True))
            src: Any = raw if raw is not None else path
            try:
                df = _typed_lines(pl.scan_lines(src, row_index_name="n"), idx, wanted, path, skipped, contains)
            except pl.exceptions.ComputeError:  # invalid UTF-8 somewhere: decode line by line
                df = _typed_lines(_python_lines(path, raw, skipped), idx, wanted, path, skipped, contains)
            if torn is not None:
                df = df.filter(pl.col("n") != torn[0])
            frames.append(df)
        except OSError as exc:
            msg = f"{path}: cannot read ({exc.strerror or exc})"
            raise CliError(msg) from None
    names = ["stdin" if f == "-" else f for f in files]
    skipped = [Skipped("stdin" if s.path == "-" else s.path, s.line, s.reason, s.torn) for s in skipped]
    return Loaded(pl.concat(frames) if frames else _EMPTY, names, skipped)


def _typed_lines(
    lf: pl.LazyFrame,
    idx: int,
    wanted: list[str] | None,
    path: str,
    skipped: list[Skipped],
    contains: str | None = None,
) -> pl.DataFrame:
    line = pl.col("line")
    if wanted is not None:  # select before touching the text: nothing else is copied
        marks = [f'"event":"{t}"' for t in wanted]
        typed = line.str.contains_any(marks)
        if contains is not None:
            typed = typed & line.str.contains(contains, literal=True)
        # Lines without "event":" are damaged or foreign: always kept, so they are reported.
        lf = lf.filter(typed | ~line.str.contains('"event":"', literal=True))
    # scan_lines already drops the \r of CRLF; a BOM can only open line 0; blank lines are skipped silently.
    df = (
        lf.with_columns(pl.when(pl.col("n") == 0).then(line.str.strip_prefix("\ufeff")).otherwise(line).alias("line"))
        .filter(line.str.len_bytes() > 0)
        .with_columns(
            pl.lit(idx, dtype=pl.UInt32).alias("file"),
            pl.col("n").cast(pl.UInt32),
            line.str.extract(_PREFIX).alias("event"),
        )
        .collect()
    )
    missing = df.filter(pl.col("event").is_null())
    if missing.height:
        fixed = missing.with_columns(pl.col("line").str.json_path_match("$.event").alias("event"))
        df = pl.concat([df.filter(pl.col("event").is_not_null()), fixed]).sort("n")
        seen = {(s.path, s.line) for s in skipped}
        for n, text in fixed.filter(pl.col("event").is_null()).select("n", "line").iter_rows():
            if (path, n + 1) not in seen:
                skipped.append(Skipped(path, n + 1, _why(text, False)))
    df = df.filter(pl.col("event").is_not_null())
    if wanted is not None:
        df = df.filter(pl.col("event").is_in(wanted))
    return df.select("file", "n", "line", "event")


def _why(text: str, torn: bool) -> str:
    if torn:
        return "the last line is incomplete (the run is still writing, or was killed)"
    if "\x00" in text:
        return "NUL bytes"
    try:
        v = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return f"not valid JSON ({_short(exc)})"
    if not isinstance(v, dict):
        return f"a JSON {'array' if isinstance(v, list) else 'scalar'}, not an object"
    return 'no "event" field'
