"""Plotly figures (plain dicts) for the HTML report, built from ``query.rundata`` and ``query.series`` data.

Plotly renders a small HTML subset in names, titles, tick labels and hover
text, so every string from an event goes through ``label()`` (entities,
which Plotly shows as the literal characters).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from eventlog._text import sanitize
from eventlog_cli.query.rundata import RunData, timeline_rows
from eventlog_cli.query.series import Series, column_series, eval_series, first_rank, group_by_prefix, step_series
from eventlog_cli.read import hashable

__all__ = ["COLOURS", "eval_charts", "group_chart", "label", "step_charts", "timeline_chart"]

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]
_PATTERN = {"interrupted": "/", "failed": "x"}  # a phase not ended ok: hatched, outlined, in the run's colour
_MAX_MARKS = 50


def label(s: Any) -> str:
    """Event text for Plotly: control characters visible, HTML-like markup inert."""
    return html.escape(sanitize(s), quote=True)


def colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def _layout(title: str, x: str, height: int = 260, legend_rows: int = 0) -> dict[str, Any]:
    """A chart's layout; ``legend_rows`` > 0 shows a legend below with room for that many rows."""
    legend = legend_rows > 0
    return {
        "title": {"text": title, "font": {"size": 14}, "x": 0.01},
        "height": height + 20 * legend_rows,
        "margin": {"l": 60, "r": 10, "t": 34, "b": 38 + (20 * legend_rows + 24 if legend else 0)},
        "xaxis": {"title": {"text": x}, "zeroline": False},
        "yaxis": {"zeroline": False, "exponentformat": "e"},
        "showlegend": legend,
        "legend": {"orientation": "h", "y": -0.3, "yanchor": "top"},
        "hovermode": "closest",
    }


def timeline_chart(runs: Sequence[RunData]) -> dict[str, Any]:
    """A Gantt of phases: one lane per phase name (per run when several), checkpoints as diamonds."""
    traces: list[dict[str, Any]] = []
    lanes: list[str] = []
    for i, run in enumerate(runs):
        rows = timeline_rows(run.records, run.phases)
        prefix = f"{label(run.label)} · " if len(runs) > 1 else ""
        phases = [r for r in rows if r["kind"] == "phase"]
        marks = [r for r in rows if r["kind"] == "checkpoint"]
        ranks = len({hashable(r["rank"]) for r in phases}) > 1
        for r in phases:
            lane = prefix + label(r["lane"]) + (f" (rank {r['rank']})" if ranks else "")
            r["y"] = lane
            if lane not in lanes:
                lanes.append(lane)
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": label(run.label),
                "y": [r["y"] for r in phases],
                "base": [round(r["start"], 4) for r in phases],
                "x": [max(round(r["duration"], 4), 1e-4) for r in phases],
                "marker": {
                    "color": colour(i),
                    "pattern": {"shape": [_PATTERN.get(r["status"], "") for r in phases], "fgcolor": "#000"},
                    "line": {"width": [2 if r["status"] != "ok" else 0 for r in phases], "color": "#d62728"},
                },
                "customdata": [
                    [label(r["step"] if r["step"] is not None else "-"), label(r["status"])] for r in phases
                ],
                "hovertemplate": "%{y}<br>step %{customdata[0]}<br>start +%{base:.2f}s, %{x:.3f}s"
                "<br>%{customdata[1]}<extra></extra>",
            }
        )
        if marks:
            lane = prefix + "checkpoint"
            if lane not in lanes:
                lanes.append(lane)
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": f"{label(run.label)} checkpoints",
                    "x": [round(r["start"], 4) for r in marks],
                    "y": [lane] * len(marks),
                    "marker": {"symbol": "diamond", "size": 10, "color": colour(i)},
                    "customdata": [[label(r["step"]), label(r.get("path") or "")] for r in marks],
                    "hovertemplate": "checkpoint step %{customdata[0]}<br>%{customdata[1]}"
                    "<br>+%{x:.2f}s<extra></extra>",
                }
            )
    layout = _layout("", "seconds since the run started", height=max(200, 26 * len(lanes) + 80))
    layout["margin"]["t"] = 10
    layout["barmode"] = "overlay"
    layout["showlegend"] = False
    layout["margin"]["l"] = 12
    layout["yaxis"] = {"categoryorder": "array", "categoryarray": lanes[::-1], "automargin": True}
    return {"id": "timeline", "kind": "timeline", "traces": traces, "layout": layout}


_DASHES = ["solid", "dot", "dash", "dashdot"]


