"""Analysis-side benchmark: two questions about a synthetic run, answered by every contender.

* trend: eval accuracy by step (``eventlog trend accuracy --json``);
* table: six step metrics for every step (``eventlog table --cols ... --json``, and the default text).

Each contender runs as a whole process (interpreter start and imports
included), timed with ``/usr/bin/time`` for wall time, CPU time and peak RSS;
its answer is compared with a reference computed by a full orjson parse. The
contenders run in rounds (every contender once per round, the order rotated
each round) and the input file is read once before every timed run, so all of
them start from a warm page cache.

    python bench/analysis.py --sizes 100000 1000000 --repeats 3 --json bench/out/analysis.json
    python bench/analysis.py --sizes 1000000 10000000 --gz --repeats 3 --json bench/out/analysis.json

``--gz`` also reads a gzip copy of each run (``run_N.jsonl.gz``, made once): eventlog alone, with
``zcat`` as the floor; its ``size_mb`` is the decompressed size. At 10,000,000 events (6 GB) only
eventlog and the floor run (the other contenders take minutes or load the whole file).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import generate  # noqa: E402

METRICS = ["loss", "kl", "reward_mean", "entropy", "grad_norm", "clip_frac"]
EVENTLOG = str(Path(sys.executable).parent / "eventlog")

PY_PANDAS = r"""
import json, sys, pandas as pd
df = pd.read_json(sys.argv[1], lines=True)
q, metrics = sys.argv[3], sys.argv[4].split(",")
if q == "trend":
    part = df[df["event"] == "eval_summary"]
    rows = [[int(s), m.get("accuracy")] for s, m in zip(part["step"], part["metrics"]) if "accuracy" in m]
else:
    part = df[df["event"] == "step_metrics"]
    rows = [[int(s), *[m.get(k) for k in metrics]] for s, m in zip(part["step"], part["metrics"])]
json.dump(rows, open(sys.argv[2], "w"))
"""
PY_POLARS = r"""
import json, sys, polars as pl
df = pl.read_ndjson(sys.argv[1])
q, metrics = sys.argv[3], sys.argv[4].split(",")
if q == "trend":
    part = df.filter(pl.col("event") == "eval_summary").select("step", pl.col("metrics").struct.field("accuracy"))
else:
    part = df.filter(pl.col("event") == "step_metrics").select(
        "step", *[pl.col("metrics").struct.field(k) for k in metrics])
json.dump([list(r) for r in part.rows()], open(sys.argv[2], "w"))
"""
PY_DUCKDB = r"""
import json, sys, duckdb
q, metrics = sys.argv[3], sys.argv[4].split(",")
src = f"read_json_auto('{sys.argv[1]}')"
if q == "trend":
    rows = duckdb.sql(f"select step, metrics.accuracy from {src} where event = 'eval_summary'").fetchall()
else:
    cols = ", ".join(f"metrics.{k}" for k in metrics)
    rows = duckdb.sql(f"select step, {cols} from {src} where event = 'step_metrics'").fetchall()
json.dump([list(r) for r in rows], open(sys.argv[2], "w"))
"""
PY_LOOP = r"""
import json, sys, orjson
q, metrics = sys.argv[3], sys.argv[4].split(",")
mark = b'"event":"eval_summary"' if q == "trend" else b'"event":"step_metrics"'
rows = []
with open(sys.argv[1], "rb") as f:
    for line in f:
        if mark in line:
            e = orjson.loads(line)
            m = e["metrics"]
            if q == "trend":
                if "accuracy" in m:
                    rows.append([e["step"], m["accuracy"]])
            else:
                rows.append([e["step"], *[m.get(k) for k in metrics]])
