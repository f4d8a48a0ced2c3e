"""Configuration: one dataclass, filled from four layers.

Precedence, highest first:

1. arguments to :func:`eventlog.init`;
2. ``EVENTLOG_*`` environment variables (so an operator can change a run
   without editing files, as with most 12-factor tools);
3. ``eventlog.toml``, or else ``[tool.eventlog]`` in ``pyproject.toml``, in
   the working directory or the nearest parent that has one;
4. the defaults below.

``VERBOSE=true`` (seed 004's switch) counts as ``EVENTLOG_VERBOSITY=verbose``
(and ``VERBOSE=false`` as ``concise``) when ``EVENTLOG_VERBOSITY`` is not set.
``VERBOSE`` is a common name, so a value that is not a yes/no word is ignored
rather than refused.

Every value is parsed strictly; a bad one raises :class:`ConfigError` naming
where it came from and what is expected.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventlog._columns import Column
from eventlog._constants import LEVELS
from eventlog._writer import FSYNC_POLICIES, FULL_POLICIES
from eventlog.exceptions import ConfigError

__all__ = ["Config", "config_of", "find_config_file", "load_config"]

_CONSOLE = ("banner", "compact", "off")
_VERBOSITY = ("concise", "verbose")
_FSYNC = FSYNC_POLICIES
_ON_FULL = FULL_POLICIES
_SIGNALS = ("auto", "chain", "off")  # see _hooks.install_sigterm


@dataclass(frozen=True, slots=True)
class Config:
    """Every setting of a run. See the module docstring for precedence."""

    dir: str | None = None
    run: str | None = None
    rank: int | None = None
    console: str = "banner"
    verbosity: str = "concise"
    flush_interval: float = 0.2
    fsync: str = "close"
    queue_size: int = 10_000
    on_full: str = "block"
    strict: bool = False
    columns: tuple[str | Column, ...] | None = None
    header_every: int = 20
    console_level: str = "info"
    eval_files: bool = True
    console_events: tuple[str, ...] | None = None
    file_events: tuple[str, ...] | None = None
    capture_logging: bool = False
    signals: str = "auto"
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)


def _choice(options: tuple[str, ...]) -> Callable[[Any, str], str]:
    def parse(v: Any, where: str) -> str:
        if isinstance(v, str) and v.strip().lower() in options:
            return v.strip().lower()
        msg = f"{where}={v!r}: expected one of {', '.join(options)}"
        raise ConfigError(msg)

    return parse


def _float_pos(v: Any, where: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        f = -1.0
    if isinstance(v, bool) or not f > 0 or f != f or f == float("inf"):
        msg = f"{where}={v!r}: expected a positive number of seconds, e.g. 0.2"
        raise ConfigError(msg)
    return f


def _int_pos(v: Any, where: str) -> int:
    try:
        i = int(str(v).strip()) if not isinstance(v, bool) else -1
    except ValueError:
        i = -1
    if i < 1:
        msg = f"{where}={v!r}: expected a positive whole number"
        raise ConfigError(msg)
    return i


def _int_nonneg(v: Any, where: str) -> int:
    try:
        i = int(str(v).strip()) if not isinstance(v, bool) else -1
    except ValueError:
        i = -1
    if i < 0:
        msg = f"{where}={v!r}: expected a whole number >= 0"
        raise ConfigError(msg)
    return i


def _bool(v: Any, where: str) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off", ""):
        return False
    msg = f"{where}={v!r}: expected 1/0, true/false, yes/no or on/off"
    raise ConfigError(msg)


def _signals(v: Any, where: str) -> str:
    """``auto``, ``chain`` or ``off``; a yes/no word (the old boolean setting) is ``auto`` or ``off``."""
    s = str(v).strip().lower()
    if isinstance(v, bool) or s in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return "auto" if _bool(v, where) else "off"
    return _choice(_SIGNALS)(v, where)


def _console(v: Any, where: str) -> str:
    """``banner``, ``compact`` or ``off``; a yes/no (``console=False``) is ``off``, or the default style, ``banner``."""
    s = str(v).strip().lower()
    if isinstance(v, bool) or s in ("1", "true", "yes", "on", "0", "false", "no"):
        return "banner" if _bool(v, where) else "off"  # True: the default style (Config.console)
    return _choice(_CONSOLE)(v, where)


def _str(v: Any, where: str) -> str:
    if isinstance(v, (str, os.PathLike)) and str(v).strip():
        if "\x00" in str(v):  # no file name or environment variable can hold it
            msg = f"{where}={v!r}: contains a NUL character; remove it"
            raise ConfigError(msg)
        return str(v)
    msg = f"{where}={v!r}: expected a non-empty string"
    raise ConfigError(msg)


def _names(v: Any, where: str) -> tuple[str, ...]:
    if isinstance(v, str):
        items = [s.strip() for s in v.split(",")]
    elif isinstance(v, (list, tuple)) and all(isinstance(s, str) for s in v):
        items = [s.strip() for s in v]
    else:
        items = []
    if not items or not all(items):
        msg = f"{where}={v!r}: expected a comma-separated list of names, e.g. loss,kl,reward_mean"
        raise ConfigError(msg)
    return tuple(items)


_VERBOSE_WORDS = {
    **dict.fromkeys(("1", "true", "yes", "on"), "verbose"),
    **dict.fromkeys(("0", "false", "no", "off"), "concise"),
}


def _columns(v: Any, where: str) -> tuple[str | Column, ...]:
    """Names (``loss,kl``) or :class:`Column` objects, or a list mixing both."""
    if isinstance(v, (list, tuple)) and v and any(isinstance(c, Column) for c in v):
        bad = [c for c in v if not isinstance(c, (Column, str)) or (isinstance(c, str) and not c.strip())]
        if bad:
            msg = f"{where}: {bad[0]!r} is neither a Column nor a metric name; pass Column(...) objects or names"
            raise ConfigError(msg)
        return tuple(c if isinstance(c, Column) else c.strip() for c in v)
    return _names(v, where)


_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "dir": _str,
    "run": _str,
    "rank": _int_nonneg,
    "console": _console,
    "verbosity": _choice(_VERBOSITY),
    "flush_interval": _float_pos,
    "fsync": _choice(_FSYNC),
    "queue_size": _int_pos,
    "on_full": _choice(_ON_FULL),
    "strict": _bool,
    "columns": _columns,
    "header_every": _int_pos,
    "console_level": _choice(LEVELS),
    "eval_files": _bool,
    "console_events": _names,
    "file_events": _names,
    "capture_logging": _bool,
    "signals": _signals,
}


def find_config_file(start: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The nearest ``eventlog.toml`` or ``pyproject.toml`` with ``[tool.eventlog]``."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        for name in ("eventlog.toml", "pyproject.toml"):
            p = d / name
            if not p.is_file():
                continue
            text = ""
            try:
                text = p.read_text(encoding="utf-8")
                data = tomllib.loads(text)
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                if name == "pyproject.toml" and "tool.eventlog" not in text:
                    _warn_unrelated(p, exc)  # someone else's broken file must not stop logging
                    continue
                msg = f"{p}: cannot read it as TOML ({exc}); fix or remove the file"
                raise ConfigError(msg) from None
            table = data if name == "eventlog.toml" else data.get("tool", {}).get("eventlog")
            if table is not None:
                return p, table
    return None


_warned_files: set[Path] = set()


def _warn_unrelated(path: Path, exc: Exception) -> None:
    """Once per file and process: a broken pyproject.toml with no [tool.eventlog] table is skipped."""
    if path in _warned_files:
        return
    _warned_files.add(path)
    warnings.warn(
        f"eventlog: {path} is not valid TOML ({exc}); it has no [tool.eventlog] table, so it is skipped",
        RuntimeWarning,
        stacklevel=5,
    )


def load_config(
    args: Mapping[str, Any] | None = None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Config:
    """Merge defaults, the config file, the environment and ``args``.

    Raises:
        ConfigError: a value is invalid or a file key is unknown.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    found = find_config_file(cwd)
    if found is not None:
        path, table = found
        where = f"{path}" + ("" if path.name == "eventlog.toml" else " [tool.eventlog]")
        for k, v in table.items():
            if k not in _PARSERS:
                msg = f"{where}: unknown key {k!r}; known keys: {', '.join(_PARSERS)}"
                raise ConfigError(msg)
            values[k] = _PARSERS[k](v, f"{where} {k}")
            sources[k] = str(path)
    verbose = _VERBOSE_WORDS.get(env.get("VERBOSE", "").strip().lower())
    if verbose is not None and "EVENTLOG_VERBOSITY" not in env:
        values["verbosity"], sources["verbosity"] = verbose, "VERBOSE"
    for k, parse in _PARSERS.items():
        name = f"EVENTLOG_{k.upper()}"
        if name in env:
            values[k] = parse(env[name], name)
            sources[k] = name
    for k, v in (args or {}).items():
        if v is None:
            continue
        if k not in _PARSERS:
            msg = f"init(): unknown argument {k!r}; known: {', '.join(_PARSERS)}"
            raise ConfigError(msg)
        values[k] = _PARSERS[k](v, f"init({k})")
        sources[k] = "init()"
    return dataclasses.replace(Config(), **values, sources=sources)


def config_of(values: Mapping[str, Any], where: str) -> Config:
    """A Config of already-resolved settings (a parent run's, for its children), each checked like any setting.

    Raises:
        ConfigError: a value is invalid (named with ``where``).
    """
    parsed = {k: _PARSERS[k](v, f"{where} {k}") for k, v in values.items() if k in _PARSERS and v is not None}
    return dataclasses.replace(Config(), **parsed, sources=dict.fromkeys(parsed, where))
