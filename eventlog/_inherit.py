"""What a process inherits: its rank from the launcher, its parent's run and settings, its DataLoader slot.

``init()`` exports the run (:func:`export`): ``EVENTLOG_DIR`` and ``EVENTLOG_RUN``, which a later
``init()`` reads like any setting, and ``EVENTLOG_INHERIT``, the parent run's rank and settings as
JSON. A child that emits without calling ``init()`` reads them at its first ``emit()``
(:func:`child_config`) and writes its own file beside the parent's, with the parent's run, rank and
settings and no console.

Why the environment: a ``spawn`` or ``forkserver`` child is a fresh interpreter, so nothing of the
parent's memory reaches it, but the environment does (multiprocessing passes it, as do ``subprocess``
and PyTorch's launchers). Read lazily, it costs nothing at import or in a child that never emits,
and a child that calls ``init()`` itself is not affected. A forked child needs none of it: it has
the parent's run in memory. The forkserver process keeps the environment it started with, so a
forkserver started before ``init()`` gives its children none of this (they join through a
``init()`` of their own).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import orjson

from eventlog._config import Config, config_of, load_config
from eventlog.exceptions import ConfigError

__all__ = ["RANK_VARS", "child_config", "export", "rank_from_env", "worker_slot"]

RANK_VARS = ("RANK", "LOCAL_RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK")
_VAR = "EVENTLOG_INHERIT"
# What a child's run needs of its parent's settings (the console ones stay behind: a child prints nothing).
_KEYS = ("flush_interval", "fsync", "queue_size", "on_full", "strict", "eval_files", "file_events", "signals")


def rank_from_env() -> int:
    """The rank a launcher gave this process (``RANK``, ``LOCAL_RANK``, SLURM, MPI), else 0.

    Raises:
        ConfigError: the variable is not a whole number >= 0.
    """
    for name in RANK_VARS:
        v = os.environ.get(name)
        if v is None or v == "":
            continue
        try:
            rank = int(v)
        except ValueError:
            rank = -1
        if rank < 0:
            msg = f"{name}={v!r}: expected a whole number >= 0 (the process rank)"
            raise ConfigError(msg) from None
        return rank
    return 0


def export(config: Config, directory: Path, run: str, rank: int) -> None:
    """Put the run where child processes find it (see the module doc)."""
    os.environ["EVENTLOG_DIR"] = str(directory)
    os.environ["EVENTLOG_RUN"] = run
    settings = {k: getattr(config, k) for k in _KEYS}
    parent = {"dir": str(directory), "run": run, "rank": rank, "pid": os.getpid(), "settings": settings}
    os.environ[_VAR] = orjson.dumps(parent).decode()


def child_config(parent: Any) -> tuple[Config | None, int | None]:
    """A child's run configuration (the forked ``parent`` run's, else the exported one), and the parent's pid.

    (None, None) when there is no run to join.

    Raises:
        ConfigError: an exported setting is invalid.
    """
    if parent is not None:
        cfg: Config = parent.config
        cfg = dataclasses.replace(cfg, dir=str(parent.dir), run=parent.run, rank=parent.rank, console="off")
        return cfg, parent.pid
    d, run = os.environ.get("EVENTLOG_DIR", ""), os.environ.get("EVENTLOG_RUN", "")
    if not d or not run:
        return None, None
    exported = _exported()
    if exported is None or exported.get("dir") != d or exported.get("run") != run:  # set by hand: no parent run
        return dataclasses.replace(load_config({"dir": d, "run": run}), console="off"), None
    settings = exported.get("settings")
    values = {**(settings if isinstance(settings, dict) else {}), "dir": d, "run": run, "rank": exported.get("rank")}
    pid = exported.get("pid")
    return dataclasses.replace(config_of(values, _VAR), console="off"), pid if type(pid) is int else None


def _exported() -> dict[str, Any] | None:
    raw = os.environ.get(_VAR)
    if not raw:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        msg = f"{_VAR}: not the JSON that eventlog.init() writes; unset it or call eventlog.init() in this process"
        raise ConfigError(msg) from None
    return value if isinstance(value, dict) else None


def worker_slot() -> int | None:
    """This process's PyTorch DataLoader worker id, when it is one (never imports torch)."""
    worker = sys.modules.get("torch.utils.data._utils.worker")
    wid = getattr(getattr(worker, "_worker_info", None), "id", None)
    return wid if isinstance(wid, int) and not isinstance(wid, bool) else None
