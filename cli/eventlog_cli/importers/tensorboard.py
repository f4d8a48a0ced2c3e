"""TensorBoard event files → step_metrics / eval_summary by tag prefix; text summaries → log events.

Read with the tensorboard package's own loader (``EventFileLoader``, which also migrates old
``simple_value`` scalars), never by parsing protobuf by hand. Histograms, images and other
plugins' data are counted and named on stderr, not imported; hyperparameters (the hparams plugin)
go into ``run_start.config["hparams"]``.

A run's directory may hold the subdirectories torch's ``SummaryWriter`` makes beside its own
file: ``add_scalars("loss", {"train": ..., "val": ...})`` writes tag ``loss`` into ``loss_train/``
and ``loss_val/`` (imported as ``train/loss`` and ``val/loss``, so a ``val`` series is an
evaluation), ``add_hparams`` a ``<timestamp>/`` directory with the hyperparameters and their
metrics. Any other layout with event files in several directories is several runs: refused.
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
    groups = _layout(src, files)
    scalars, texts, skipped, hparams = _read(src, groups)
    if not scalars and not texts:
        raise DataError(f"{src}: no scalar or text summaries in these event files")
    times = [t for by_tag in scalars.values() for t, _ in by_tag.values()] + [t for t, *_ in texts]
    t0, t1 = min(times), max(times)
    config: dict[str, Any] = {"imported_from": str(src), "files": [str(p.relative_to(src)) for p in files]}
    if src.is_file():
        config["files"] = [src.name]
    if hparams:
        config["hparams"] = hparams
    w.emit("run_start", t0, "", config=config, tags=["imported", "tensorboard"])
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
        if plugin == "add_scalars":
            w.note(f"add_scalars directories imported as KEY/TAG: {shown}")
        elif plugin == "cut":
            w.note(f"event file(s) cut short or damaged, read up to the damage: {shown}")
        elif plugin == "overwritten":
            w.note(
                f"{len(tags)} scalar(s) written twice for one tag and step with different values; "
                f"the later kept: {shown}"
            )
        else:
            w.note(f"{len(tags)} {plugin} series not imported (only scalars and text are): {shown}")
    w.emit("run_end", t1, "", status="completed", duration=round(t1 - t0, 6), events_dropped=0)


def _layout(src: Path, files: list[Path]) -> list[tuple[list[Path], str | None]]:
    """The run's files by directory: (files, None) for the root, (files, dirname) for SummaryWriter's children."""
    dirs = sorted({p.parent for p in files})
    if len(dirs) == 1:
        return [(files, None)]
    children = [d for d in dirs if d != src]
    if src not in dirs or any(d.parent != src for d in children):
        shown = ", ".join(str(d) for d in dirs[:4])
        raise DataError(
            f"{src}: event files in {len(dirs)} directories ({shown}); import each directory as its own run"
        )
    return [([p for p in files if p.parent == d], None if d == src else d.name) for d in dirs]


def _read(
    src: Path, groups: list[tuple[list[Path], str | None]]
) -> tuple[
    dict[int, dict[str, tuple[float, float]]],
    list[tuple[float, int, str, str]],
    dict[str, set[str]],
    dict[str, Any],
]:
    loader_cls, tensor_util = _load()
    scalars: dict[int, dict[str, tuple[float, float]]] = defaultdict(dict)
    texts: list[tuple[float, int, str, str]] = []
    skipped: dict[str, set[str]] = defaultdict(set)
    hparams: dict[str, Any] = {}
    plugin_of: dict[str, str] = {}
    for files, child in groups:
        events = []
        for path in files:
            try:
                loaded = list(loader_cls(str(path)).Load())
            except Exception as exc:  # a damaged record: the loader's own error, named with the file
                raise DataError(f"{path}: cannot read TensorBoard events ({type(exc).__name__}: {exc})") from None
            records, whole = _framing(path)
            if not whole or len(loaded) < records:  # the loader stops quietly at a cut or a bad checksum
                skipped["cut"].add(f"{path.name} ({len(loaded)} of {records}{'' if whole else '+'} records)")
            events += loaded
        rename = _child_tags(src, child, events, skipped) if child is not None else {}
        for ev in events:
            if not ev.HasField("summary"):
                continue
            for value in ev.summary.value:
                plugin = value.metadata.plugin_data.plugin_name if value.HasField("metadata") else ""
                plugin = plugin_of.setdefault(value.tag, plugin) or plugin
                tag = rename.get(value.tag, value.tag)
                if plugin == "hparams":
                    hparams.update(_hparams(value.metadata.plugin_data.content))
                    continue
                if value.HasField("simple_value"):
                    plugin, x = "scalars", float(value.simple_value)
                elif value.HasField("tensor") and plugin in ("scalars", "text"):
                    arr = tensor_util.make_ndarray(value.tensor)
                    if plugin == "text":
                        items = arr.reshape(-1).tolist()
                        text = "\n".join(
                            i.decode("utf-8", "replace") if isinstance(i, bytes) else str(i) for i in items
                        )
                        texts.append((ev.wall_time, int(ev.step), tag, text))
                        continue
                    if arr.size != 1:
                        skipped["non-scalar tensor"].add(tag)
                        continue
                    x = float(arr.reshape(-1)[0])
                else:
                    skipped[plugin or "untyped"].add(tag)
                    continue
                by_tag = scalars[int(ev.step)]
                if tag in by_tag and by_tag[tag][1] != x:  # the same tag and step written twice (a resumed run):
                    skipped["overwritten"].add(f"{tag}@{ev.step}")  # the later write wins (file, then record
                by_tag[tag] = (ev.wall_time, x)  # order: a resumed run's clock may be behind the first one's)
    return dict(scalars), texts, dict(skipped), hparams


def _framing(path: Path) -> tuple[int, bool]:
    """How many TFRecord frames the file holds (length, its checksum, data, its checksum) and whether the last one
    ends at the end of the file."""
    import struct

    records = 0
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        pos = 0
        while pos + 12 <= size:
            f.seek(pos)
            (length,) = struct.unpack("<Q", f.read(8))
            end = pos + 12 + length + 4
            if end > size:
                return records, False
            records, pos = records + 1, end
    return records, pos == size


def _child_tags(src: Path, child: str, events: list[Any], skipped: dict[str, set[str]]) -> dict[str, str]:
    """How a child directory's tags are named in the run; a directory SummaryWriter did not make is refused."""
    tags = {
        v.tag: v.metadata.plugin_data.plugin_name for ev in events if ev.HasField("summary") for v in ev.summary.value
    }
    if "hparams" in tags.values():  # add_hparams: the hyperparameters and their metrics, tags as written
        return {}
    rename: dict[str, str] = {}
    for tag in tags:
        stem = tag.replace("/", "_") + "_"  # torch: fw_logdir + "/" + main_tag.replace("/", "_") + "_" + key
        if not child.startswith(stem) or len(child) == len(stem):
            msg = f"{src}: event files in {src / child} too, not written by add_scalars or add_hparams; "
            raise DataError(msg + "import each directory as its own run")
        rename[tag] = f"{child[len(stem) :]}/{tag}"
        skipped["add_scalars"].add(f"{child}/ → {rename[tag]}")
    return rename


def _hparams(content: bytes) -> dict[str, Any]:
    """The hyperparameters of an hparams plugin summary (session_start_info), as numbers, strings or booleans."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
    except Exception:  # not decodable: nothing to keep
        return {}
    if data.WhichOneof("data") != "session_start_info":
        return {}
    out: dict[str, Any] = {}
    for name, value in data.session_start_info.hparams.items():
        kind = value.WhichOneof("kind")
        out[name] = getattr(value, kind) if kind in ("number_value", "string_value", "bool_value") else None
    return out


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
        elif tag == "epoch" or (tag == "train/epoch" and "epoch" not in by_tag):
            epoch = x
        else:  # train/loss is loss, unless a tag loss is there too: then each keeps its own name
            name = tag.removeprefix("train/")
            train[name if name == tag or name not in by_tag else tag] = x
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
