"""Where ``eventlog table --cols ... --json`` spends its time on a large run, part by part (issue 12's 0.7 s target).

Each round is a fresh process that runs the command as the ``eventlog`` script would, with timers
around its parts: the imports (the CLI with the command's module, polars), the scan (selecting the
lines and checking each), the frame (decoding the selected lines into typed columns), the JSON
rows, and the rest of the command (run labels, resumes, latest value per step). The file is read
once before each round (warm page cache).

    python bench/breakdown.py bench/data/run_1000000.jsonl --repeats 3 --json bench/out/breakdown.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

METRICS = "step,loss,kl,reward_mean,entropy,grad_norm,clip_frac"  # as bench/analysis.py's table question

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import polars
from eventlog_cli._app import build
from eventlog_cli.commands import _output
from eventlog_cli.read import _loaded
app = build(["table"])
parts = {"imports": time.perf_counter() - t0, "scan": 0.0, "frame": 0.0, "json rows": 0.0}

def timed(name, fn):
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            parts[name] += time.perf_counter() - t
    return wrapper

_loaded.scan = timed("scan", _loaded.scan)
_loaded.Loaded.frame = timed("frame", _loaded.Loaded.frame)
import eventlog_cli.commands._render as render
render.emit_json_rows = timed("json rows", render.emit_json_rows)
sys.stdout = open(os.devnull, "w")
t1 = time.perf_counter()
try:
    app(["table", "--cols", sys.argv[2], "--json", sys.argv[1]], standalone_mode=False)
finally:
    total = time.perf_counter() - t0
    parts["rest of the command"] = time.perf_counter() - t1 - parts["scan"] - parts["frame"] - parts["json rows"]
    parts["total"] = total
    sys.stderr.write(json.dumps(parts) + "\n")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ns = ap.parse_args()
    rounds = []
    for _ in range(ns.repeats):
        with open(ns.path, "rb") as f:  # warm the page cache
            while f.read(1 << 24):
                pass
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(ns.path), METRICS], capture_output=True, text=True, check=True
        )
        rounds.append(json.loads(proc.stderr.strip().splitlines()[-1]))
    out = {
        "file": ns.path.name,
        "size_mb": ns.path.stat().st_size / 1e6,
        "command": f"eventlog table --cols {METRICS} --json",
        "median_s": {k: statistics.median(r[k] for r in rounds) for k in rounds[0]},
        "rounds": rounds,
    }
    print(json.dumps(out["median_s"]), flush=True)
    if ns.json:
        ns.json.parent.mkdir(parents=True, exist_ok=True)
        ns.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
