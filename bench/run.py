"""Run the benchmarks: ``make bench`` writes bench/RESULTS.md, ``make bench-quick`` bench/out/RESULTS-quick.md."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from gaps import analysis_gaps, emit_gaps, startup_gaps

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PROFILES = {
    "quick": {
        "emit": ["--n", "20000", "--paced", "500", "--repeats", "1", "--loop-steps", "300"],
        "analysis": ["--sizes", "100000", "--repeats", "1"],
        "startup": ["--repeats", "3"],
    },
    "full": {
        "emit": ["--n", "200000", "--paced", "2000", "--repeats", "3", "--loop-steps", "2000"],
        # the 10M-event run (6 GB) and a gzip copy of each run: issue 12's bounded-memory targets
        "analysis": ["--sizes", "100000", "1000000", "10000000", "--gz", "--repeats", "3"],
        "startup": ["--repeats", "7"],
    },
}


def machine() -> list[str]:
    cpu = "?"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    mem = "?"
    try:
        kb = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    versions = []
    for pkg in ("eventlog", "orjson", "structlog", "loguru", "polars", "pandas", "duckdb", "numpy", "typer", "rich"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} (not installed)")
    jq = subprocess.run(["jq", "--version"], capture_output=True, text=True, check=False).stdout.strip() or "absent"
    return [
        f"* Date: {dt.date.today().isoformat()}",
        f"* CPU: {cpu}, {os.cpu_count()} cores; memory {mem}; {platform.platform()}",
        f"* Python {platform.python_version()}; {', '.join(versions)}; {jq}",
    ]


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}×" if a and b else "n/a"


def _ratios(a: list[float] | None, b: list[float] | None) -> str:
    """Round-by-round ratios a[i]/b[i]: their median and range, e.g. ``2.1× (1.9–2.4)``."""
    if not a or not b:
        return "n/a"
    r = sorted(x / y for x, y in zip(a, b, strict=False) if x and y)
    if not r:
        return "n/a"
    med = statistics.median(r)
    return f"{med:.2f}× ({r[0]:.2f}–{r[-1]:.2f})" if len(r) > 1 else f"{med:.2f}×"


def _rounds(row: dict[str, Any], key: str) -> list[float]:
    return [x[key] for x in row.get("rounds", []) if x.get(key) is not None]


def _mark(ok: bool | None) -> str:
    return "met" if ok else "NOT met" if ok is not None else "n/a"


def emit_section(data: dict[str, Any]) -> list[str]:
    rows = {r["name"]: r for r in data["contenders"]}
    lines = [
        "## Emit side",
        "",
        "| contender | tight median ns | tight p99 ns | paced median ns | paced p99 ns | events/s end to end "
        "| CPU s (whole child) | peak RSS MB | bytes/event | output valid |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in rows.items():
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error']} ||||||||| |")
            continue
        lines.append(
            f"| {name} | {r['tight_median_ns']:,.0f} | {r['tight_p99_ns']:,.0f} | {r['paced_median_ns']:,.0f} "
            f"| {r['paced_p99_ns']:,.0f} | {r['events_per_s']:,.0f} | {r.get('cpu_s') or 0:.2f} "
            f"| {r['peak_rss_mb']:.0f} "
            f"| {r['bytes_per_event']:.0f} | {r['valid']} |"
        )
    el = rows.get("eventlog", {})
    rate = el.get("events_per_s")
    checks: list[tuple[str, str, str, bool | None]] = []
    for other, want in (("structlog", 2), ("logging", 4), ("loguru", 8)):  # issue 12's targets
        o = rows.get(other, {}).get("events_per_s")
        rounds = _ratios(_rounds(el, "events_per_s"), _rounds(rows.get(other, {}), "events_per_s"))
        checks.append((f"end to end vs {other}", f">= {want}×", rounds, bool(rate and o and rate >= want * o)))
    tight, tight_floor = el.get("tight_median_ns"), rows.get("dict", {}).get("tight_median_ns")
    checks.append(
        (
            "tight caller median vs bare dict build",
            "<= 2×",
            _ratios(_rounds(el, "tight_median_ns"), _rounds(rows.get("dict", {}), "tight_median_ns")),
            bool(tight and tight_floor and tight <= 2 * tight_floor),
        )
    )
    floor = rows.get("dict", {}).get("paced_median_ns")
    paced = el.get("paced_median_ns")
    checks.append(
        (
            "paced caller median vs bare dict build",
            "<= 1.5×",
            _ratio(paced, floor),
            bool(paced and floor and paced <= 1.5 * floor),
        )
    )
    for mode in ("tight", "paced"):
        p99, med = el.get(f"{mode}_p99_ns"), el.get(f"{mode}_median_ns")
        checks.append((f"{mode} p99 vs own median", "<= 3×", _ratio(p99, med), bool(p99 and med and p99 <= 3 * med)))
    loops = data.get("loops") or [data["loop"]]  # the first is the target's (10 ms of work); the others for reference
    for loop in loops:
        cpu = f"; CPU {loop['cpu_overhead_pct']:.1f}%" if "cpu_overhead_pct" in loop else ""
        checks.append(
            (
                f"training loop ({loop['ms_per_step']:.2f} ms numpy work/step, 10 events/step) slowdown by eventlog",
                "<= 1%" if loop is loops[0] else "(reference)",
                f"{loop['overhead_pct']:.1f}%"
                + (
                    f" ({min(loop['overhead_pcts']):.1f}–{max(loop['overhead_pcts']):.1f}%)"
                    if len(loop.get("overhead_pcts", [])) > 1
                    else ""
                )
                + cpu,
                loop["overhead_pct"] <= 1.0 if loop is loops[0] else None,
            )
        )
    lines += ["", "| target | wanted | measured | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {_mark(d)} |" for a, b, c, d in checks]
    return lines + _why(emit_gaps(rows, loops, checks))


def _why(reasons: list[str]) -> list[str]:
    return ["", "Why not met, in this run's figures:", "", *reasons] if reasons else []


def _checks(table: list[str]) -> list[tuple[str, str, str, bool | None]]:
    """The (target, wanted, measured, met) rows of a targets table as written above."""
    out: list[tuple[str, str, str, bool | None]] = []
    for line in table:
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 4 and cells[0] not in ("target", "---"):
            met = {"met": True, "NOT met": False}.get(cells[3])
            out.append((cells[0], cells[1], cells[2], met))
    return out


def analysis_section(rows: list[dict[str, Any]], startup: list[dict[str, Any]] | None = None) -> list[str]:
    lines = ["## Analysis side", ""]
    polars_ms = next((r["median_ms"] for r in startup or [] if "import polars" in r["command"]), None)
    for file in dict.fromkeys(r["file"] for r in rows):
        part = [r for r in rows if r["file"] == file]
        size = part[0]["size_mb"]
        lines += [
            f"### {file} ({size:.0f} MB)",
            "",
            "| question | contender | wall s | CPU s | peak RSS MB | correct |",
            "|---|---|---:|---:|---:|---|",
        ]
        for r in part:
            if "wall_s" not in r:
                lines.append(f"| {r['question']} | {r['contender']} | | | | {r.get('error', '')} |")
                continue
            ok = r.get("correct")
            verdict = (r.get("error") or "") if ok is None else ("yes" if ok else f"NO: {r.get('why', '')}")
            if r["contender"].startswith("cat"):
                verdict = "(floor)"
            lines.append(
                f"| {r['question']} | {r['contender']} | {r['wall_s']:.2f} | {r.get('cpu_s', 0):.2f} "
                f"| {r['peak_rss_mb']:.0f} | {verdict} |"
            )
        targets = _analysis_targets(part, size, rows)
        lines += ["", *targets, *_why(analysis_gaps(part, size, _checks(targets), polars_ms)), ""]
    return lines


def _loader_targets(part: list[dict[str, Any]], size_mb: float, rows: list[dict[str, Any]]) -> list[str]:
    """Issue 12's loader targets for the 10M-event run and the gzip copies: peak RSS bounds, linear time."""
    file = part[0]["file"]
    out = ["| target | wanted | measured | |", "|---|---|---|---|"]
    for q in ("trend", "table"):
        el = next((r for r in part if r["question"] == q and r["contender"] == "eventlog" and "wall_s" in r), None)
        if el is None or el.get("error"):
            out.append(f"| {q}: eventlog completes | yes | {el.get('error', 'no run') if el else 'no run'} | NOT met |")
            continue
        rss, share = el["peak_rss_mb"], {"trend": 0.25, "table": 0.3}[q]
        if "10000000" in file:
            out.append(f"| {q}: eventlog peak RSS, 10M events | <= 1024 MB | {rss:.0f} MB | {_mark(rss <= 1024)} |")
            one = next(
                (r for r in rows if r["file"] == file.replace("10000000", "1000000") and r["question"] == q
                 and r["contender"] == "eventlog" and r.get("wall_s")),
                None,
            )  # fmt: skip
            if one:
                per = (el["wall_s"] / 10) / one["wall_s"]
                out.append(
                    f"| {q}: wall per event, 10M vs 1M (~linear) | <= 1.5× | {per:.2f}× "
                    f"({el['wall_s']:.1f} s vs {one['wall_s']:.2f} s) | {_mark(per <= 1.5)} |"
                )
        else:  # the bound is set for the 1M-event run: below, the interpreter and polars (~90 MB) dominate
            met = _mark(rss <= share * size_mb) if size_mb >= 500 else "n/a (small file)"
            out.append(f"| {q}: eventlog peak RSS on gzip vs text size | <= {share}× | {rss / size_mb:.2f}× | {met} |")
        if file.endswith(".gz"):
            out.append(f"| {q}: eventlog wall on gzip | (streamed) | {el['wall_s']:.2f} s, CPU {el['cpu_s']:.2f} s | |")
    return out


