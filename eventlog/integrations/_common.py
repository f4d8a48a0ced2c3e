"""What every integration shares: starting or joining the run, splitting metrics, never breaking training."""

from __future__ import annotations

import functools
import json
import os
import re
import warnings
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import eventlog
from eventlog import _run

__all__ = [
    "as_number",
    "ensure_run",
    "guarded",
    "hf_eval_records",
    "hf_is_final",
    "hf_rest",
    "jsonable",
    "numbers_and_text",
    "split_metrics",
    "strict",
]

F = TypeVar("F", bound=Callable[..., Any])

# "val_loss", "val/acc", "valid_loss", "test_acc", "eval_accuracy": evaluations; the rest are training metrics.
_EVAL = re.compile(r"^(val|valid|validation|eval|test)[_/](.+)$")
_SPLIT = {"val": "val", "valid": "val", "validation": "val", "eval": "eval", "test": "test"}
_HF_EVAL = re.compile(r"^(eval|test)(?:_|$)")  # Trainer's metric_key_prefix
_HF_FINAL = ("train_loss", "train_samples_per_second", "total_flos")  # only in the end-of-training record
_HF_EVERY_LOG = frozenset({"epoch", "num_input_tokens_seen", "step"})  # Trainer adds these to every log
_warned: set[str] = set()


def strict() -> bool:
    """Whether a problem inside an integration should raise (EVENTLOG_STRICT, or the run's setting)."""
    st = _run._state
    if st is not None:
        return bool(st.strict)
    return os.environ.get("EVENTLOG_STRICT", "").strip().lower() in ("1", "true", "yes", "on")


