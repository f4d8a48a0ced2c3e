"""TensorBoard event files → step_metrics / eval_summary by tag prefix; text summaries → log events.

Read with the tensorboard package's own loader (``EventFileLoader``, which also migrates old
``simple_value`` scalars), never by parsing protobuf by hand. Histograms, images and other
plugins' data are counted and named on stderr, not imported.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from eventlog.integrations._common import hf_eval_records
from eventlog_cli.errors import DataError
from eventlog_cli.importers._writer import RunWriter

__all__ = ["event_files", "import_tensorboard", "looks_like"]

_EVAL = re.compile(r"^(eval|test|val|valid|validation)[/_](.+)$")
_SPLIT = {"val": "val", "valid": "val", "validation": "val", "eval": "eval", "test": "test"}


def event_files(src: Path) -> list[Path]:
    if src.is_file():
        return [src]
    return sorted(p for p in src.rglob("*") if p.is_file() and "tfevents" in p.name)


def looks_like(src: Path) -> bool:
    return bool(event_files(src)) and (src.is_dir() or "tfevents" in src.name)


def _load() -> tuple[Any, Any]:
    try:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
        from tensorboard.util import tensor_util
    except ImportError:
        raise DataError("reading TensorBoard files needs the tensorboard package: pip install tensorboard") from None
    return EventFileLoader, tensor_util


def import_tensorboard(src: Path, w: RunWriter) -> None:
    files = event_files(src)
    if not files:
        raise DataError(f"{src}: no TensorBoard event files (events.out.tfevents.*) here")
    dirs = sorted({p.parent for p in files})
    if len(dirs) > 1:
        shown = ", ".join(str(d) for d in dirs[:4])
        raise DataError(
            f"{src}: event files in {len(dirs)} directories ({shown}); import each directory as its own run"
        )
    scalars, texts, skipped = _read(files)
    if not scalars and not texts:
        raise DataError(f"{src}: no scalar or text summaries in these event files")
    times = [t for by_tag in scalars.values() for t, _ in by_tag.values()] + [t for t, *_ in texts]
    t0, t1 = min(times), max(times)
    w.emit(
        "run_start",
        t0,
        "",
        config={"imported_from": str(src), "files": [p.name for p in files]},
        tags=["imported", "tensorboard"],
    )
    merged: list[tuple[float, str, int, str, Any]] = [(t, "text", step, tag, value) for t, step, tag, value in texts]
    for step, by_tag in scalars.items():
        merged.append((max(t for t, _ in by_tag.values()), "scalars", step, "", by_tag))
    for t, kind, step, tag, value in sorted(merged, key=lambda x: (x[2], x[0])):
        where = f"step {step}"
        if kind == "text":
            w.emit("log", t, where, level="info", msg=value, logger="tensorboard", tag=tag, step=step)
        else:
            _scalars(w, t, where, step, value)
    for plugin, tags in sorted(skipped.items()):
        shown = ", ".join(sorted(tags)[:5]) + (" ..." if len(tags) > 5 else "")
        if plugin == "overwritten":
            w.note(
                f"{len(tags)} scalar(s) written twice for one tag and step with different values; "
                f"the later kept: {shown}"
            )
        else:
            w.note(f"{len(tags)} {plugin} series not imported (only scalars and text are): {shown}")
    w.emit("run_end", t1, "", status="completed", duration=round(t1 - t0, 6), events_dropped=0)


def _read(
    files: list[Path],
) -> tuple[dict[int, dict[str, tuple[float, float]]], list[tuple[float, int, str, str]], dict[str, set[str]]]:
    loader_cls, tensor_util = _load()
    scalars: dict[int, dict[str, tuple[float, float]]] = defaultdict(dict)
    texts: list[tuple[float, int, str, str]] = []
    skipped: dict[str, set[str]] = defaultdict(set)
    plugin_of: dict[str, str] = {}
    for path in files:
        try:
            events = list(loader_cls(str(path)).Load())
        except Exception as exc:  # a damaged record: the loader's own error, named with the file
            raise DataError(f"{path}: cannot read TensorBoard events ({type(exc).__name__}: {exc})") from None
        for ev in events:
            if not ev.HasField("summary"):
                continue
            for value in ev.summary.value:
                plugin = value.metadata.plugin_data.plugin_name if value.HasField("metadata") else ""
                plugin = plugin_of.setdefault(value.tag, plugin) or plugin
                if value.HasField("simple_value"):
                    plugin, x = "scalars", float(value.simple_value)
                elif value.HasField("tensor") and plugin in ("scalars", "text"):
                    arr = tensor_util.make_ndarray(value.tensor)
                    if plugin == "text":
                        items = arr.reshape(-1).tolist()
                        text = "\n".join(
                            i.decode("utf-8", "replace") if isinstance(i, bytes) else str(i) for i in items
                        )
                        texts.append((ev.wall_time, int(ev.step), value.tag, text))
                        continue
                    if arr.size != 1:
                        skipped["non-scalar tensor"].add(value.tag)
                        continue
                    x = float(arr.reshape(-1)[0])
                else:
                    skipped[plugin or "untyped"].add(value.tag)
                    continue
                by_tag = scalars[int(ev.step)]
                if value.tag in by_tag:  # the same tag and step written twice (a resumed run): the later write wins
                    if by_tag[value.tag][1] != x:
                        skipped["overwritten"].add(f"{value.tag}@{ev.step}")
                    if by_tag[value.tag][0] > ev.wall_time:
                        continue
                by_tag[value.tag] = (ev.wall_time, x)
    return dict(scalars), texts, dict(skipped)


def _scalars(w: RunWriter, t: float, where: str, step: int, by_tag: dict[str, tuple[float, float]]) -> None:
    train: dict[str, float] = {}
    evals: dict[str, dict[str, float]] = defaultdict(dict)
    hf_style: dict[str, float] = {}
    epoch: float | None = None
    for tag, (_t, x) in by_tag.items():
        m = _EVAL.match(tag)
        if m and m.group(1) in ("eval", "test"):
            hf_style[f"{m.group(1)}_{m.group(2)}"] = x  # eval/g0_accuracy → eval_g0_accuracy: named datasets split
        elif m:
            evals[_SPLIT[m.group(1)]][m.group(2)] = x
        elif tag in ("epoch", "train/epoch"):
            epoch = x
        else:
            train[tag.removeprefix("train/")] = x
    if epoch is not None and not train:  # an evaluation's record: its epoch goes with its metrics
        hf_style = {**hf_style, "epoch": epoch} if hf_style else hf_style
        for metrics in evals.values():
            metrics.setdefault("epoch", epoch)
    for split, (metrics, duration) in hf_eval_records(hf_style).items():
        fields: dict[str, Any] = {"step": step, "split": split, "metrics": metrics}
        if duration is not None:
            fields["duration"] = duration
        w.emit("eval_summary", t, where, **fields)
    for split, metrics in evals.items():
        w.emit("eval_summary", t, where, step=step, split=split, metrics=metrics)
    if train:
        fields = {"step": step, "metrics": train}
        if epoch is not None:
            fields["epoch"] = epoch
        w.emit("step_metrics", t, where, **fields)
    elif epoch is not None and not evals and not hf_style:
        w.emit("step_metrics", t, where, step=step, metrics={}, epoch=epoch)
