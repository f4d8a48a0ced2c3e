"""summary, samples, groups: reports over a run."""

from __future__ import annotations

import math
from collections import Counter
from typing import Annotated, Any

import polars as pl
import typer
from rich.text import Text

from eventlog._text import fmt_bytes, fmt_duration, fmt_num, sanitize
from eventlog._values import as_number
from eventlog_cli._errors import CliError, guarded
from eventlog_cli._load import Loaded, load
from eventlog_cli._options import Json, Paths, Strict
from eventlog_cli._output import console, emit_json, new_table, text
from eventlog_cli._query import better_high, nonfinite_metrics, phase_counts, phase_rows

_LIGHT = ["run_start", "run_end", "phase_start", "phase_end", "checkpoint", "log", "config_update"]
_MAIN_STEP = ("loss", "reward_mean", "kl", "entropy", "grad_norm")


def run_summary(
    loaded: Loaded, run: str, records: list[dict[str, Any]], steps: pl.DataFrame, evals: pl.DataFrame
) -> dict[str, Any]:
    """Everything ``summary`` shows for one run, as data."""
    start = next((r for r in records if r.get("event") == "run_start"), {})
    end = next((r for r in reversed(records) if r.get("event") == "run_end"), None)
    ts = [r["ts"] for r in records if isinstance(r.get("ts"), (int, float))]
    for f in (steps, evals):
        if f.height:
            ts += [x for x in f["ts"].to_list() if x is not None]
    duration = as_number(end.get("duration")) if end else None
    if duration is None and ts:
        duration = max(ts) - min(ts)
    rows = phase_rows(records)
    total_steps = start.get("total_steps")
    if total_steps is None and steps.height and "total_steps" in steps.columns:
        total_steps = steps["total_steps"].drop_nulls().max()
    out: dict[str, Any] = {
        "run": run,
        "status": end.get("status") if end else "interrupted",
        "status_inferred": end is None,
        "mode": end.get("mode") if end else None,
        "error": end.get("error") if end else None,
        "duration": duration,
        "steps_done": steps["step"].max() if steps.height else None,
        "total_steps": total_steps,
        "phases": [
            {"phase": n, "runs": c, "total": t, "share": t / duration if duration else None}
            for n, c, t, _ in phase_counts([r for r in rows if r.name != "training_step" or r.depth <= 1])
        ],
        "metrics": _metric_stats(evals, "eval", None) + _metric_stats(steps, "step", _MAIN_STEP),
        "checkpoints": [
            {"step": r.get("step"), "path": r.get("path"), "size_bytes": r.get("size_bytes")}
            for r in records
            if r.get("event") == "checkpoint"
        ],
        "config_updates": [
            {"source": r.get("source"), "config": r.get("config")}
            for r in records
            if r.get("event") == "config_update" and isinstance(r.get("config"), dict)
        ],
        "warnings": _warnings(loaded, records, rows, steps, evals, end),
    }
    return out


def _config_text(cfg: dict[str, Any], limit: int = 160) -> str:
    """``lr=0.001, layers=4, … (12 keys)``: nested objects flattened with dots, clipped."""
    flat: list[str] = []

    def walk(prefix: str, v: Any) -> None:
        if isinstance(v, dict) and v:
            for k, x in v.items():
                walk(f"{prefix}{k}.", x)
        else:
            flat.append(f"{prefix[:-1]}={fmt_num(v) if isinstance(v, (int, float)) else v}")

    walk("", cfg)
    body = ", ".join(flat)
    if len(body) > limit:
        body = body[: limit - 1] + "…"
    return f"{body} ({len(flat)} key{'s' if len(flat) != 1 else ''})"