def guarded(fn: F) -> F:
    """Run a framework hook; in lenient mode an error becomes one warning and training goes on."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if strict():
                raise
            key = f"{fn.__qualname__}:{type(exc).__name__}"
            if key not in _warned:
                _warned.add(key)
                warnings.warn(
                    f"eventlog: {fn.__qualname__} failed ({type(exc).__name__}: {exc}); training goes on",
                    RuntimeWarning,
                    stacklevel=2,
                )
            return None

    return wrapper  # type: ignore[return-value]


def ensure_run(
    dir: str | os.PathLike[str] | None,
    run: str | None,
    config: Mapping[str, Any] | None = None,
    *,
    default_dir: str | os.PathLike[str] | None = None,
    **settings: Any,
) -> tuple[eventlog.Run, bool]:
    """The active run, or a new one; the flag says whether this integration started it (and so may end it).

    The directory is ``dir``, else ``EVENTLOG_DIR``, else ``default_dir``; the run id ``run``, else
    ``EVENTLOG_RUN``, else the directory's name.
    """
    st = _run._state  # not current_run(): with no run it warns "emit() before init()"
    if st is not None and st.pid == os.getpid() and not st.finished:
        return st, False
    env_dir, env_run = os.environ.get("EVENTLOG_DIR"), os.environ.get("EVENTLOG_RUN")
    if st is not None and st.pid == os.getpid() and env_dir == str(st.dir):
        env_dir = env_run = None  # exported by this process's own finished run: not the operator's choice
        if dir is None:
            dir = default_dir if default_dir is not None else os.path.join("runs", run or "run")
    if dir is None and not env_dir:
        dir = default_dir
    if run is None and not env_run and dir is not None:
        run = os.path.basename(os.path.normpath(os.fspath(dir))) or None
    return eventlog.init(dir, run=run, config=config, **settings), True


def as_number(v: Any) -> float | int | bool | None:
    """A metric value as a plain number; None for "not measured"; False when it is not a number at all."""
    if v is None:
        return None
    item = getattr(v, "item", None)
    if callable(item) and getattr(v, "ndim", 0) == 0:
        try:
            v = item()
        except (TypeError, ValueError, RuntimeError):
            return False
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    return False


def numbers_and_text(values: Mapping[str, Any], skip: Collection[str] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """(numbers, text): the values that are numbers (bools as 0/1, None kept as "not measured"), and the
    others as text (a string as it is, anything else as JSON), so none is lost; keys in ``skip`` left out."""
    numbers: dict[str, Any] = {}
    text: dict[str, str] = {}
    for k, v in values.items():
        if k in skip:
            continue
        n = as_number(v)
        if n is False:
            text[str(k)] = v if isinstance(v, str) else json.dumps(jsonable(v))
        else:
            numbers[str(k)] = n
    return numbers, text


def split_metrics(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, Any]]:
    """(training metrics, {split: eval metrics with the prefix stripped}, values that are not numbers)."""
    train: dict[str, Any] = {}
    evals: dict[str, dict[str, Any]] = {}
    other: dict[str, Any] = {}
    for k, v in values.items():
        n = as_number(v)
        if n is False:
            other[str(k)] = v
            continue
        m = _EVAL.match(str(k))
        if m:
            evals.setdefault(_SPLIT[m.group(1)], {})[m.group(2)] = n
        else:
            train[str(k)] = n
    return train, evals, other


def jsonable(v: Any, depth: int = 0) -> Any:
    """Hyperparameters as JSON: containers kept, numbers and strings as they are, anything else as its str()."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v
    if depth > 8:
        return str(v)
    if isinstance(v, Mapping):
        return {str(k) if not isinstance(k, (int, float, bool)) else k: jsonable(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [jsonable(x, depth + 1) for x in v]
    if hasattr(v, "__dict__") and type(v).__name__ == "Namespace":
        return jsonable(vars(v), depth + 1)
    n = as_number(v)
    if n is not False:
        return n
    return str(v)


def hf_is_final(logs: Mapping[str, Any]) -> bool:
    """Whether ``logs`` is the record Trainer logs once training is over (``train_runtime``, ``train_loss``...).

    transformers 5 also puts ``train_runtime`` in every step's log when it counts input tokens:
    a step's log has ``loss``, the final record has not.
    """
    return "train_runtime" in logs and "loss" not in logs and any(k in logs for k in _HF_FINAL)


def hf_eval_records(logs: Mapping[str, Any]) -> dict[str, tuple[dict[str, Any], float | None]]:
    """``eval_*``/``test_*`` keys grouped by split; ``eval_g0_accuracy`` (a named eval dataset) → split ``g0``;
    another prefix is its own split (``test_g0``, ``val_g0``: never the same split as ``eval_g0``).

    Trainer writes ``<prefix>_runtime`` and ``<prefix>_samples_per_second`` for every evaluation
    (``evaluate(metric_key_prefix="val")`` gives ``val_*``), so the prefixes come from those pairs;
    a metric of one's own named ``decode_runtime`` is not one. Without them, ``eval``/``test`` is the prefix.
    """
    prefixes = _hf_prefixes(logs)
    keys = [k for k in logs if _hf_eval_key(k, prefixes)]
    if not keys:
        return {}
    out: dict[str, tuple[dict[str, Any], float | None]] = {}
    for k in keys:
        prefix = next((p for p in prefixes if k.startswith(p + "_")), None) or _HF_EVAL.match(k).group(1)  # type: ignore[union-attr]
        name = k[len(prefix) + 1 :] or k
        split = prefix[5:] if prefix.startswith("eval_") else prefix  # eval_squad → squad; test_squad, val_a stay
        metrics, duration = out.get(split, ({}, None))
        n = as_number(logs[k])
        if name == "runtime" and isinstance(n, (int, float)):
            duration = float(n)
        if n is not False:
            metrics[name] = n
        out[split] = (metrics, duration)
    if "epoch" in logs:
        for metrics, _ in out.values():
            e = as_number(logs["epoch"])
            if e is not False:
                metrics.setdefault("epoch", e)
    return out


def hf_rest(logs: Mapping[str, Any]) -> dict[str, Any]:
    """What a log with evaluations holds besides them (``trainer.log({"custom": 1, "eval_x": 2})``): kept, not
    dropped; the keys Trainer adds to every log (epoch, tokens seen) are left out."""
    prefixes = _hf_prefixes(logs)
    return {k: v for k, v in logs.items() if not _hf_eval_key(k, prefixes) and k not in _HF_EVERY_LOG}


def _hf_eval_key(key: str, prefixes: list[str]) -> bool:
    """Whether ``key`` belongs to an evaluation: ``eval_*``/``test_*``, or one of the log's prefixes."""
    return _HF_EVAL.match(key) is not None or any(key.startswith(p + "_") for p in prefixes)


def _hf_prefixes(logs: Mapping[str, Any]) -> list[str]:
    """The evaluation prefixes of a log, longest first.

    Each has ``<prefix>_runtime``: with ``<prefix>_samples_per_second`` (Trainer writes both), or
    else an ``eval_``/``test_`` name that is not inside another prefix (``eval_my_val_decode_runtime``
    is the metric ``decode_runtime`` of ``eval_my_val``).
    """
    runtimes = {k[: -len("_runtime")] for k in logs if k.endswith("_runtime")}
    strong = {p for p in runtimes if f"{p}_samples_per_second" in logs} - {"train"}  # train_*: the final record
    weak = {
        p
        for p in runtimes - strong
        if _HF_EVAL.match(p) and p != "train" and not any(p.startswith(s + "_") for s in strong)
    }
    return sorted(strong | weak, key=len, reverse=True)
