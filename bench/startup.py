"""Start-up benchmark: how long ``eventlog`` takes on a small run, whole process (issue 12: under 150 ms).

A small run is written once with the library (40 steps, their phases, 4 evals, each with two
samples, a group summary and its groups every 10 steps, a warning), so that every command has
something to show; each command then runs as a fresh process, ``--repeats`` times in rotated
rounds; the median wall time is reported next to three reference rows: ``python -c pass`` (the
interpreter alone), ``python -c "import typer"`` (what every command pays) and ``python -c "import
polars"`` (what a command that builds frames pays before any work).

    python bench/startup.py --repeats 7 --json bench/out/startup.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVENTLOG = str(Path(sys.executable).parent / "eventlog")
COMMANDS = [
    ["--help"],
    ["phases"],
    ["samples"],
    ["groups"],
    ["grep", "warn"],
    ["replay"],
    ["table"],
    ["trend", "accuracy"],
    ["eval"],
    ["summary"],
    ["validate"],
]

WRITE = """
import sys, eventlog
eventlog.init(sys.argv[1], run="small", console=False, config={"lr": 1e-6})
for step in range(1, 41):
    with eventlog.phase("training_step", step=step):
        eventlog.emit("step_metrics", step=step, metrics={"loss": 1 / step, "kl": 0.01 * step, "reward": step / 40})
    if step % 10 == 0:
        with eventlog.phase("validation", step=step):
            eventlog.emit("eval_summary", step=step, split="val", metrics={"accuracy": step / 50})
            for i in range(2):
                eventlog.emit("sample", step=step, split="val", index=i, prompt="2+2?", output="4", reward=1.0)
        eventlog.emit("group_summary", step=step, groups_total=2, groups_kept=2)
        for g in range(2):
            eventlog.emit("group_detail", step=step, group=g, rewards=[0.0, 1.0])
    if step == 20:
        eventlog.emit("log", level="warning", msg="warn: reward spread is low")
eventlog.finish()
"""


def small_run(where: Path) -> Path:
    """A run of 40 steps, 4 evals and what samples, groups and grep show, written by the library."""
    subprocess.run([sys.executable, "-c", WRITE, str(where)], check=True)
    return where


def timed(cmd: list[str]) -> float:
    """Wall seconds of one call; a failing command stops the benchmark (its time would be an error path's)."""
    t = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - t
    if done.returncode:
        raise SystemExit(f"startup.py: {' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode().strip()}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", type=Path)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = small_run(Path(tmp) / "small")
        lines = (run / "events.jsonl").read_bytes().count(b"\n")
        cmds = {
            "python -c pass (reference)": [sys.executable, "-c", "pass"],
            "python -c 'import typer' (reference)": [sys.executable, "-c", "import typer"],
            "python -c 'import polars' (reference)": [sys.executable, "-c", "import polars"],
        }
        for args in COMMANDS:
            tail = [] if args == ["--help"] else [str(run)]
            cmds["eventlog " + " ".join(args)] = [EVENTLOG, *args, *tail]
        names = list(cmds)
        walls: dict[str, list[float]] = {n: [] for n in names}
        for _ in range(2):  # bytecode written, files cached: what a user's second call sees
            for n in names:
                timed(cmds[n])
        for r in range(ns.repeats):
            for n in names[r % len(names) :] + names[: r % len(names)]:
                walls[n].append(timed(cmds[n]))
    rows = [
        {"command": n, "lines": lines, "median_ms": statistics.median(w) * 1e3, "walls_ms": [x * 1e3 for x in w]}
        for n, w in walls.items()
    ]
    for row in rows:
        print(json.dumps(row), flush=True)
    if ns.json:
        ns.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