json.dump(rows, open(sys.argv[2], "w"))
"""


def _jq(q: str) -> str:
    if q == "trend":
        return 'select(.event=="eval_summary") | select(.metrics.accuracy != null) | [.step, .metrics.accuracy]'
    return 'select(.event=="step_metrics") | [.step, ' + ", ".join(f".metrics.{k}" for k in METRICS) + "]"


def commands(path: str, out: str, q: str) -> dict[str, list[str] | None]:
    """The command line of every contender for question ``q``."""
    py = sys.executable
    metrics = ",".join(METRICS)
    ev_args = ["trend", "accuracy", "--json"] if q == "trend" else ["table", "--cols", "step," + metrics, "--json"]
    floor = "zcat" if path.endswith(".gz") else "cat"
    text = {}  # the default text table too (issue 12's target covers both); wide enough for one block
    if q == "table":
        text_args = " ".join(ev_args[:-1])
        text["eventlog (text)"] = ["sh", "-c", f"COLUMNS=200 '{EVENTLOG}' {text_args} '{path}' > '{out}'"]
    return {
        "cat (I/O floor)": ["sh", "-c", f"{floor} '{path}' > /dev/null"],
        "eventlog": ["sh", "-c", f"'{EVENTLOG}' {' '.join(ev_args)} '{path}' > '{out}'"],
        **text,
        "python loop + orjson": [py, "-c", PY_LOOP, path, out, q, metrics],
        "jq": ["sh", "-c", f"jq -c '{_jq(q)}' '{path}' > '{out}'"] if shutil.which("jq") else None,
        "polars read_ndjson": [py, "-c", PY_POLARS, path, out, q, metrics],
        "duckdb read_json_auto": [py, "-c", PY_DUCKDB, path, out, q, metrics],
        "pandas read_json": [py, "-c", PY_PANDAS, path, out, q, metrics],
    }


_WHOLE_FILE_READERS = {"pandas read_json", "polars read_ndjson", "duckdb read_json_auto"}


def reference(path: Path, q: str) -> list[list[Any]]:
    rows = []
    with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
        for line in f:
            e = orjson.loads(line)
            if q == "trend" and e["event"] == "eval_summary" and "accuracy" in e["metrics"]:
                rows.append([e["step"], e["metrics"]["accuracy"]])
            elif q == "table" and e["event"] == "step_metrics":
                rows.append([e["step"], *[e["metrics"].get(k) for k in METRICS]])
    return rows


def _norm(v: Any) -> Any:
    if v in ("NaN", "nan") or (isinstance(v, float) and math.isnan(v)):
        return "nan"
    return round(v, 12) if isinstance(v, float) else v


def parse_answer(name: str, out: Path, q: str) -> list[list[Any]]:
    """Every contender's answer as rows of [step, values...]."""
    text = out.read_text()
    if name == "eventlog (text)":  # cells are rounded for reading: the steps are compared, in order
        steps = [line.split()[0] for line in text.splitlines()[1:] if line.strip()]
        return [[int(s), *["text"] * len(METRICS)] for s in steps]
    if name == "jq":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    if name == "eventlog" and q == "trend":
        return [[r["step"], r["value"]] for r in data["rows"]]
    if name == "eventlog":
        return [[r["step"], *[r[k] for k in METRICS]] for r in data]
    return data


def warm(path: Path) -> None:
    """Read the file once, so every timed run starts from the page cache (files are evicted within minutes)."""
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 22):
            pass


def timed(cmd: list[str]) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds user+system, peak RSS MB, error) of one run."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", t.name, *cmd], capture_output=True, text=True, check=False
        )
        wall, user, system, rss = t.read().split()[-4:]
    err = "" if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["failed"])[-1][:160]
    return float(wall), float(user) + float(system), int(rss) / 1024, err