def _analysis_targets(part: list[dict[str, Any]], size_mb: float, rows: list[dict[str, Any]]) -> list[str]:
    if part[0]["file"].endswith(".gz") or "10000000" in part[0]["file"]:
        return _loader_targets(part, size_mb, rows)

    def wall(q: str, name: str) -> float | None:
        r = next((r for r in part if r["question"] == q and r["contender"] == name and "wall_s" in r), None)
        return r["wall_s"] if r and not r.get("error") else None

    def walls(q: str, name: str) -> list[float] | None:
        r = next((r for r in part if r["question"] == q and r["contender"] == name and "walls" in r), None)
        return r["walls"] if r and not r.get("error") else None

    out = ["| target | wanted | measured | |", "|---|---|---|---|"]
    for q in ("trend", "table"):
        el = wall(q, "eventlog")
        for other, want in (("jq", 10), ("pandas read_json", 3)):
            o = wall(q, other)
            out.append(
                f"| {q}: speed vs {other} | >= {want}× | {_ratios(walls(q, other), walls(q, 'eventlog'))} | "
                f"{_mark(bool(el and o and o >= want * el) if o else None)} |"
            )
        rss = next((r["peak_rss_mb"] for r in part if r["question"] == q and r["contender"] == "eventlog"), None)
        if rss is not None:
            out.append(
                f"| {q}: eventlog peak RSS vs file size | < 1× | {rss / size_mb:.2f}× | {_mark(rss < size_mb)} |"
            )
        secs, share = {"trend": (0.5, 0.25), "table": (0.7, 0.3)}[q]  # issue 12, for the 1M-event file
        for name in ("eventlog", "eventlog (text)") if q == "table" else ("eventlog",):  # --json, default text
            el, ws = wall(q, name), walls(q, name)
            rss = next((r["peak_rss_mb"] for r in part if r["question"] == q and r["contender"] == name), None)
            if part[0]["file"] == "run_1000000.jsonl" and el is not None and rss is not None and ws:
                what = f"{q} ({'text' if name.endswith('(text)') else '--json'})"
                out.append(
                    f"| {what}: eventlog wall (issue 12) | <= {secs} s | {el:.2f} s ({min(ws):.2f}–{max(ws):.2f}) "
                    f"| {_mark(el <= secs)} |"
                )
                out.append(
                    f"| {what}: eventlog peak RSS (issue 12) | <= {share}× file | {rss / size_mb:.2f}× "
                    f"| {_mark(rss <= share * size_mb)} |"
                )
    el, floor = wall("trend", "eventlog"), wall("trend", "cat (I/O floor)")
    out.append(
        f"| trend: vs I/O floor (`cat`) | <= 3× | "
        f"{_ratios(walls('trend', 'eventlog'), [max(x, 0.01) for x in walls('trend', 'cat (I/O floor)') or []])} | "
        f"{_mark(bool(el and floor is not None and el <= 3 * max(floor, 0.01)))} |"
    )
    return out


