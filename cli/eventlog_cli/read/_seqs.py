"""Each file's ``seq`` numbers, summed up during the scan: gaps and duplicates without keeping the lines.

A file's seq numbers are kept as their count and the runs of consecutive distinct values
(``lo``..``hi``): one run for a healthy file, one more per gap. That is enough for
``Loaded.seq_problems`` (numbers missing between the first and the last, duplicates), so a
command that keeps only a few event types can still check every line's seq.

Which lines count: every line with an event type (a torn last line and damaged lines
without one do not). The seq is read from eventlog's own envelope by a pattern; any other
spelling is decoded with ``json_path_match``. A seq beyond 2**64-1, negative or not a
whole number is left unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl
else:
    from eventlog_cli._lazy import polars as pl

__all__ = ["PREFIX", "SEQ_PREFIX", "SeqRuns", "seq_parts"]

# The envelope opening a line: exact for the first keys of the top-level object (see ``_scan``).
PREFIX = r'^\s*\{\s*(?:"v"\s*:\s*\d+\s*,\s*"ts"\s*:\s*-?[0-9][0-9.eE+\-]*\s*,\s*)?"event"\s*:\s*"([^"\\]*)"'
# eventlog's own envelope, in its order: the seq without decoding the line (others: json_path_match).
SEQ_PREFIX = PREFIX + (r'\s*,\s*"run"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*"rank"\s*:\s*-?\d+\s*,\s*"seq"\s*:\s*(\d+)\s*[,}]')


def seq_parts(lf: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(count of readable seqs, their runs) of lines ``n``, ``line`` (every line, before any type filter)."""
    line = pl.col("line")
    fast = lf.select("n", "line", line.str.extract(SEQ_PREFIX, 2).alias("seq")).cache()
    odd = (  # another writer's spelling: a line has a type if its envelope or its decoded "event" says so
        fast.filter(pl.col("seq").is_null())
        .select(pl.when(pl.col("n") == 0).then(line.str.strip_prefix("\ufeff")).otherwise(line).alias("line"))
        .filter(line.str.contains(PREFIX) | line.str.json_path_match("$.event").is_not_null())
        .select(line.str.json_path_match("$.seq").alias("seq"))
    )
    values = (
        pl.concat([fast.filter(pl.col("seq").is_not_null()).select("seq"), odd])
        .select(pl.col("seq").cast(pl.UInt64, strict=False))
        .drop_nulls()
    )
    runs = (
        values.unique()
        .sort("seq")
        .with_columns((pl.col("seq") - pl.int_range(pl.len(), dtype=pl.UInt64)).alias("g"))
        .group_by("g")
        .agg(pl.col("seq").min().cast(pl.Int128).alias("lo"), pl.col("seq").max().cast(pl.Int128).alias("hi"))
        .select("lo", "hi")
    )
    return values.select(pl.len().alias("n")), runs


@dataclass
class SeqRuns:
    """One file's seq numbers so far: how many, and the runs of consecutive distinct values."""

    n: int = 0
    runs: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema={"lo": pl.Int128(), "hi": pl.Int128()}))

    def add(self, n: int, runs: pl.DataFrame) -> None:
        """Add a chunk's count and runs (merged with the runs so far: overlaps are duplicates)."""
        self.n += n
        if runs.height:
            self.runs = _merge(pl.concat([self.runs, runs.cast(pl.Int128)]))

    def problems(self, name: str) -> list[str]:
        """Numbers missing between the first and the last seq, and duplicate numbers."""
        if self.n == 0:
            return []
        u = int(self.runs.select((pl.col("hi") - pl.col("lo") + 1).sum()).item())
        lo, hi = int(self.runs["lo"].min()), int(self.runs["hi"].max())  # type: ignore[arg-type]
        out = []
        if hi - lo + 1 > u:
            out.append(f"{name}: {hi - lo + 1 - u} seq number(s) missing between {lo} and {hi} (events were lost)")
        if self.n > u:
            out.append(f"{name}: {self.n - u} duplicate seq number(s)")
        return out


def _merge(runs: pl.DataFrame) -> pl.DataFrame:
    """Overlapping or adjacent runs joined into one (Int128: no overflow next to 2**64-1)."""
    prev = pl.col("hi").cum_max().shift(1)
    return (
        runs.sort("lo")
        .with_columns((prev.is_null() | (pl.col("lo") > prev + 1)).cum_sum().alias("g"))
        .group_by("g", maintain_order=True)
        .agg(pl.col("lo").min(), pl.col("hi").max())
        .select("lo", "hi")
    )
