"""The self-contained HTML report: Plotly's bundled JS and the data inlined, nothing fetched.

Event strings are data: every one is HTML-escaped where it lands in the page,
the chart data sits in a ``<script type="application/json">`` block whose
``<``, ``>``, ``&`` and line separators are ``\\u`` escapes (so no text can close
the block), and a Content-Security-Policy forbids any network access.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import Any

import orjson

from eventlog._text import fmt_duration, fmt_num, sanitize
from eventlog_cli.commands._charts import colour, eval_charts, group_chart, step_charts, timeline_chart
from eventlog_cli.commands._output import dumps
from eventlog_cli.query.rundata import MISSING, RunData, config_diff
from eventlog_cli.query.runs import maybe_running
from eventlog_cli.query.samples import report_samples

__all__ = ["plotly_js", "render_report", "script_json"]

_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'"
)


def esc(v: Any) -> str:
    """Any value as HTML text (control characters shown as escapes)."""
    return html.escape(sanitize(v), quote=True)


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element: nothing in it can end the element or open a comment."""
    raw = dumps(data, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    return (
        raw.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def plotly_js() -> str:
    """The plotly.js bundle shipped inside the ``plotly`` package."""
    from importlib.resources import files

    try:
        js = (files("plotly") / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        from plotly.offline import get_plotlyjs

        js = get_plotlyjs()
    return js.replace("</script", "<\\/script")


def _value(v: Any) -> str:
    if v is MISSING:
        return '<span class="missing">—</span>'
    if isinstance(v, (dict, list)):
        return esc(dumps(v).decode())
    return esc(fmt_num(v) if isinstance(v, float) else v)


def _utc(ts: Any) -> str:
    """A start time as UTC text; ``?`` for what is no time (text, nanoseconds, beyond the platform's time_t)."""
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts)) if isinstance(ts, (int, float)) else "?"
    except (OverflowError, OSError, ValueError):
        return "?"


def _header(runs: Sequence[RunData], summaries: list[dict[str, Any]]) -> str:
    rows = []
    for i, (run, s) in enumerate(zip(runs, summaries, strict=True)):
        start = run.start
        when = _utc(start.get("ts"))
        status = s["status"] + (" (no run_end)" if s["status_inferred"] else "")
        status = maybe_running(s) or status
        steps = f"{fmt_num(s['steps_done'])}/{fmt_num(s['total_steps'])}" if s["steps_done"] is not None else "-"
        rows.append(
            f'<tr><td><span class="swatch" style="background:{colour(i)}"></span>{esc(run.label)}</td>'
            f'<td class="status-{esc(s["status"])}">{esc(status)}</td><td>{esc(fmt_duration(s["duration"]))}</td>'
            f"<td>{esc(steps)}</td><td>{esc(start.get('host', '?'))}</td><td>{esc(when)}</td>"
            f"<td>{esc(run.source)}</td></tr>"
        )
    return (
        '<table class="runs"><tr><th>run</th><th>status</th><th>duration</th><th>steps</th><th>host</th>'
        "<th>started</th><th>from</th></tr>" + "\n".join(rows) + "</table>"
    )


def _config(runs: Sequence[RunData]) -> str:
    diff = config_diff([r.config for r in runs])
    if not diff:
        return "<p>No config recorded.</p>"
    several = len(runs) > 1
    head = "".join(f"<th>{esc(r.label)}</th>" for r in runs)
    body = []
    for row in diff:
        cls = f' class="diff {row["status"]}"' if several and row["status"] != "same" else ' class="same"'
        cells = "".join(f"<td>{_value(v)}</td>" for v in row["values"])
        note = f"<td>{esc(row['status'])}</td>" if several else ""
        body.append(f"<tr{cls}><td>{esc(row['key'])}</td>{cells}{note}</tr>")
    changed = sum(1 for r in diff if r["status"] != "same")
    toggle = (
        f'<label><input type="checkbox" id="diff-only"> only the {changed} difference(s)</label>' if several else ""
    )
    return (
        f'{toggle}<table class="config"><tr><th>key</th>{head}{"<th></th>" if several else ""}</tr>'
        + "\n".join(body)
        + "</table>"
    )


def _warnings(runs: Sequence[RunData], summaries: list[dict[str, Any]]) -> str:
    items = [
        f"<li><b>{esc(r.label)}</b>: {esc(w)}</li>" for r, s in zip(runs, summaries, strict=True) for w in s["warnings"]
    ]
    return f'<ul class="warnings">{chr(10).join(items)}</ul>' if items else "<p>No warnings.</p>"


def _samples(runs: Sequence[RunData], limit: int) -> str:
    rows = []
    picked = [(run, s) for run in runs for s in report_samples(run, limit)]
    ranks = len({s.get("rank", 0) for _, s in picked}) > 1  # several ranks' samples: a rank column says whose
    for run, s in picked:
        ok = s.get("correct")
        mark = "✓" if ok is True else "✗" if ok is False else "?"
        golden = s.get("golden")
        golden_text = (
            ", ".join(map(str, golden)) if isinstance(golden, list) else ("" if golden is None else golden)
        )
        cls = "wrong" if ok is False else "right" if ok is True else ""
        prompt = f"<pre class='prompt'>{esc(s['prompt'])}</pre>" if s.get("prompt") is not None else ""
        rows.append(
            f'<tr class="sample {cls}"><td>{esc(run.label)}</td>'
            + (f"<td>{esc(fmt_num(s.get('rank', 0)))}</td>" if ranks else "")
            + f'<td>{esc(fmt_num(s.get("step")))}</td>'
            f'<td>{esc(s.get("split") or "")}</td><td class="mark">{mark}</td>'
            f"<td>{esc(fmt_num(s.get('reward')))}</td>"
            f'<td class="golden">{esc(golden_text)}</td><td class="extracted">{esc(s.get("extracted", ""))}</td>'
            f'<td><details><summary>output</summary>{prompt}<pre class="output">{esc(s.get("output", ""))}</pre>'
            "</details></td></tr>"
        )
    if not rows:
        return "<p>No samples.</p>"
    return (
        '<div class="controls"><input type="search" id="sample-filter" placeholder="filter samples">'
        '<label><input type="checkbox" id="wrong-only"> wrong only</label></div>'
        '<table class="samples"><tr><th>run</th>' + ("<th>rank</th>" if ranks else "") + "<th>step</th><th>split</th>"
        '<th></th><th>reward</th>'
        "<th>golden</th><th>extracted</th><th>text</th></tr>" + "\n".join(rows) + "</table>"
    )


def _chips(runs: Sequence[RunData]) -> str:
    """Several runs: a button per run that shows or hides its lines in every chart."""
    if len(runs) < 2:
        return ""
    buttons = "".join(
        f'<button class="run" data-run="{i}" style="border-color:{colour(i)}">'
        f'<span class="swatch" style="background:{colour(i)}"></span>{esc(r.label)}</button>'
        for i, r in enumerate(runs)
    )
    return f'<span class="runs-toggle">runs: {buttons}</span>'


def _divs(charts: Sequence[dict[str, Any]], cls: str) -> str:
    return "".join(f'<div class="{cls}" id="{esc(c["id"])}"></div>' for c in charts)


def render_report(runs: Sequence[RunData], samples: int = 200) -> str:
    """The whole page as one string."""
    summaries = [r.summary() for r in runs]
    timeline = timeline_chart(runs)
    evals = eval_charts(runs)
    steps = step_charts(runs)
    groups = group_chart(runs)
    charts = [timeline, *evals, *(c for _, cs in steps for c in cs), *([groups] if groups else [])]
    title = "eventlog report: " + ", ".join(r.label for r in runs)
    step_html = "".join(
        f'<h3>{esc(group)}</h3><div class="grid">{_divs(cs, "chart small")}</div>' for group, cs in steps
    )
    nav = "".join(
        f'<a href="#{a}">{t}</a>'
        for a, t in (
            ("config", "config"),
            ("timeline-s", "timeline"),
            ("evals", "evals"),
            ("steps", "step metrics"),
            ("groups-s", "groups"),
            ("warnings", "warnings"),
            ("samples", "samples"),
        )
    )
    return _PAGE.format(
        csp=_CSP,
        title=esc(title),
        css=_CSS,
        nav=nav,
        header=_header(runs, summaries),
        config=_config(runs),
        evals=_divs(evals, "chart") if evals else "<p>No eval_summary events.</p>",
        steps=step_html or "<p>No step_metrics events.</p>",
        groups='<div class="chart" id="groups"></div>' if groups else "<p>No group_summary events.</p>",
        warnings=_warnings(runs, summaries),
        chips=_chips(runs),
        samples=_samples(runs, samples),
        plotly=plotly_js(),
        data=script_json({"charts": charts}),
        js=_JS,
    )


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 2em;color:#222}
nav{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #ddd;z-index:10}
nav a{margin-right:1em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border-bottom:1px solid #eee;padding:2px 8px;text-align:left;vertical-align:top}
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.4em;border-radius:2px}
.status-completed{color:#2a7d2a}.status-failed{color:#c00;font-weight:bold}.status-interrupted{color:#c70}
tr.diff td{background:#fff6d5}tr.diff.added td{background:#e4f6e4}tr.diff.removed td{background:#fbe3e3}
.missing{color:#999}
button.run{background:#fff;border:2px solid;border-radius:4px;margin-left:.4em;cursor:pointer}
button.run.off{opacity:.35}
.runs-toggle{margin-left:2em}.note{color:#666;margin:.2em 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:8px}
.chart{min-height:220px}
.controls{margin:.5em 0}.controls label{margin-left:1em}
ul.warnings li{color:#8a5a00}
pre{white-space:pre-wrap;word-break:break-word;max-height:24em;overflow:auto;background:#f7f7f7;
    padding:4px;margin:2px 0}
tr.wrong .mark{color:#c00}tr.right .mark{color:#2a7d2a}
"""

_JS = """
(function(){
const DATA=JSON.parse(document.getElementById('report-data').textContent);
const CONFIG={responsive:true,displaylogo:false};
const RAW={},TPL={};
for(const c of DATA.charts){
  if(c.kind!=='timeline'){for(const t of c.traces){if(!t.customdata)t.customdata=t.y.slice();}}
  Plotly.newPlot(c.id,c.traces,c.layout,CONFIG);
  if(c.kind==='step'){RAW[c.id]=c.traces.map(t=>t.y.slice());TPL[c.id]=c.traces.map(t=>t.hovertemplate);}
}
function ema(ys,w){let last=0,deb=0;return ys.map(v=>{if(v===null||!isFinite(v))return null;
  last=last*w+(1-w)*v;deb=deb*w+(1-w);return last/deb;});}
function smooth(){
  const w=parseFloat(document.getElementById('smoothing').value);
  document.getElementById('smoothing-value').textContent=w.toFixed(2);
  for(const id in RAW){
    Plotly.restyle(id,{y:RAW[id].map(y=>w>0?ema(y,w):y.slice()),hovertemplate:TPL[id].map(t=>w>0?
      t.replace('%{customdata}','%{customdata} (smoothed %{y:.4g})'):t)});
  }
}
function logScale(){
  const on=document.getElementById('logscale').checked;
  for(const id in RAW){Plotly.relayout(id,{'yaxis.type':on?'log':'linear'});}
}
for(const b of document.querySelectorAll('button.run')){b.addEventListener('click',()=>{
  const g='run'+b.dataset.run,on=b.classList.toggle('off');
  for(const c of DATA.charts){if(c.kind==='timeline')continue;
    const idx=c.traces.map((t,i)=>[t,i]).filter(([t])=>t.legendgroup===g||t.legendgroup.startsWith(g+'-')).map(p=>p[1]);
    if(idx.length)Plotly.restyle(c.id,{visible:on?false:true},idx);}});}
const sm=document.getElementById('smoothing');if(sm){sm.addEventListener('input',smooth);}
const lg=document.getElementById('logscale');if(lg){lg.addEventListener('change',logScale);}
const d=document.getElementById('diff-only');
if(d){d.addEventListener('change',()=>{for(const tr of document.querySelectorAll('table.config tr.same'))
  tr.style.display=d.checked?'none':'';});}
const f=document.getElementById('sample-filter'),wo=document.getElementById('wrong-only');
function filt(){const q=(f.value||'').toLowerCase();for(const tr of document.querySelectorAll('tr.sample')){
  const hit=(!q||tr.textContent.toLowerCase().includes(q))&&(!wo.checked||tr.classList.contains('wrong'));
  tr.style.display=hit?'':'none';}}
if(f){f.addEventListener('input',filt);wo.addEventListener('change',filt);}
window.EVENTLOG_REPORT=DATA;
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{css}</style>
<script>{plotly}</script></head>
<body>
<h1>{title}</h1>
<nav>{nav}</nav>
{header}
<h2 id="config">Config</h2>{config}
<h2 id="timeline-s">Phase timeline</h2>
<p class="note">Training steps are folded into runs of steps; hatched bars were interrupted, crossed ones failed;
diamonds are checkpoints.</p><div class="chart" id="timeline"></div>
<h2 id="evals">Eval trends</h2><div class="grid">{evals}</div>
<h2 id="steps">Step metrics</h2>
<div class="controls"><label>smoothing (EMA)
<input type="range" id="smoothing" min="0" max="0.99" step="0.01" value="0">
<span id="smoothing-value">0.00</span></label><label><input type="checkbox" id="logscale"> log scale</label>
{chips}</div>
{steps}
<h2 id="groups-s">Group statistics</h2>{groups}
<h2 id="warnings">Warnings</h2>{warnings}
<h2 id="samples">Samples</h2>{samples}
<script type="application/json" id="report-data">{data}</script>
<script>{js}</script>
</body></html>
"""
