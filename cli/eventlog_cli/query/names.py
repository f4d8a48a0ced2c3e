"""The one check for a name the user typed (metric, event, phase, column): known, or help.

``check_name("metric", "accuracyy", known)`` returns the name when it is known and raises
otherwise, with the closest match and the real list::

    no metric 'accuracyy'; did you mean `accuracy`? (known: accuracy, loss, kl)

Every command that takes a name uses it, so a typo never prints nothing with exit 0.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from eventlog._text import sanitize
from eventlog_cli.errors import DataError, UsageError

__all__ = ["check_name", "closest", "unknown_name"]

_SHOWN = 30  # at most this many known names are listed


def closest(name: str, known: Sequence[str]) -> str | None:
    """The known name closest to ``name`` (difflib), else one that starts with or contains it."""
    hits = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if hits:
        return hits[0]
    low = name.lower()
    for test in (lambda k: k.lower().startswith(low), lambda k: low in k.lower(), lambda k: k.lower() in low):
        found = [k for k in known if test(k)]
        if found:
            return min(found, key=len)
    hits = difflib.get_close_matches(name, list(known), n=1, cutoff=0.4)
    return hits[0] if hits else None


def unknown_name(what: str, name: str, known: Iterable[str], *, usage: bool = False, where: str = "") -> Exception:
    """The error for an unknown ``name`` of kind ``what`` (DataError, or UsageError when ``usage``)."""
    names = list(dict.fromkeys(known))
    guess = closest(name, names)
    hint = f"; did you mean `{sanitize(guess)}`?" if guess is not None else ""
    shown = ", ".join(sanitize(k) for k in names[:_SHOWN]) + (
        f", ... ({len(names)} in all)" if len(names) > _SHOWN else ""
    )
    listed = f" (known: {shown})" if names else f" (there are no {what}s{where})"
    msg = f"no {what} {sanitize(repr(name))}{where}{hint}{listed}"
    return UsageError(msg) if usage else DataError(msg)


def check_name(what: str, name: str, known: Iterable[str], *, usage: bool = False, where: str = "") -> str:
    """``name`` when it is in ``known``.

    Raises:
        DataError: it is not (``UsageError`` with ``usage``), with the closest match and the list.
    """
    names = list(known)
    if name in names:
        return name
    raise unknown_name(what, name, names, usage=usage, where=where)