def breakdown_section(data: dict[str, Any]) -> list[str]:
    """Where the table question's time goes (bench/breakdown.py): each part's median and range over rounds."""
    med, rounds = data["median_s"], data["rounds"]
    out = [
        f"## Where `table`'s time goes ({data['file']}, {data['size_mb']:.0f} MB)",
        "",
        f"`{data['command']}` run in a fresh process per round with timers around its parts "
        "(bench/breakdown.py); the interpreter's own start (~20 ms) is not included.",
        "",
        "| part | median s | range s | share |",
        "|---|---:|---:|---:|",
    ]
    for k, v in med.items():
        vs = [r[k] for r in rounds]
        share = "" if k == "total" else f"{100 * v / med['total']:.0f}%"
        out.append(f"| {k} | {v:.2f} | {min(vs):.2f}–{max(vs):.2f} | {share} |")
    return out


def startup_section(rows: list[dict[str, Any]]) -> list[str]:
    """Whole-process time of each command on a small run (bench/startup.py); issue 12 wants under 150 ms."""
    out = [
        "## Start-up",
        "",
        f"Each command as a fresh process on a small run ({rows[0]['lines']} lines) written by the library; "
        "median (range) over rounds, after two unrecorded calls. The reference rows are the interpreter "
        "alone, the import of typer, which every command pays, and of polars, which every command that "
        "builds frames pays.",
        "",
        "| command | median ms | range ms | under 150 ms (issue 12) |",
        "|---|---:|---:|---|",
    ]
    for r in rows:
        ws = r["walls_ms"]
        met = "" if r["command"].endswith("(reference)") else _mark(r["median_ms"] <= 150)
        out.append(f"| `{r['command']}` | {r['median_ms']:.0f} | {min(ws):.0f}–{max(ws):.0f} | {met} |")
    return out + _why(startup_gaps(rows))