def _metric_stats(frame: pl.DataFrame, source: str, only: tuple[str, ...] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if frame.height == 0:
        return out
    frame = frame.sort("step")
    for col in frame.columns:
        if not col.startswith("metrics."):
            continue
        name = col[8:]
        if only is not None and name not in only:
            continue
        part = frame.select("step", col).drop_nulls()
        if part.height == 0:
            continue
        vals = part[col].to_list()
        finite = [(v, s) for v, s in zip(vals, part["step"].to_list(), strict=True) if math.isfinite(v)]
        best = (max if better_high(name) else min)(finite, key=lambda x: x[0]) if finite else (None, None)
        out.append(
            {
                "metric": f"{source}.{name}",
                "last": vals[-1],
                "last_step": part["step"][-1],
                "best": best[0],
                "best_step": best[1],
            }
        )
    return out


def _warnings(
    loaded: Loaded,
    records: list[dict[str, Any]],
    rows: list[Any],
    steps: pl.DataFrame,
    evals: pl.DataFrame,
    end: dict[str, Any] | None,
) -> list[str]:
    out = []
    for frame, what in ((steps, "step"), (evals, "eval")):
        for col, where in nonfinite_metrics(frame) if frame.height else []:
            shown = ", ".join(str(s) for s in where[:8]) + (" ..." if len(where) > 8 else "")
            out.append(f"{what} {col} is NaN/Inf at step(s) {shown}")
    if end and end.get("events_dropped"):
        out.append(f"{end['events_dropped']} event(s) dropped by the writer")
    out += loaded.seq_problems()
    skipped = [s for s in loaded.skipped]
    if skipped:
        out.append(f"{len(skipped)} line(s) skipped while reading: " + ", ".join(f"line {s.line}" for s in skipped[:5]))
    bad = [r for r in rows if r.status != "ok"]
    for r in bad[:10]:
        out.append(f"phase {r.name}{f' (step {r.step})' if r.step is not None else ''} {r.status}")
    levels = Counter(r.get("level") for r in records if r.get("event") == "log")
    if levels.get("warning") or levels.get("error") or levels.get("critical"):
        out.append(
            f"log: {levels.get('warning', 0)} warning(s), "
            f"{levels.get('error', 0) + levels.get('critical', 0)} error(s) (eventlog grep to see them)"
        )
    return out


@guarded
def summary(paths: Paths = None, json_output: Json = False, strict: Strict = False) -> None:
    """One screen per run: status, duration, steps, phases, metrics, checkpoints, warnings."""
    loaded = load(paths or [])
    loaded.report(strict)
    records = loaded.records(_LIGHT)
    steps, evals = loaded.frame("step_metrics"), loaded.frame("eval_summary")
    runs = list(dict.fromkeys([r.get("run") for r in records] + (steps["run"].to_list() if steps.height else [])))
    if not runs:
        raise CliError("no events in these files")
    result = [
        run_summary(
            loaded,
            str(run),
            [r for r in records if r.get("run") == run],
            steps.filter(pl.col("run") == run) if steps.height else steps,
            evals.filter(pl.col("run") == run) if evals.height else evals,
        )
        for run in runs
    ]
    if json_output:
        emit_json(result if len(result) > 1 else result[0])
        return
    for s in result:
        _print_summary(s)


def _print_summary(s: dict[str, Any]) -> None:
    out = console()
    status = s["status"] + (" (inferred: no run_end)" if s["status_inferred"] else "")
    if s.get("mode"):
        status += f" ({s['mode']})"
    style = {"completed": "green", "failed": "bold red"}.get(s["status"], "yellow")
    out.print(Text.assemble("run ", text(s["run"], "bold"), ": ", text(status, style)))
    steps = f"{fmt_num(s['steps_done'])}/{fmt_num(s['total_steps'])}" if s["steps_done"] is not None else "-"
    out.print(text(f"duration {fmt_duration(s['duration'])} | steps {steps}"))
    if s.get("error"):
        out.print(text(f"error: {s['error']}", "red"))
    if s["phases"]:
        t = new_table("phase", "runs", "time", "share", right=("runs", "time", "share"))
        for p in s["phases"]:
            share = f"{100 * p['share']:.1f}%" if p["share"] is not None else ""
            t.add_row(text(p["phase"]), text(p["runs"]), text(fmt_duration(p["total"])), text(share))
        out.print(t)
    if s["metrics"]:
        t = new_table("metric", "last", "at step", "best", "at step", right=("last", "at step", "best"))
        for m in s["metrics"]:
            t.add_row(
                text(m["metric"]),
                text(fmt_num(m["last"])),
                text(m["last_step"]),
                text(fmt_num(m["best"])),
                text(fmt_num(m["best_step"])),
            )
        out.print(t)
    ck = s["checkpoints"]
    if ck:
        last = ck[-1]
        out.print(
            text(
                f"checkpoints: {len(ck)}, last at step {fmt_num(last['step'])}: {sanitize(last['path'])}"
                + (f" ({fmt_bytes(last['size_bytes'])})" if last.get("size_bytes") is not None else "")
            )
        )
    for u in s["config_updates"]:
        src = f" ({u['source']})" if u.get("source") else ""
        out.print(text(f"config update{src}: {_config_text(u['config'])}"))
    out.print(text("warnings:" if s["warnings"] else "warnings: none", "yellow" if s["warnings"] else ""))
    for w in s["warnings"]:
        out.print(text(f"  ⚠ {w}", "yellow"))
    out.print()


def _clip(s: str, full: bool, head: int = 300, tail: int = 150) -> str:
    if full or len(s) <= head + tail + 40:
        return s
    return f"{s[:head]} … [{len(s) - head - tail:,} chars omitted; --full shows all] … {s[-tail:]}"


@guarded
def samples(
    paths: Paths = None,
    wrong: Annotated[bool, typer.Option("--wrong", help="Only incorrect outputs.")] = False,
    step: Annotated[int | None, typer.Option("--step", help="Only this step.")] = None,
    split: Annotated[str | None, typer.Option("--split", help="Only this split (val, train...).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most N samples (the last N).")] = 10,
    full: Annotated[bool, typer.Option("--full", help="Do not shorten long texts.")] = False,
    json_output: Json = False,
    strict: Strict = False,
) -> None:
    """Model outputs with prompt, golden and extracted answers, reward and correctness."""
    loaded = load(paths or [], ["sample"])
    loaded.report(strict)
    rows = [
        r
        for r in loaded.records(["sample"])
        if (not wrong or r.get("correct") is False)
        and (step is None or r.get("step") == step)
        and (split is None or r.get("split") == split)
    ][-limit:]
    if json_output:
        emit_json([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
        return
    if not rows:
        raise CliError("no samples match")
    out = console()
    for r in rows:
        correct = r.get("correct")
        mark = ("✓ correct", "green") if correct is True else ("✗ wrong", "red") if correct is False else ("?", "")
        head = " · ".join(
            x
            for x in (
                f"step {fmt_num(r.get('step'))}",
                sanitize(r.get("split") or ""),
                f"#{fmt_num(r.get('index'))}" if r.get("index") is not None else "",
                f"reward {fmt_num(r.get('reward'))}",
            )
            if x
        )
        out.print(Text.assemble(("── ", "dim"), text(head, "bold"), " ", text(mark[0], mark[1])))
        if r.get("prompt") is not None:
            out.print(Text.assemble(("Prompt:    ", "dim"), text(_clip(str(r["prompt"]), full))))
        if r.get("golden") is not None:
            out.print(Text.assemble(("Golden:    ", "dim"), text(", ".join(map(str, r["golden"])))))
        if "extracted" in r:
            out.print(Text.assemble(("Extracted: ", "dim"), text(r["extracted"])))
        out.print(Text.assemble(("Output:    ", "dim"), text(_clip(str(r.get("output", "")), full))), soft_wrap=True)
        out.print()


@guarded
def groups(
    paths: Paths = None,
    step: Annotated[
        int | None, typer.Option("--step", help="Advantage tables of this step (default: the last).")
    ] = None,
    json_output: Json = False,
    strict: Strict = False,
) -> None:
    """Per step: the group summary, and turn-by-turn advantage tables when present."""
    loaded = load(paths or [], ["group_summary", "group_detail"])
    loaded.report(strict)
    summ = loaded.records(["group_summary"])
    details = loaded.records(["group_detail"])
    if not summ and not details:
        raise CliError("no group_summary or group_detail events in these files")
    at = step if step is not None else (details[-1].get("step") if details else None)
    chosen = [d for d in details if d.get("step") == at]
    if json_output:
        emit_json(
            {
                "summaries": [{k: v for k, v in r.items() if not k.startswith("_")} for r in summ],
                "details": [{k: v for k, v in r.items() if not k.startswith("_")} for r in chosen],
            }
        )
        return
    out = console()
    cols = ("step", "groups", "kept", "filtered", "early exit", "rollout", "train", "tokens", "trainable")
    t = new_table(*cols, right=cols)
    for r in summ:
        tt, tr = r.get("tokens_total"), r.get("tokens_trainable")
        share = f"{100 * tr / tt:.1f}%" if isinstance(tt, int) and isinstance(tr, int) and tt else ""
        t.add_row(
            *(
                text(x)
                for x in (
                    fmt_num(r.get("step")),
                    fmt_num(r.get("groups_total")),
                    fmt_num(r.get("groups_kept")),
                    fmt_num(r.get("groups_filtered")),
                    fmt_num(r.get("rollouts_early_exit")),
                    fmt_duration(r.get("rollout_time")),
                    fmt_duration(r.get("train_time")),
                    f"{tt:,}" if isinstance(tt, int) else "-",
                    share,
                )
            )
        )
    if summ:
        out.print(t)
    for d in chosen:
        _advantages(d)


def _advantages(d: dict[str, Any]) -> None:
    adv = d.get("turn_advantages") or []
    rewards = d.get("rewards") or []
    turns = max((len(r) for r in adv), default=0)
    t = new_table(
        "rollout",
        "reward",
        *(f"turn {i + 1}" for i in range(turns)),
        right=("rollout", "reward", *(f"turn {i + 1}" for i in range(turns))),
    )
    console().print(
        text(f"Turn-by-turn advantages: step {fmt_num(d.get('step'))}, group {fmt_num(d.get('group'))}", "bold")
    )
    for i in range(max(len(adv), len(rewards))):
        row = adv[i] if i < len(adv) else []
        cells = [("" if x is None else (f"{x:+.3f}" if isinstance(x, (int, float)) else fmt_num(x))) for x in row]
        t.add_row(
            text(i),
            text(fmt_num(rewards[i]) if i < len(rewards) else ""),
            *(text(c) for c in cells),
            *(text("") for _ in range(turns - len(cells))),
        )
    console().print(t)


def register(app: typer.Typer) -> None:
    app.command("summary")(summary)
    app.command("samples")(samples)
    app.command("groups")(groups)
