"""Why a target is not met, in figures of the same run: RESULTS.md prints these under each targets table.

Each reason is built from what the run measured (a contender that does less, a reference row
of the start-up benchmark), so a gap is explained by a measurement of this machine on this day,
never by a remark that may have stopped being true.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Check = tuple[str, str, str, bool | None]  # (target, wanted, measured, met)


def _missed(checks: Sequence[Check], prefix: str) -> bool:
    return any(name.startswith(prefix) and ok is False for name, _, _, ok in checks)


def emit_gaps(rows: dict[str, dict[str, Any]], loops: list[dict[str, Any]], checks: Sequence[Check]) -> list[str]:
    """Reasons for the emit targets not met (``rows``: the contenders by name; ``loops``: the training loops)."""
    out: list[str] = []
    el, ow, bare = rows.get("eventlog", {}), rows.get("orjson_write", {}), rows.get("dict", {})
    if _missed(checks, "end to end") and ow.get("events_per_s") and el.get("events_per_s"):
        ceiling = ", ".join(
            f"{ow['events_per_s'] / rows[o]['events_per_s']:.1f}× {o}"
            for o in ("structlog", "logging", "loguru")
            if rows.get(o, {}).get("events_per_s")
        )
        out.append(
            f"* End to end: `orjson_write` (orjson.dumps and a buffered write on the caller: no envelope, no checks, "
            f"no writer thread) reaches {ceiling} in this run, the ceiling for a Python caller. eventlog "
            f"({el['events_per_s']:,.0f} events/s against {ow['events_per_s']:,.0f}) checks every event, so that a "
            "bad value never reaches the file, and hands its line to a writer thread, so that a stalled disk never "
            "stalls training; README.md (Speed) measures each of those parts."
        )
    for mode, want in (("tight", 2.0), ("paced", 1.5)):
        d, o, e = bare.get(f"{mode}_median_ns"), ow.get(f"{mode}_median_ns"), el.get(f"{mode}_median_ns")
        if _missed(checks, f"{mode} caller median") and d and o and e:
            out.append(
                f"* {mode.capitalize()} caller: building the event dict alone takes {d:,.0f} ns and encoding and "
                f"writing it (`orjson_write`) {o:,.0f} ns, {o / d:.2f}× the dict; {want}× leaves "
                f"{max(want * d - o, 0):,.0f} ns for the envelope, the checks and the hand-off, which take "
                f"{e - o:,.0f} ns."
            )
    if _missed(checks, "paced p99") and el.get("paced_p99_ns"):
        out.append(
            f"* Paced p99 ({el['paced_p99_ns']:,.0f} ns): now and then a call waits for the GIL while the writer "
            "thread writes a batch (the tight loop's p99, with batches that keep the thread busy, is within 3×)."
        )
    if loops and _missed(checks, "training loop") and el.get("tight_median_ns"):
        loop = loops[0]
        calls = loop["emit_us"] * 10 / 1e3 / loop["ms_per_step"] * 100
        out.append(
            f"* Training loop: eventlog's {loop['overhead_pct']:.1f}% is its calls, {loop['emit_us']:.1f} µs an "
            f"event in the loop (against {el['tight_median_ns'] / 1e3:.1f} µs back to back, where code and data "
            f"stay in cache), {calls:.1f}% of {loop['ms_per_step']:.2f} ms, and the work itself, "
            f"{loop['work_slowdown_pct']:.1f}% slower in the blocks that emit ({_faults(loop)}); 1% leaves "
            f"{loop['ms_per_step'] * 1e3 / 100 / 10:.1f} µs an event for both. Building the ten payloads, which any "
            f"logger is handed, cost {loop['dict_pct']:.1f}% more."
        )
    return out


def _faults(loop: dict[str, Any]) -> str:
    """Why the work slowed: the page faults of the blocks that emit, when they took more fresh pages."""
    faults, steps = loop.get("page_faults", {}), loop["steps"]  # steps of each mode
    extra = (faults.get("eventlog", 0) - faults.get("dict", 0)) / steps if steps else 0
    if extra < 1:
        return "its caches, and the GIL the writer thread takes"
    return (
        f"{extra:,.0f} more page faults a step: encoded lines wait for the writer thread among the work's "
        "numpy temporaries, which then take fresh pages from the kernel; the caches, and the GIL the writer "
        "thread takes"
    )


def analysis_gaps(
    part: list[dict[str, Any]], size_mb: float, checks: Sequence[Check], polars_ms: float | None
) -> list[str]:
    """Reasons for the reading targets not met on one file (``part``: its rows; ``polars_ms``: the start-up
    benchmark's ``import polars`` reference)."""

    def row(q: str, name: str) -> dict[str, Any]:
        return next((r for r in part if r["question"] == q and r["contender"] == name and "wall_s" in r), {})

    imports = f"`import polars` alone took {polars_ms:.0f} ms in this run's start-up benchmark" if polars_ms else ""
    out: list[str] = []
    for q in ("trend", "table"):
        el, loop, floor = row(q, "eventlog"), row(q, "python loop + orjson"), row(q, "cat (I/O floor)")
        if not el:
            continue
        missed_speed = _missed(checks, f"{q}: speed vs") or _missed(checks, f"{q} (")
        if missed_speed and size_mb < 500 and imports:
            out.append(
                f"* {q} on this {size_mb:.0f} MB file: eventlog's {el['wall_s']:.2f} s is mostly start-up "
                f"({imports}); on the 1M-event file the same question's ratio is the one to read."
            )
        elif missed_speed and loop:
            out.append(
                f"* {q}: a Python loop that selects the lines by substring and decodes each with orjson, checking "
                f"nothing (`python loop + orjson`), takes {loop['wall_s']:.2f} s on this file; eventlog's "
                f"{el['wall_s']:.2f} s also checks each selected line (a damaged one is reported with its number, "
                f"a value of another type read as such) and reads it into typed columns"
                + (f"; {imports}" if imports else "")
                + ("; its parts are measured below (Where `table`'s time goes)." if q == "table" else ".")
            )
        if _missed(checks, f"{q}: eventlog peak RSS vs file") and size_mb < 500:
            out.append(
                f"* {q} memory: {el['peak_rss_mb']:.0f} MB on a {size_mb:.0f} MB file is mostly the fixed cost of "
                "the interpreter, polars and the CLI; compare the 1M-event file's row below."
            )
        if q == "trend" and _missed(checks, "trend: vs I/O floor") and floor:
            out.append(
                f"* trend against `cat`: `cat` reads the warm file in {floor['wall_s']:.2f} s; starting the "
                "interpreter and importing the CLI takes longer than that before eventlog reads a byte"
                + (f" ({imports})." if imports else ".")
            )
    return out


_FRAMES = {"table", "trend", "eval", "summary"}
"""The commands of the start-up benchmark that build polars frames (the others stream the events)."""


def startup_gaps(rows: list[dict[str, Any]]) -> list[str]:
    """Reasons for the commands over 150 ms, from the reference rows of the same run."""
    ref = {r["command"]: r["median_ms"] for r in rows if r["command"].endswith("(reference)")}
    slow = [r for r in rows if not r["command"].endswith("(reference)") and r["median_ms"] > 150]
    if not slow:
        return []
    polars = next((v for k, v in ref.items() if "import polars" in k), None)
    typer = next((v for k, v in ref.items() if "import typer" in k), None)
    name = {r["command"]: r["command"].split()[1] for r in slow}  # "eventlog trend accuracy" -> "trend"
    framed = [r for r in slow if name[r["command"]] in _FRAMES]
    others = [r for r in slow if r not in framed]
    out = []
    if framed and polars:
        names = ", ".join(name[r["command"]] for r in framed)
        out.append(
            f"* {names}: each builds frames and imports polars, {polars:.0f} ms alone in this run, "
            "before eventlog's own work."
        )
    for r in others:
        low, high = min(r["walls_ms"]), max(r["walls_ms"])
        under = f", under 150 ms in {sum(w <= 150 for w in r['walls_ms'])} of {len(r['walls_ms'])} rounds"
        out.append(
            f"* {name[r['command']]}: {r['median_ms']:.0f} ms ({low:.0f}–{high:.0f}) without polars"
            + (under if low <= 150 else "")
            + (f"; typer, which every command imports, took {typer:.0f} ms alone in this run" if typer else "")
            + ", and the library's package, the read layer and the command's own module come on top."
        )
    return out
