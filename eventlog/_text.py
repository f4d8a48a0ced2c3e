"""Text helpers shared by the console and the CLI: sanitising and formatting."""

from __future__ import annotations

import math
import re
from typing import Any

from eventlog._constants import NONFINITE

__all__ = ["fmt_bytes", "fmt_duration", "fmt_fixed", "fmt_num", "label", "sanitize", "title_of"]

# C0 except tab and newline, DEL, C1, the line and paragraph separators (U+2028, U+2029),
# and the bidi embedding/override/isolate controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def sanitize(s: Any) -> str:
    """Render any value as text with control characters shown as visible escapes.

    ``"\\x1b[31m"`` becomes ``"\\\\x1b[31m"``: the terminal sees a backslash, never ESC.
    """
    if not isinstance(s, str):
        s = str(s)
    return _CONTROL.sub(_escape, s) if _CONTROL.search(s) else s


def label(s: Any) -> str:
    """A name (a metric, a column header) on one line: :func:`sanitize`, and tab and newline shown as ``\\t``, ``\\n``.

    ``sanitize`` keeps them for text that may span lines (a log message, a completion);
    in a name they would break a table's layout.
    """
    s = sanitize(s)
    return s.replace("\t", "\\t").replace("\n", "\\n") if "\t" in s or "\n" in s else s


def fmt_fixed(v: float, digits: int) -> str:
    """A finite ``v`` with ``digits`` decimals; one those decimals would write as zero (``lr=1e-06`` as ``0.000``)
    with ``digits`` significant digits instead, so it never reads as 0."""
    text = f"{v:.{digits}f}"
    return f"{v:.{digits}g}" if v and float(text) == 0.0 else text


def fmt_duration(seconds: Any) -> str:
    """42 → ``42s``, 1428 → ``23.8m``, 7200 → ``2.0h``; unknown → ``?``."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        return "?"
    s = max(0.0, float(seconds))
    if s < 10:
        return f"{s:.1f}s"
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{s / 60:.1f}m"
    return f"{s / 3600:.1f}h"


def fmt_num(v: Any, digits: int = 4) -> str:
    """Numbers for people: ints as is, floats with ``digits`` significant digits, NaN as ``nan``."""
    if v is None:
        return "-"
    if isinstance(v, str):
        return str(NONFINITE[v]) if v in NONFINITE else sanitize(v)
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.{digits}g}"
    return sanitize(v)


def fmt_bytes(n: Any) -> str:
    """1536 → ``1.5 KB``."""
    if not isinstance(n, (int, float)) or isinstance(n, bool):
        return "?"
    x = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(x) < 1024 or unit == "GB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024
    return f"{x:.1f} TB"


def title_of(name: str) -> str:
    """``pre_training_validation`` → ``PRE-TRAINING VALIDATION``; ``training_step`` → ``TRAINING STEP``."""
    words = sanitize(name).replace("_", " ").upper().split()
    if len(words) > 2 and words[0] in ("PRE", "POST") and words[1] == "TRAINING":
        words = [f"{words[0]}-{words[1]}", *words[2:]]
    return " ".join(words)


def humanize_key(key: str) -> str:
    """``total_batches`` → ``Total batches``."""
    s = sanitize(key.removesuffix("_bytes")).replace("_", " ").strip()
    return s[:1].upper() + s[1:]
