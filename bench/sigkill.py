"""SIGKILL loss: how many emitted events a ``kill -9`` costs (``make bench`` reports it).

A child emits ``log`` events in a tight loop (or one per millisecond) and
counts them in shared memory; after ``--seconds`` it is killed with SIGKILL.
Lost = emitted - on disk. tests/test_reliability.py checks that what is on
disk is a valid contiguous prefix; the size of the loss is a timing matter,
so it is measured here and not asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import mmap, sys, time, eventlog
eventlog.init(sys.argv[1], run="k", console="off")
paced = sys.argv[2] == "paced"
with open(sys.argv[3], "wb") as f:
    f.write(b"\0" * 8)
fd = open(sys.argv[3], "r+b")
shared = mmap.mmap(fd.fileno(), 8)
print("ready", flush=True)
i = 0
while True:
    eventlog.emit("log", level="info", msg="tick", i=i)
    i += 1
    shared[0:8] = i.to_bytes(8, "little")
    if paced:
        time.sleep(0.001)
"""


def measure(mode: str, seconds: float) -> dict[str, Any]:
    """Run one child, kill it, count what reached the file."""
    with tempfile.TemporaryDirectory() as tmp:
        counter = Path(tmp) / "count"
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(Path(tmp) / "r"), mode, str(counter)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert proc.stdout is not None and "ready" == proc.stdout.readline().strip()
        time.sleep(seconds)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        emitted = int.from_bytes(counter.read_bytes(), "little")
        lines = (Path(tmp) / "r" / "events.jsonl").read_bytes().split(b"\n")[:-1]
        events = [orjson.loads(line) for line in lines]
        written = sum(e["event"] == "log" for e in events)
        contiguous = [e["seq"] for e in events] == list(range(len(events)))
    return {"mode": mode, "emitted": emitted, "written": written, "lost": emitted - written, "contiguous": contiguous}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=1.5, help="how long the child emits before the kill")
    ap.add_argument("--json", help="write the results here")
    ns = ap.parse_args()
    results = [measure(mode, ns.seconds) for mode in ("tight", "paced")]
    text = json.dumps(results, indent=2)
    if ns.json:
        Path(ns.json).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
