"""The HTML report in a real browser: headless Chromium (Debian's package) driven by Selenium.

``make test`` installs chromium and chromium-driver (apt) and selenium (the dev
extra). The test never downloads a browser: it points Selenium at the system's
chromium and chromedriver. Screenshots land in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from eventlog_cli.query.metrics import direction

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(os.environ.get("EVENTLOG_ARTIFACTS", ROOT / "test-artifacts"))

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None, reason="needs chromium and chromedriver (make test installs them with apt)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1300,1000",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


def demo(out: Path, run: str = "demo", seed: int = 0, steps: int = 30) -> Path:
    cmd = [
        sys.executable,
        str(ROOT / "examples" / "grpo_demo.py"),
        "--out",
        str(out),
        "--run",
        run,
        "--seed",
        str(seed),
    ]
    cmd += ["--steps", str(steps), "--eval-every", "10", "--delay", "0", "--style", "off"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert 0 == done.returncode, done.stderr
    return out


def report(*runs: Path, out: Path) -> Path:
    cmd = [sys.executable, "-c", "from eventlog_cli import main; main()", "report", *map(str, runs), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'cli'}"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert 0 == done.returncode, done.stderr
    return out


def open_page(browser: Any, page: Path) -> list[dict[str, Any]]:
    """Load the page; the charts as the browser holds them: id, kind, metric, [(name, points)]."""
    browser.get_log("browser")  # drop what an earlier page logged
    browser.get(page.resolve().as_uri())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if browser.execute_script("return !!window.EVENTLOG_REPORT"):
            break
        time.sleep(0.1)
    return browser.execute_script(
        "return window.EVENTLOG_REPORT.charts.map(c => {const gd = document.getElementById(c.id);"
        " return {id: c.id, kind: c.kind, metric: c.metric || null, drawn: !!gd._fullLayout,"
        " traces: gd.data.map(t => [t.name, t.x.length])};});"
    )


def errors(browser: Any) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def screenshot(browser: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1300, min(height + 40, 12000))
    time.sleep(0.5)
    path = ARTIFACTS / name
    browser.save_screenshot(str(path))
    browser.set_window_size(1300, 1000)
    return path


def expected(run_dir: Path) -> dict[str, Any]:
    """What the charts must hold, counted straight from the event file."""
    import orjson

    events = [orjson.loads(x) for x in (run_dir / "events.jsonl").read_bytes().splitlines() if x.strip()]
    steps = [e for e in events if e["event"] == "step_metrics"]
    evals = [e for e in events if e["event"] == "eval_summary"]
    step_keys = list(dict.fromkeys(k for e in steps for k in e["metrics"]))
    step_keys += [f"timing/{k}" for k in dict.fromkeys(k for e in steps for k in e.get("timing", {}))]
    return {
        "steps": len(steps),
        "evals": len(evals),
        "eval_keys": list(dict.fromkeys(k for e in evals for k in e["metrics"])),
        "step_keys": step_keys,
        "groups": sum(1 for e in events if e["event"] == "group_summary"),
        "checkpoints": sum(1 for e in events if e["event"] == "checkpoint"),
    }


class TestReportInChromium:
    def test_demo_run(self, browser: Any, tmp_path: Path) -> None:
        """The demo run's report: no console error, every chart drawn with the right series and points."""
        run = demo(tmp_path / "demo")
        want = expected(run)
        charts = open_page(browser, report(run, out=tmp_path / "report.html"))
        assert [] == errors(browser)
        assert all(c["drawn"] for c in charts)
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for c in charts:
            by_kind.setdefault(c["kind"], []).append(c)
        assert want["eval_keys"] == [c["metric"] for c in by_kind["eval"]]
        for c in by_kind["eval"]:  # a star where the metric has a direction (accuracy yes, answer_rate no)
            star = [["best demo", 1]] if direction(c["metric"]) is not None else []
            assert [["demo", want["evals"]], *star] == c["traces"]
        assert want["step_keys"] == [c["metric"] for c in by_kind["step"]]
        for c in by_kind["step"]:
            assert [["demo", want["steps"]]] == c["traces"]
        (timeline,) = by_kind["timeline"]
        assert ["demo", "demo checkpoints"] == [t[0] for t in timeline["traces"]]
        assert want["checkpoints"] == timeline["traces"][1][1]
        (groups,) = by_kind["groups"]
        assert [["kept", want["groups"]], ["filtered", want["groups"]], ["early exits", want["groups"]]] == groups[
            "traces"
        ]
        shot = screenshot(browser, "report.png")
        assert shot.stat().st_size > 50_000

    def test_controls_smooth_and_log(self, browser: Any, tmp_path: Path) -> None:
        """The EMA slider smooths every step chart (first point unchanged), the toggle makes the y axis log."""
        run = demo(tmp_path / "demo", steps=20)
        open_page(browser, report(run, out=tmp_path / "report.html"))
        raw = browser.execute_script("return document.getElementById('step-0').data[0].y.slice()")
        browser.execute_script(
            "const s = document.getElementById('smoothing'); s.value = '0.9';"
            " s.dispatchEvent(new Event('input'));"
            "const l = document.getElementById('logscale'); l.checked = true; l.dispatchEvent(new Event('change'));"
        )
        smooth = browser.execute_script("return document.getElementById('step-0').data[0].y")
        kept_raw = browser.execute_script("return document.getElementById('step-0').data[0].customdata")
        axis = browser.execute_script("return document.getElementById('step-0').layout.yaxis.type")
        assert raw[0] == pytest.approx(smooth[0])
        assert raw != pytest.approx(smooth)
        assert raw == kept_raw
        assert "log" == axis
        assert [] == errors(browser)

    def test_hover_shows_the_exact_value(self, browser: Any, tmp_path: Path) -> None:
        """Hovering a step point shows the logged value itself, not a rounded one."""
        import orjson

        run = demo(tmp_path / "demo", steps=12)
        charts = open_page(browser, report(run, out=tmp_path / "report.html"))
        loss = next(c for c in charts if c["kind"] == "step" and c["metric"] == "loss")
        events = [orjson.loads(x) for x in (run / "events.jsonl").read_bytes().splitlines() if x.strip()]
        logged = [e["metrics"]["loss"] for e in events if e["event"] == "step_metrics"]
        k = max(range(len(logged)), key=lambda i: len(repr(logged[i])))  # the value with the most digits
        assert len(repr(logged[k]).lstrip("-0.")) > 8  # so that any rounding would show
        label = browser.execute_script(
            f"const gd = document.getElementById('{loss['id']}');"
            f" Plotly.Fx.hover(gd, [{{curveNumber: 0, pointNumber: {k}}}]);"
            " return gd.querySelector('.hoverlayer').textContent;"
        )
        shown = label.split(f"step {k + 1}: ")[1].split()[0]
        assert logged[k] == float(shown)

    def test_two_runs_compared(self, browser: Any, tmp_path: Path) -> None:
        """Two runs with the same id from two directories: two labelled lines per chart, config diff shown."""
        a = demo(tmp_path / "a" / "demo", seed=0)
        b = demo(tmp_path / "b" / "demo", seed=1)
        want = expected(a)
        charts = open_page(browser, report(a, b, out=tmp_path / "two.html"))
        assert [] == errors(browser)
        la, lb = "a/demo", "b/demo"  # same run name, same directory name: the path tail that tells them apart
        for c in charts:
            names = [t[0] for t in c["traces"]]
            if c["kind"] == "step":
                assert [la, lb] == names
                assert [want["steps"], want["steps"]] == [t[1] for t in c["traces"]]
            elif c["kind"] == "eval" and direction(c["metric"]) is not None:
                assert [la, f"best {la}", lb, f"best {lb}"] == names
            elif c["kind"] == "eval":
                assert [la, lb] == names
        diff = browser.execute_script(
            "return [...document.querySelectorAll('table.config tr.diff td:first-child')].map(td => td.textContent)"
        )
        assert {"out", "seed"} <= set(diff)
        screenshot(browser, "report-two-runs.png")
        browser.execute_script("document.querySelector('button.run[data-run=\"1\"]').click()")
        visible = browser.execute_script(
            "return window.EVENTLOG_REPORT.charts.filter(c => c.kind !== 'timeline').map(c =>"
            " document.getElementById(c.id).data.map(t => [t.legendgroup.split('-')[0], t.visible !== false]))"
        )
        assert all(shown == (group == "run0") for chart in visible for group, shown in chart)
        assert [] == errors(browser)

    def test_event_text_stays_text(self, browser: Any, tmp_path: Path) -> None:
        """</script>, </textarea>, entities and javascript: in a sample render as the same text; nothing runs."""
        code = (
            "import eventlog, sys\n"
            "eventlog.init(sys.argv[1], run='nasty', console='off')\n"
            "eventlog.emit('step_metrics', step=1, metrics={'<b>m</b>': 1.0})\n"
            "eventlog.emit('sample', step=1, output=sys.argv[2], golden=[sys.argv[2]], extracted=sys.argv[2],"
            " correct=False)\n"
            "eventlog.finish()\n"
        )
        nasty = '</script><script>window.PWNED=1</script></textarea><img src=x onerror="window.PWNED=2"> &amp; ' + (
            '<a href="javascript:window.PWNED=3">x</a>'
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", code, str(tmp_path / "n"), nasty], check=True, env=env)
        open_page(browser, report(tmp_path / "n", out=tmp_path / "n.html"))
        texts = browser.execute_script(
            "return [...document.querySelectorAll('pre.output, td.golden, td.extracted')].map(e => e.textContent)"
        )
        assert [nasty, nasty, nasty] == texts
        assert browser.execute_script("return window.PWNED === undefined")
        assert 0 == browser.execute_script("return document.querySelectorAll('a[href^=\"javascript\"], img').length")
        title = browser.execute_script("return document.querySelector('#step-0 .gtitle').textContent")
        assert "<b>m</b>" == title
