"""Charts as image files (PNG, SVG, PDF) with matplotlib: the report's lines, without a browser."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from eventlog._text import sanitize
from eventlog_cli.errors import DataError, UsageError
from eventlog_cli.query.series import Series, ema

__all__ = ["FORMATS", "write_plot"]

FORMATS = (".png", ".svg", ".pdf")
_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]


def write_plot(
    panels: Sequence[tuple[str, Sequence[tuple[str, Series]]]],
    out: Path,
    *,
    smoothing: float = 0.0,
    log: bool = False,
) -> None:
    """One panel per metric (title, [(run label, series)]), stacked; the best value of each line starred.

    Raises:
        UsageError: unknown file type.
        DataError: matplotlib missing, or the file cannot be written.
    """
    if out.suffix.lower() not in FORMATS:
        msg = f"--out {out}: the file type comes from the name; use .png, .svg or .pdf"
        raise UsageError(msg)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        msg = 'eventlog plot needs matplotlib; install it with: pip install "eventlog[plot]"'
        raise DataError(msg) from None
    plt.rcParams["svg.hashsalt"] = "eventlog"  # stable ids: the same data gives the same SVG
    plt.rcParams["text.usetex"] = False
    plt.rcParams["svg.fonttype"] = "none"  # text stays text in SVG: smaller, searchable
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 3.2 * len(panels)), squeeze=False)
    for ax, (title, lines) in zip(axes[:, 0], panels, strict=True):
        for i, (name, s) in enumerate(lines):
            c = _COLOURS[i % len(_COLOURS)]
            marker = "o" if len(s.x) <= 30 else None
            raw = [float("nan") if y is None else y for y in s.y]
            if smoothing:  # as TensorBoard: the raw line faint, the smoothed one on top
                ax.plot(s.x, raw, color=c, alpha=0.25, lw=1)
                raw = [float("nan") if y is None else y for y in ema(s.y, smoothing)]
            ax.plot(s.x, raw, color=c, marker=marker, ms=3, label=_plain(name), lw=1.4, gid=f"series-{i}")
            if s.best is not None:
                ax.plot([s.best[0]], [s.best[1]], marker="*", ms=12, color=c, mec="black", mew=0.6, ls="none")
        ax.set_title(_plain(title), loc="left", fontsize=11)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if log:
            ax.set_yscale("log")
        if len(lines) > 1:
            ax.legend(fontsize=8)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an overflow is said below in one line; a too long title is no error
            fig.tight_layout()
            out.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(out, dpi=120, metadata=_metadata(out))
    except OSError as exc:
        msg = f"{out}: cannot write ({exc.strerror or exc}); pass another --out"
        raise DataError(msg) from None
    except (ValueError, OverflowError):  # values near ±1.8e308: the axis ticks overflow
        msg = (
            "cannot draw these values: they span more than the chart's axis can scale (near ±1.8e308); "
            "`eventlog trend METRIC --json` prints them"
        )
        raise DataError(msg) from None
    finally:
        plt.close(fig)


def _plain(s: str) -> str:
    """Event text for matplotlib: control characters visible, and ``$`` not read as math."""
    return sanitize(s).replace("$", r"\$")


def _metadata(out: Path) -> dict[str, str | None]:
    suffix = out.suffix.lower()
    if suffix == ".svg":
        return {"Date": None}
    if suffix == ".pdf":
        return {"CreationDate": None}
    return {}
