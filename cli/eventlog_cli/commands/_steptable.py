"""The step table on a terminal: readable unique headers, run/rank columns, blocks that fit the width.

* Headers: a declared column keeps its short header (``reward``, ``gnorm``); any other
  metric shows its name, shortened from the left at ``/`` or ``.`` (``…accuracy_reward/mean``)
  only when longer than :data:`MAX_HEADER`, and never to a header another column has.
* Width: the leading columns (run, rank, step) repeat in every block; the others are packed
  into blocks no wider than the terminal (``COLUMNS``), so 40 metrics never make a
  500-character line.
* Markers: a line before the first row after a resume.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from eventlog._columns import PAIR_DENOM, Column
from eventlog._text import label
from eventlog_cli.query.columns import FIELDS, column_for

__all__ = ["MAX_HEADER", "headers", "step_columns", "step_lines"]

MAX_HEADER = 24
Values = Callable[[str], Sequence[Any]]  # a key's value in every row, in row order


def _tails(key: str) -> list[str]:
    """``a/b/c`` → ``a/b/c``, ``…b/c``, ``…c``: shorter and shorter tails at ``/`` or ``.``."""
    out = [key]
    for i, ch in enumerate(key):
        if ch in "/." and i + 1 < len(key):
            out.append("…" + key[i + 1 :])
    return out


def _common(names: Sequence[str]) -> int:
    """How many characters of ``/``-separated leading parts every name shares (0 for fewer than two)."""
    if len(names) < 2:
        return 0
    parts = [n.split("/") for n in names]
    k = 0
    while all(len(p) > k + 1 and p[k] == parts[0][k] for p in parts):
        k += 1
    return sum(len(x) + 1 for x in parts[0][:k])


def headers(keys: Sequence[str]) -> list[str]:
    """Unique, readable headers for metric keys (see the module docstring).

    A ``/`` prefix every column shares (``train/``) is shown as ``…``; a name still longer
    than :data:`MAX_HEADER` loses leading parts (``…accuracy_reward/mean``).
    """
    names = [key if key.removeprefix("metrics.") in FIELDS else key.removeprefix("metrics.") for key in keys]
    cut = _common(names)  # the metric "step" is headed metrics.step, never step
    chosen: list[str] = []
    for name in names:
        tails = _tails(name)
        if cut:
            tails = ["…" + name[cut:], *(t for t in tails if len(t) < len(name) - cut + 1)]
        fits = [t for t in tails if len(label(t)) <= MAX_HEADER and t not in chosen]
        if fits:
            chosen.append(fits[0])
            continue
        short = name if len(name) <= MAX_HEADER else name[: MAX_HEADER // 2 - 1] + "…" + name[-(MAX_HEADER // 2) :]
        n = 2
        head = short
        while head in chosen:
            head, n = f"{short}#{n}", n + 1
        chosen.append(head)
    return chosen


def step_columns(keys: Sequence[str], rows: Sequence[Mapping[str, Any]], values: Values | None = None) -> list[Column]:
    """A :class:`Column` per key: declared ones as declared, others sized to header and values.

    ``values``: a key's value in every row, when the caller has them as columns (faster than
    looking each up in ``rows``; the same values).
    """
    cols: list[Column] = []
    generic = [k for k in keys if column_for(k).key != k or column_for(k).description == k]
    heads = dict(zip(generic, headers(generic), strict=True))
    for k in keys:
        col = column_for(k)
        if col.key != k:  # metrics.step is the metric named "step", not the envelope's step
            col = Column(k, 8, k[8:], "g4", k, missing=col.missing)
        if k in heads:
            col = dataclasses.replace(col, header=heads[k])
            wide = dataclasses.replace(col, width=40)
            texts = _texts(wide, rows, values)
            cells = [len(t.strip()) for t in texts]
            col = dataclasses.replace(col, width=max(8, len(label(heads[k])), min(16, max(cells, default=0))))
        cols.append(col)
    twice = {c.header for c in cols if [d.header for d in cols].count(c.header) > 1}
    return [  # two declared names of one role (reward_mean and reward are both "reward"): headed by their keys
        dataclasses.replace(c, header=c.key, width=max(c.width, len(label(c.key)))) if c.header in twice else c
        for c in cols
    ]


def step_lines(
    lead: Sequence[tuple[str, Callable[[Mapping[str, Any]], str]]],
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    width: int,
    marker: Callable[[Mapping[str, Any]], str | None] | None = None,
    values: Values | None = None,
) -> list[str]:
    """The table as lines: ``lead`` columns (header, cell function) then ``columns``, in blocks.

    ``values``: as for :func:`step_columns`. ``marker``: a line to put before a row, or None.
    """
    lead_w = [max(len(h), *(len(fn(r)) for r in rows)) if rows else len(h) for h, fn in lead]
    lead_width = sum(w + 1 for w in lead_w)
    step_i = next((i for i, c in enumerate(columns) if c.key == "step"), None)
    fixed = [columns[step_i]] if step_i is not None else []
    rest = [c for i, c in enumerate(columns) if i != step_i]
    base = lead_width + sum(c.width + 1 for c in fixed)
    blocks: list[list[Column]] = [[]]
    used = base
    for c in rest:
        if blocks[-1] and used + c.width + 1 > width:
            blocks.append([])
            used = base
        blocks[-1].append(c)
        used += c.width + 1
    out: list[str] = []
    leads = [[label(fn(r)).ljust(w) for r in rows] for (_, fn), w in zip(lead, lead_w, strict=True)]
    for b, block in enumerate(blocks):
        cols = fixed + block
        if b:
            out.append("")
        lead_head = [label(h).ljust(w) for (h, _), w in zip(lead, lead_w, strict=True)]
        out.append(" ".join([*lead_head, *(label(c.header)[: c.width].rjust(c.width) for c in cols)]).rstrip())
        texts = [_texts(c, rows, values) for c in cols]  # a column at a time, not a cell at a time
        lines = (" ".join(cells).rstrip() for cells in zip(*leads, *texts, strict=True))
        if marker is None:
            out.extend(lines)
            continue
        for r, line in zip(rows, lines, strict=True):
            mark = marker(r)
            if mark:
                out.append(mark)
            out.append(line)
    return out


def _texts(col: Column, rows: Sequence[Mapping[str, Any]], values: Values | None) -> list[str]:
    """The cells of one column (``frac`` with each row's denominator)."""
    if col.fmt != "frac":
        return col.cells(values(col.key) if values else col.values(rows))
    if values is None:
        cell = col.compile()
        return [cell(r) for r in rows]
    return col.cells(values(col.key), values(col.denom or col.key + PAIR_DENOM))
