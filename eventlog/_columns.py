"""The per-step table: columns as data, one formatter, shared by console and CLI."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventlog._constants import decode_nonfinite
from eventlog._text import fmt_duration, fmt_fixed, label

__all__ = ["DEFAULT_COLUMNS", "PAIR_DENOM", "Column", "StepTable", "column_for", "lookup"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the step table.

    Args:
        key: ``step``, ``epoch``, a metric name, ``timing.NAME`` or ``metrics.NAME``.
        width: characters, right-aligned.
        header: the column title.
        fmt: ``d`` (int), ``fN`` (N decimals), ``eN`` (scientific), ``gN``
            (N significant digits), ``pct`` (0.5 → 50.0%), ``s`` (seconds as
            42s / 3.1m), ``frac`` (``n/d``: the value an ``(n, d)`` pair, or
            ``n`` with the ``denom`` key), or any Python format spec
            (``+.2f``, ``.1e``, ``>5d``). NaN shows ``nan``.
        description: the legend text.
        denom: for ``frac``, the key of the denominator.
        missing: what a cell without a value (None, an absent key) shows: ``nan`` on the
            console, as seed 003's table does; the CLI's tables show ``-``, so a missing
            value never reads as a NaN the run logged.
    """

    key: str
    width: int
    header: str
    fmt: str = "g4"
    description: str = ""
    denom: str | None = None
    missing: str = "nan"

    def format(self, row: Mapping[str, Any]) -> str:
        """The cell text for one step_metrics event (or flattened row)."""
        v = lookup(row, self.key)
        if v is None:
            text = self.missing
        elif self.fmt == "frac":
            d = lookup(row, self.denom) if self.denom else lookup(row, self.key + PAIR_DENOM)
            if isinstance(v, (list, tuple)) and len(v) == 2:
                v, d = v
            text = _plain(v, "d") if d is None else f"{_plain(v, 'd')}/{_plain(d, 'd')}"
            if len(text) > self.width and not _whole(v):  # a fractional epoch (0.25/3): the value alone
                text = _plain(v, "d")
            return text.rjust(self.width)  # a pair or a count too wide: whole, past the column (never cut)
        else:
            text = _plain(v, self.fmt)
        return _fit(text, self.width, v)

    def compile(self) -> Callable[[Mapping[str, Any]], str]:
        """:meth:`format` with the key path and number format chosen once: the same text, faster.

        A table formats thousands of rows with the same columns; the compiled cell takes
        plain ints and finite floats straight to their format spec and leaves every other
        value (None, NaN spellings, strings, bools, ``pct``, ``s``, Python specs) to the
        general code, so the text is byte-identical (tests/test_columns_compiled.py).
        """
        get = _getter(self.key)
        plain = _plain_for(self.fmt)
        width = self.width
        missing = self.missing
        if self.fmt != "frac":

            def cell(row: Mapping[str, Any]) -> str:
                v = get(row)
                text = missing if v is None else plain(v)
                return text.rjust(width) if len(text) <= width else _fit(text, width, v)

            return cell
        get_d = _getter(self.denom if self.denom else self.key + PAIR_DENOM)
        whole = _plain_for("d")

        def frac(row: Mapping[str, Any]) -> str:
            return _frac_cell(get(row), get_d(row), whole, width, missing)

        return frac

    def values(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """This column's value in each row, as :meth:`format` looks it up (None when absent)."""
        get = _getter(self.key)
        return [get(r) for r in rows]

    def cells(self, values: Sequence[Any], denoms: Sequence[Any] | None = None) -> list[str]:
        """:meth:`compile`'s text for each of a column's values (looked up by the caller), a column at a time.

        A column of plain numbers (ints, floats, None) is formatted by ``format`` in one pass;
        anything else takes the compiled path per value: the text is the same either way
        (tests/test_columns_compiled.py). A ``frac`` column needs each row's denominator too.

        Raises:
            ValueError: a ``frac`` column without ``denoms``.
        """
        width, missing, fmt = self.width, self.missing, self.fmt
        if fmt == "frac":
            if denoms is None:
                raise ValueError("cells() needs the denominators of a frac column")
            whole = _plain_for("d")
            return [_frac_cell(v, d, whole, width, missing) for v, d in zip(values, denoms, strict=True)]
        if fmt == "d" and _WHOLE.issuperset(map(type, values)):
            texts = [missing if v is None else str(v) for v in values]
        elif fmt[:1] in ("f", "e", "g") and _OWN_FMT.fullmatch(fmt) and _NUMBERS.issuperset(map(type, values)):
            spec = f".{int(fmt[1:] or '4')}{fmt[0]}"  # NaN and ±inf come out as _plain spells them
            texts = [missing if v is None else format(v, spec) for v in values]
            if fmt[0] == "f":  # a small value that fixed decimals write as 0.0000: as fmt_fixed writes it
                zeros = (format(0.0, spec), format(-0.0, spec))
                digits = int(fmt[1:] or "4")
                texts = [fmt_fixed(v, digits) if t in zeros and v else t for t, v in zip(texts, values, strict=True)]
        else:
            plain = _plain_for(fmt)
            texts = [missing if v is None else plain(v) for v in values]
        return [t.rjust(width) if len(t) <= width else _fit(t, width, v) for t, v in zip(texts, values, strict=True)]


def _frac_cell(v: Any, d: Any, whole: Callable[[Any], str], width: int, missing: str) -> str:
    """A ``frac`` cell of value ``v`` and denominator ``d``, as :meth:`Column.format` writes it (compiled)."""
    if v is None:
        return _fit(missing, width, None)
    if isinstance(v, (list, tuple)) and len(v) == 2:
        v, d = v
    text = whole(v) if d is None else f"{whole(v)}/{whole(d)}"
    if len(text) > width and not _whole(v):  # as format(): a fractional epoch's value alone
        text = whole(v)
    return text.rjust(width)  # as format(): a pair or a count too wide goes past the column, never cut


def _whole(v: Any) -> bool:
    """A whole number (a count: 128 of 256 keeps its pair, past the column if need be)."""
    return type(v) is int or (type(v) is float and v.is_integer())


def _fit(text: str, width: int, v: Any) -> str:
    """``text`` right-aligned in ``width``; a number too wide is written shorter (``1e+10``, ``-1.23e-05``) or,
    when even that does not fit, whole past the column: a number is never cut (``1000000…`` read as a million;
    seed 003's row() pads and never cuts). Text too wide is cut, with ``…``."""
    if len(text) <= width:
        return text.rjust(width)
    x = decode_nonfinite(v)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        if math.isfinite(x):
            for digits in (4, 3, 2):  # two significant digits at the least: 250000 is never 2e+05
                short = f"{x:.{digits}g}"
                if len(short) <= width:
                    return short.rjust(width)
        return text
    return text[: width - 1] + "…"


_MISSING = object()
_WHOLE = frozenset({int, type(None)})
_NUMBERS = frozenset({int, float, type(None)})


def _getter(key: str) -> Callable[[Mapping[str, Any]], Any]:
    """:func:`lookup` for one key, its dotted parts and ``metrics.KEY`` spelling computed once."""
    head, dot, tail = key.partition(".")
    flat = f"metrics.{key}"

    def get(row: Mapping[str, Any]) -> Any:
        v = row.get(key, _MISSING)
        if v is not _MISSING:
            return v
        if dot:
            sub = row.get(head)
            if type(sub) is dict or (sub is not None and isinstance(sub, Mapping)):  # the ABC check is slow
                return sub.get(tail)
        metrics = row.get("metrics")
        if (type(metrics) is dict or (metrics is not None and isinstance(metrics, Mapping))) and key in metrics:
            return metrics[key]
        return row.get(flat)

    return get


def _plain_for(fmt: str) -> Callable[[Any], str]:
    """:func:`_plain` for one format: exact ints and finite floats formatted directly, the rest by ``_plain``."""
    if fmt == "d":

        def whole(v: Any) -> str:
            t = type(v)
            if t is int:
                return str(v)
            if t is float and v.is_integer():  # finite and whole (a fractional one: _plain rounds it)
                return str(int(v))
            return _plain(v, "d")

        return whole
    if fmt[:1] in ("f", "e", "g") and _OWN_FMT.fullmatch(fmt):
        spec = f".{int(fmt[1:] or '4')}{fmt[0]}"
        digits = int(fmt[1:] or "4")

        def number(v: Any) -> str:
            t = type(v)
            if t is int or (t is float and v - v == 0.0):
                return fmt_fixed(v, digits) if fmt[0] == "f" else format(v, spec)
            return _plain(v, fmt)

        return number
    return lambda v: _plain(v, fmt)


PAIR_DENOM = "_denom"
"""An ``(n, d)`` metric ``k`` is stored as ``k = n`` and ``k_denom = d`` (numbers only in the file)."""
_OWN_FMT = re.compile(r"[feg]\d*|d|pct|s")


def _plain(v: Any, fmt: str) -> str:
    if v is None:
        return "nan"
    v = decode_nonfinite(v)
    if isinstance(v, str):
        return label(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return label(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if not _OWN_FMT.fullmatch(fmt):  # a Python format spec: +.2f, .1e, >5d...
        for x in (v, float(v)):
            try:
                return format(x, fmt)
            except ValueError:
                continue
        return f"{v:g}"
    if fmt == "d":
        return str(int(v)) if float(v).is_integer() else f"{round(v, 2):g}"  # a fractional epoch: 0.33
    if fmt == "pct":
        return f"{100 * v:.1f}%"
    if fmt == "s":
        return fmt_duration(v)
    kind, digits = fmt[:1], fmt[1:] or "4"
    if kind == "f":
        return fmt_fixed(v, int(digits))
    if kind == "e":
        return f"{v:.{int(digits)}e}"
    return f"{v:.{int(digits)}g}"


def lookup(row: Mapping[str, Any], key: str | None) -> Any:
    """Find ``key`` in a step_metrics event or a flattened row."""
    if key is None:
        return None
    if key in row:
        return row[key]
    if "." in key:
        head, _, tail = key.partition(".")
        sub = row.get(head)
        if isinstance(sub, Mapping):
            return sub.get(tail)
    metrics = row.get("metrics")
    if isinstance(metrics, Mapping) and key in metrics:
        return metrics[key]
    return row.get(f"metrics.{key}")


_KNOWN: tuple[Column, ...] = (
    Column("accuracy", 7, "acc", "f3", "share of correct rollouts"),
    Column("reward_std", 8, "r_std", "f3", "standard deviation of rollout rewards"),
    Column("clip_frac", 9, "clip_frac", "f3", "share of clipped policy ratios"),
)
DEFAULT_COLUMNS: tuple[Column, ...] = (
    Column("step", 7, "step", "frac", "training step / total steps", denom="total_steps"),
    Column("epoch", 5, "ep", "frac", "epoch / total epochs", denom="total_epochs"),
    Column("reward_mean", 8, "reward", "f4", "mean reward of the step's rollouts"),
    Column("loss", 9, "loss", "g4", "policy loss"),
    Column("kl", 9, "kl", "g3", "KL divergence to the reference policy"),
    Column("entropy", 7, "ent", "f3", "mean policy entropy"),
    Column("grad_norm", 8, "gnorm", "g3", "gradient norm before clipping"),
    Column("timing.step", 6, "time", "s", "wall time of the step"),
)
_BY_KEY = {c.key: c for c in (*DEFAULT_COLUMNS, *_KNOWN)}


def column_for(key: str) -> Column:
    """The declared column for ``key``, or a generic one for any metric."""
    if key in _BY_KEY:
        return _BY_KEY[key]
    if key.startswith("metrics.") and key[8:] in _BY_KEY:
        return _BY_KEY[key[8:]]
    header = key.split(".")[-1]
    return Column(key, max(8, min(14, len(header))), header, "s" if key.startswith("timing.") else "g4", key)


class StepTable:
    """Render step rows as fixed-width text, the header repeated every ``header_every`` rows."""

    def __init__(self, columns: Sequence[Column] | None = None, header_every: int = 20) -> None:
        self.columns = tuple(columns or DEFAULT_COLUMNS)
        self.header_every = header_every
        self._cells = tuple(c.compile() for c in self.columns)
        self._rows = 0

    def header(self) -> str:
        return " ".join(label(c.header)[: c.width].rjust(c.width) for c in self.columns)

    def row(self, row: Mapping[str, Any]) -> str:
        return " ".join([cell(row) for cell in self._cells])

    def stream(self, row: Mapping[str, Any]) -> list[str]:
        """The lines for the next row: the legend before the first row, the header when due."""
        lines = self.live_legend() if self._rows == 0 else []
        if self._rows % self.header_every == 0:
            lines.append(self.header())
        self._rows += 1
        lines.append(self.row(row))
        return lines

    def live_legend(self) -> list[str]:
        """Seed 003's legend: ``table columns:`` then `` header = description`` (described columns only)."""
        described = [c for c in self.columns if c.description]
        if not described:
            return []
        return ["table columns:", *(f" {label(c.header):>8} = {label(c.description)}" for c in described)]

    def legend(self) -> list[str]:
        w = max(len(label(c.header)) for c in self.columns)
        return [f"{label(c.header).rjust(w)}  {label(c.description or c.key)}" for c in self.columns]


def columns_from_keys(keys: Iterable[str | Column]) -> tuple[Column, ...]:
    """Columns for a list of keys such as ``["step", "loss", "timing.gen"]`` (a :class:`Column` stays as is)."""
    return tuple(k if isinstance(k, Column) else column_for(k) for k in keys)
