"""validate, export, demo: whole files."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import polars as pl
import typer

from eventlog._schema import get_type, validate_event
from eventlog_cli._errors import CliError, guarded
from eventlog_cli._load import load
from eventlog_cli._options import Json, Paths
from eventlog_cli._output import console, emit_json, new_table, text


def check_files(paths: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """Every line of every file checked; returns (lines read, problems with file and line)."""
    loaded = load(paths)
    problems: list[dict[str, Any]] = [{"file": s.path, "line": s.line, "problem": s.reason} for s in loaded.skipped]
    seen: dict[tuple[int, Any], dict[int, int]] = {}
    count = 0
    for f, n, line in loaded.lines.select("file", "n", "line").iter_rows():
        count += 1
        where = {"file": loaded.files[f], "line": n + 1}
        try:
            ev = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            problems.append({**where, "problem": f"not valid JSON ({str(exc).split(':')[0]})"})
            continue
        if not isinstance(ev, dict):
            problems.append({**where, "problem": "a JSON value that is not an object"})
            continue
        for p in validate_event(ev):
            problems.append({**where, "problem": p})
        dup = _duplicate_key(line, ev)
        if dup:
            problems.append({**where, "problem": f"duplicate key {dup!r} (readers keep the last value)"})
        if get_type(ev.get("event", "")) is None and isinstance(ev.get("event"), str):
            problems.append(
                {**where, "problem": f"unknown event type {ev['event']!r} (not registered; passed through)"}
            )
        seq = ev.get("seq")
        if type(seq) is int:
            by_seq = seen.setdefault((f, ev.get("rank")), {})
            if seq in by_seq:
                problems.append({**where, "problem": f"seq {seq} repeats line {by_seq[seq]}"})
            else:
                by_seq[seq] = n + 1
    for (f, _rank), by_seq in seen.items():
        for a, b in itertools.pairwise(sorted(by_seq)):
            if b > a + 1:
                problems.append(
                    {
                        "file": loaded.files[f],
                        "line": by_seq[b],
                        "problem": f"seq gap: {b - a - 1} event(s) missing between seq {a} and {b}",
                    }
                )
    problems.sort(key=lambda p: (p["file"], p["line"]))
    return count, problems


def _count_keys(v: Any) -> int:
    if isinstance(v, dict):
        return len(v) + sum(_count_keys(x) for x in v.values())
    if isinstance(v, list):
        return sum(_count_keys(x) for x in v)
    return 0


def _duplicate_key(line: str, ev: dict[str, Any]) -> str | None:
    """A key repeated within one object, if any (an exact check only when a cheap count disagrees)."""
    if line.count('":') == _count_keys(ev):
        return None
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        found.extend(k for k in keys if keys.count(k) > 1)
        return dict(items)

    json.loads(line, object_pairs_hook=pairs)
    return found[0] if found else None


@guarded
def validate(paths: Paths = None, json_output: Json = False) -> None:
    """Check every line against the schema of its type; exit 1 when anything is wrong."""
    count, problems = check_files(paths or [])
    if json_output:
        emit_json({"lines": count, "problems": problems, "ok": not problems})
    else:
        out = console()
        if problems:
            t = new_table("file", "line", "problem", right=("line",))
            for p in problems:
                t.add_row(text(Path(p["file"]).name), text(p["line"]), text(p["problem"]))
            out.print(t)
        out.print(text(f"{count} events checked, {len(problems)} problem(s)", "red" if problems else "green"))
    if problems:
        raise typer.Exit(1)


@guarded
def export(
    paths: Paths = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for one file per event type.")] = Path("export"),
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
) -> None:
    """One Parquet (or CSV) file per event type; metrics/timing flattened to metrics.NAME columns."""
    if fmt not in ("parquet", "csv"):
        raise CliError(f"--format {fmt!r}: expected parquet or csv", 2)
    loaded = load(paths or [])
    loaded.report()
    types = loaded.lines["event"].unique(maintain_order=True).to_list()
    if not types:
        raise CliError("no events in these files")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create {out}: {exc.strerror}") from None
    for name in types:
        frame = loaded.frame(name).drop([c for c in ("file", "n") if c in loaded.frame(name).columns])
        safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
        target = out / f"{safe}.{fmt}"
        if fmt == "csv":  # CSV has no lists: nested columns become JSON text
            nested = [c for c, t in frame.schema.items() if isinstance(t, (pl.List, pl.Struct))]
            frame = frame.with_columns(pl.Series(c, [_json_text(v) for v in frame[c].to_list()]) for c in nested)
            frame.write_csv(target, null_value="")
        else:
            frame.write_parquet(target)
        sys.stdout.write(f"{target}\t{frame.height} rows\n")


def _json_text(v: Any) -> str | None:
    return None if v is None else orjson.dumps(v).decode()


def demo(
    out: Annotated[str, typer.Option("--out", help="Run directory.")] = "runs/demo",
    steps: Annotated[int, typer.Option("--steps", min=1)] = 60,
    delay: Annotated[float, typer.Option("--delay", min=0.0, help="Seconds of simulated work per step.")] = 0.1,
    style: Annotated[str, typer.Option("--style", help="banner, compact or off.")] = "banner",
    verbose: Annotated[bool, typer.Option("--verbose")] = False,
) -> None:
    """Run the demo GRPO training (numpy) that emits the whole event flow."""
    from examples.grpo_demo import main as demo_main

    args = ["--out", out, "--steps", str(steps), "--delay", str(delay), "--style", style]
    raise typer.Exit(demo_main(args + (["--verbose"] if verbose else [])))


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("export")(export)
    app.command("demo")(demo)
