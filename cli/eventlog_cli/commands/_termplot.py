"""A real chart in the terminal (plotext): axes, ticks, one line per run, a legend."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from eventlog._text import sanitize

__all__ = ["terminal_chart"]

_MARKERS = ["braille", "•", "+", "x", "o", "*"]


def terminal_chart(
    lines: Sequence[tuple[str, Sequence[Any], Sequence[float]]],
    title: str,
    width: int = 80,
    height: int = 20,
    colour: bool = False,
) -> str:
    """The chart as text: ``lines`` are (label, steps, values); NaN/Inf points are left out.

    Labels and the title are sanitised (they come from events). Without ``colour``
    the text holds no escape sequence at all.
    """
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear" if not colour else "pro")
    for i, (label, xs, ys) in enumerate(lines):
        pts = [(x, y) for x, y in zip(xs, ys, strict=True) if isinstance(y, (int, float)) and math.isfinite(y)]
        marker = "braille" if colour else _MARKERS[i % len(_MARKERS)]  # without colour, the marker tells lines apart
        if pts:
            plt.plot([p[0] for p in pts], [p[1] for p in pts], label=sanitize(label), marker=marker)
    plt.title(sanitize(title))
    plt.xlabel("step")
    out: str = plt.build()
    plt.clear_figure()
    return out if colour else plt.uncolorize(out)
