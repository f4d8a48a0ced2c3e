"""What the hand-off to the writer thread costs the caller (issue 12), measured, not adopted.

Runs ``emit()`` of the bench's ``step_metrics`` payload N times in a fresh process, two ways:

* ``thread``: eventlog as shipped; the caller queues encoded lines, the writer thread numbers and writes them.
* ``caller``: a prototype where the caller numbers and writes every 128 lines itself (the sink's own
  ``write``), with the writer thread idle. It has none of the guarantees of RELIABILITY.md (a signal
  handler landing mid-write can lose or repeat a batch): it only shows what the hand-off costs.

Prints, per way and round: wall, process CPU and the caller thread's CPU per event (ns).
Usage: ``python bench/handoff.py --n 200000 --rounds 3``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(way: str, n: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import emit as bench_emit

    import eventlog
    from eventlog import _run

    payloads = [bench_emit.payload(i) for i in range(n)]
    eventlog.init(tempfile.mkdtemp(), run="h", console="off", signals=False)
    st = _run.current_run()
    assert st is not None
    eventlog.flush()  # run_start written: from here on only this thread writes in the prototype
    batch: list[bytes] = []
    if way == "caller":
        sink = st.writer.sink

        def put(line: bytes) -> None:
            batch.append(line)
            if len(batch) >= 128:
                sink.write(batch[:], 0)
                batch.clear()

        st.writer.put_line = put  # type: ignore[method-assign]
    emit = eventlog.emit
    c0, t0, m0 = time.process_time(), time.perf_counter(), time.thread_time()
    for p in payloads:
        emit("step_metrics", **p)
    if batch:
        st.writer.sink.write(batch[:], 0)
    m1 = time.thread_time()
    eventlog.finish()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall_ns": wall / n * 1e9, "cpu_ns": cpu / n * 1e9, "caller_cpu_ns": (m1 - m0) / n * 1e9}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", choices=["thread", "caller"])
    args = ap.parse_args()
    if args.child:
        sys.stdout.write(json.dumps(child(args.child, args.n)) + "\n")
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for r in range(args.rounds):
        for way in ("thread", "caller") if r % 2 == 0 else ("caller", "thread"):
            cmd = [sys.executable, __file__, "--child", way, "--n", str(args.n)]
            out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout)
            figures = ", ".join(f"{k} {v:,.0f}" for k, v in out.items())
            sys.stdout.write(f"round {r + 1} {way:6}: {figures}\n")


if __name__ == "__main__":
    main()