def sigkill_section(rows: list[dict[str, Any]]) -> list[str]:
    """What a kill -9 after 1.5 s of emitting cost (bench/sigkill.py)."""
    out = [
        "## SIGKILL loss",
        "",
        "A child emits `log` events, then gets `kill -9`; lost = emitted - on disk. "
        "Stated bound (RELIABILITY.md): what was emitted in the last `flush_interval`, at most twice `queue_size`.",
        "",
        "| loop | emitted | on disk | lost | seq contiguous |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        seq = "yes" if r["contiguous"] else "NO"
        out.append(f"| {r['mode']} | {r['emitted']:,} | {r['written']:,} | {r['lost']:,} | {seq} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("profile", choices=sorted(PROFILES), nargs="?", default="quick")
    ap.add_argument("--huge", action="store_true", help="also the 10,000,000-event file")
    ap.add_argument(
        "--render-only", action="store_true", help="rewrite the results from bench/out/*.json, running nothing"
    )
    ns = ap.parse_args()
    prof = PROFILES[ns.profile]
    OUT.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    emit_cmd = [py, str(ROOT / "bench" / "emit.py"), *prof["emit"], "--json", str(OUT / "emit.json")]
    sizes = prof["analysis"]
    if ns.huge and "10000000" not in sizes:
        sizes = [
            *prof["analysis"][: prof["analysis"].index("--repeats")],
            "10000000",
            *prof["analysis"][prof["analysis"].index("--repeats") :],
        ]
    an_cmd = [py, str(ROOT / "bench" / "analysis.py"), *sizes, "--json", str(OUT / "analysis.json")]
    kill_cmd = [py, str(ROOT / "bench" / "sigkill.py"), "--json", str(OUT / "sigkill.json")]
    start_cmd = [py, str(ROOT / "bench" / "startup.py"), *prof["startup"], "--json", str(OUT / "startup.json")]
    counts = [int(x) for x in itertools.takewhile(str.isdigit, sizes[sizes.index("--sizes") + 1 :])]
    big = ROOT / "bench" / "data" / f"run_{1_000_000 if 1_000_000 in counts else max(counts)}.jsonl"
    parts_cmd = [py, str(ROOT / "bench" / "breakdown.py"), str(big), "--repeats", "3"]
    parts_cmd += ["--json", str(OUT / "breakdown.json")]
    for cmd in () if ns.render_only else (emit_cmd, an_cmd, parts_cmd, start_cmd, kill_cmd):
        print("$", " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    emit = json.loads((OUT / "emit.json").read_text())
    analysis = json.loads((OUT / "analysis.json").read_text())
    kills = json.loads((OUT / "sigkill.json").read_text())
    startup = json.loads((OUT / "startup.json").read_text())
    parts = json.loads((OUT / "breakdown.json").read_text())
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"Written by `make bench{'-quick' if ns.profile == 'quick' else ''}` (`python bench/run.py {ns.profile}`). "
            "Medians over rounds; each round runs every contender once, in an order rotated per round, "
            "and every input file is read once before each timed run (warm page cache). Ratios are taken "
            "round by round: median (range over rounds). CPU s is user + system time of the whole process. "
            "Ratios are what to compare, as the machine is shared and noisy.",
            "",
            *machine(),
            "",
            "Commands: "
            + "; ".join(
                f"`{' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}`"
                for cmd in (emit_cmd, an_cmd, parts_cmd, start_cmd, kill_cmd)
            ),
            "",
            *emit_section(emit),
            "",
            *analysis_section(analysis, startup),
            "",
            *breakdown_section(parts),
            "",
            *startup_section(startup),
            "",
            *sigkill_section(kills),
            "",
        ]
    )
    # only the full run updates the tracked RESULTS.md; bench-quick leaves the work tree clean
    target = ROOT / "bench" / "RESULTS.md" if ns.profile == "full" else OUT / f"RESULTS-{ns.profile}.md"
    target.write_text(text)
    print(text)
    print(f"written to {target.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