def bench_file(
    path: Path, repeats: int, only: set[str] | None = None, size_mb: float | None = None
) -> list[dict[str, Any]]:
    """Every contender (or ``only`` these) on both questions, in rounds: each round runs every contender
    once, in an order rotated by one per round, the file warmed before each run; the rows keep every
    round's figures (``walls``, ``cpus``) so that ratios can be taken round by round. ``size_mb``: the
    text's size when ``path`` is compressed."""
    results = []
    size_mb = size_mb or path.stat().st_size / 1e6
    for q in ("trend", "table"):
        ref = [[_norm(x) for x in r] for r in reference(path, q)]
        with tempfile.TemporaryDirectory() as tmp:
            outs = {}
            rows: dict[str, dict[str, Any]] = {}
            runs: dict[str, list[tuple[float, float, float, str]]] = {}
            cmds = {}
            for i, (name, cmd) in enumerate(commands(str(path), "", q).items()):
                row: dict[str, Any] = {"file": path.name, "size_mb": size_mb, "question": q, "contender": name}
                rows[name] = row
                if only is not None and name not in only:
                    continue
                if cmd is None:
                    row["error"] = "not installed"
                    continue
                if size_mb > 2000 and name in _WHOLE_FILE_READERS:
                    row["error"] = "skipped: loads the whole file into memory (pandas needed 10x)"
                    continue
                outs[name] = Path(tmp) / f"answer{i}.json"
                cmds[name] = commands(str(path), str(outs[name]), q)[name]
                runs[name] = []
            names = list(cmds)
            for r in range(repeats):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    warm(path)
                    runs[name].append(timed(cmds[name]))  # type: ignore[arg-type]
            for name, row in rows.items():
                if only is not None and name not in only:
                    continue
                if name in runs:
                    _summarise(row, runs[name], outs[name], ref, q)
                results.append(row)
                print(json.dumps(row), flush=True)
    return results


def _summarise(row: dict[str, Any], runs: list[tuple[float, float, float, str]], out: Path, ref: Any, q: str) -> None:
    errors = [e for *_, e in runs if e]
    row.update(
        walls=[w for w, *_ in runs],
        cpus=[c for _, c, *_ in runs],
        wall_s=statistics.median(w for w, *_ in runs),
        cpu_s=statistics.median(c for _, c, *_ in runs),
        peak_rss_mb=max(m for *_, m, _ in runs),
    )
    if errors:
        row["error"] = errors[0]
    elif row["contender"] != "cat (I/O floor)":
        got = [[_norm(x) for x in r] for r in parse_answer(row["contender"], out, q)]
        if row["contender"] == "eventlog (text)":
            ref = [[r[0], *["text"] * (len(r) - 1)] for r in ref]
        row["correct"] = got == ref
        if not row["correct"]:
            row["why"] = _difference(ref, got)


def _difference(ref: list[list[Any]], got: list[list[Any]]) -> str:
    if len(ref) != len(got):
        return f"{len(got)} rows instead of {len(ref)}"
    for a, b in zip(ref, got, strict=True):
        if a != b:
            return f"first difference: expected {a} got {b}"[:160]
    return "?"


def packed(path: Path) -> Path:
    """A gzip copy of ``path`` beside it (level 1, as a logger's rotation would write it), made once."""
    out = path.with_name(path.name + ".gz")
    if not out.exists() or out.stat().st_mtime < path.stat().st_mtime:
        with open(path, "rb") as src, gzip.open(out, "wb", compresslevel=1) as dst:
            while block := src.read(1 << 24):
                dst.write(block)
    return out


_HUGE = 10_000_000  # events from which only eventlog and the floor run
_ONLY_EVENTLOG = {"cat (I/O floor)", "eventlog"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--gz", action="store_true", help="also a gzip copy of each run (eventlog alone)")
    ns = ap.parse_args()
    # An editable install has no bytecode, and PYTHONDONTWRITEBYTECODE (set on these machines) keeps every
    # run compiling eventlog's modules again (~0.1 s a command): write it once, as a wheel install would.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "eventlog"), str(ROOT / "cli")], check=True)
    results = []
    for n in ns.sizes:
        path = ns.data / f"run_{n}.jsonl"
        if not path.exists():
            print(f"generating {path} ...", file=sys.stderr)
            generate.write(path, n)
        results += bench_file(path, ns.repeats, _ONLY_EVENTLOG if n >= _HUGE else None)
        if ns.gz:
            size = path.stat().st_size / 1e6
            results += bench_file(packed(path), ns.repeats, _ONLY_EVENTLOG, size_mb=size)
    if ns.json:
        ns.json.parent.mkdir(parents=True, exist_ok=True)
        ns.json.write_text(json.dumps(results, indent=2))
    import run  # the tables and the issue-12 targets (met / NOT met, with ratios), as RESULTS.md shows them

    print("\n".join(run.analysis_section(results)), file=sys.stderr)


if __name__ == "__main__":
    main()