def _line(s: Series, name: str, i: int, mode: str = "lines", group: str = "", dash: int = 0) -> dict[str, Any]:
    """One line; ``group`` (``run<N>``...) lets the page's run buttons and the legend toggle it with its star."""
    return {
        "type": "scatter",
        "mode": mode,
        "name": label(name),
        "legendgroup": group,
        "x": s.x,
        "y": s.y,
        "line": {"color": colour(i), "width": 1.5, "dash": _DASHES[dash % len(_DASHES)]},
        "connectgaps": False,
        # customdata holds the exact values (the page's script fills it from y): hover never rounds them
        "hovertemplate": f"{label(name)}<br>step %{{x}}: %{{customdata}}<extra></extra>",
    }


def _nan_marks(series: Sequence[Series]) -> list[dict[str, Any]]:
    steps = sorted({s for x in series for s in x.nonfinite if isinstance(s, (int, float))})
    if len(steps) > _MAX_MARKS:  # spread over the run, so the marks show where divergences happened
        steps = [steps[round(i * (len(steps) - 1) / (_MAX_MARKS - 1))] for i in range(_MAX_MARKS)]
    return [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": s,
            "x1": s,
            "y0": 0,
            "y1": 1,
            "line": {"color": "red", "dash": "dot", "width": 1},
        }
        for s in steps
    ]


def eval_charts(runs: Sequence[RunData]) -> list[dict[str, Any]]:
    """One chart per eval metric: a line per run and split, each with its best value starred."""
    per_run = [eval_series(r.evals) for r in runs]
    names = list(dict.fromkeys(n for p in per_run for n in p))
    charts = []
    for k, name in enumerate(names):
        traces = []
        for i, (run, series) in enumerate(zip(runs, per_run, strict=True)):
            for j, s in enumerate(series.get(name, [])):
                line_name = run.label + (f" [{s.name}]" if s.name and len(series[name]) > 1 else "")
                group = f"run{i}-{j}"
                traces.append(_line(s, line_name, i, "lines+markers", group, dash=j))
                if s.best is not None:
                    traces.append(
                        {
                            "type": "scatter",
                            "mode": "markers",
                            "name": f"best {label(line_name)}",
                            "legendgroup": group,
                            "x": [s.best[0]],
                            "y": [s.best[1]],
                            "showlegend": False,
                            "marker": {
                                "symbol": "star",
                                "size": 15,
                                "color": colour(i),
                                "line": {"width": 1, "color": "#000"},
                            },
                            "hovertemplate": f"best {label(line_name)}<br>step %{{x}}: %{{customdata}}<extra></extra>",
                        }
                    )
        lines = sum(1 for t in traces if t["mode"] != "markers")
        layout = _layout(label(name), "step", legend_rows=lines if lines > 1 else 0)
        layout["shapes"] = _nan_marks([s for p in per_run for s in p.get(name, [])])
        charts.append({"id": f"eval-{k}", "kind": "eval", "metric": name, "traces": traces, "layout": layout})
    return charts


def step_charts(runs: Sequence[RunData]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Small multiples of every step metric, grouped by prefix: [(group, charts)]."""
    per_run = [{s.name: s for s in step_series(r.steps)} for r in runs]
    names = list(dict.fromkeys(n for p in per_run for n in p))
    out = []
    k = 0
    for group, members in group_by_prefix(names).items():
        charts = []
        for name in members:
            traces = [
                _line(p[name], run.label, i, group=f"run{i}")
                for i, (run, p) in enumerate(zip(runs, per_run, strict=True))
                if name in p
            ]
            layout = _layout(label(name), "step", height=230)
            layout["shapes"] = _nan_marks([p[name] for p in per_run if name in p])
            total = max(p[name].total for p in per_run if name in p)
            charts.append(
                {"id": f"step-{k}", "kind": "step", "metric": name, "points": total, "traces": traces, "layout": layout}
            )
            k += 1
        out.append((group, charts))
    return out


_GROUP_COLS = [("groups_kept", "kept"), ("groups_filtered", "filtered"), ("rollouts_early_exit", "early exits")]


def group_chart(runs: Sequence[RunData]) -> dict[str, Any] | None:
    """Kept / filtered groups and early-exit rollouts per step, per run."""
    traces = []
    for i, run in enumerate(runs):
        g = first_rank(run.groups)
        if g.height == 0:
            continue
        for j, (col, what) in enumerate(_GROUP_COLS):
            if col not in g.columns:
                continue
            s = column_series(g, col)
            name = f"{run.label} {what}" if len(runs) > 1 else what
            several = len(runs) > 1  # then colour tells the run and dash the column
            t = _line(s, name, i if several else j, group=f"run{i}-{j}", dash=j if several else 0)
            traces.append(t)
    if not traces:
        return None
    return {
        "id": "groups",
        "kind": "groups",
        "traces": traces,
        "layout": _layout("Groups per step", "step", height=300, legend_rows=(len(traces) + 2) // 3),
    }
