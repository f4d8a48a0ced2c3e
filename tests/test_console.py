"""The console: banner and compact styles pinned by golden files, sanitising, colour rules."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from conftest import FakeClock, build_fixture_run, read_events
from eventlog import Renderer, sanitize
from eventlog._console import Console, use_colour
from eventlog._evalfiles import saved_beside

PAYLOADS = [
    "\x1b[31mred\x1b[0m",  # CSI
    "\x1b]0;title\x07",  # OSC 0, BEL-terminated
    "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",  # OSC 8, ST-terminated
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52 clipboard
    "over\rwrite",
    "nul\x00byte",
    "rtl\u202eevil",
    "\x9b31m C1 CSI",
    "[bold]markup[/bold] [link=http://x]l[/link] [/bold]",
]


def render_all(events: list[dict], style: str, verbose: bool = False, eval_saved: Any = None) -> str:
    r = Renderer(style, verbose=verbose, eval_saved=eval_saved)
    return "\n".join(line.text for ev in events for line in r.render(ev)) + "\n"


@pytest.fixture
def fixture_events(tmp_path: Path, clock: FakeClock) -> list[dict]:
    return read_events(build_fixture_run(tmp_path / "fx"))


class TestGolden:
    @pytest.mark.parametrize(("style", "verbose"), [("banner", False), ("banner", True), ("compact", False)])
    def test_style_output(self, fixture_events: list[dict], style: str, verbose: bool, golden) -> None:
        """Each style renders the fixture run exactly as pinned."""
        golden(f"console_{style}{'_verbose' if verbose else ''}", render_all(fixture_events, style, verbose))

    def test_live_console_equals_replay(self, tmp_path: Path, clock: FakeClock) -> None:
        """What rank 0 printed during the run is what the renderer shows from the file."""
        out = io.StringIO()
        path = build_fixture_run(tmp_path / "fx", console="banner", console_stream=out)
        assert "💾 Eval stats saved to: " in out.getvalue()
        assert render_all(read_events(path), "banner", eval_saved=saved_beside(path)) == out.getvalue()

    def test_live_console_equals_replay_with_dropped_events(self, tmp_path: Path, clock: FakeClock) -> None:
        """With on_full='drop' the live run_end shows the real events_dropped, exactly as replay shows it."""
        import eventlog

        out = io.StringIO()
        shown = ("run_start", "run_end")
        st = eventlog.init(
            tmp_path / "d",
            run="d",
            console="banner",
            console_stream=out,
            console_events=shown,
            on_full="drop",
            queue_size=8,
            flush_interval=60,
        )
        with st.writer.pump._drain_lock:  # hold the writer thread: the queue fills and events are dropped
            for i in range(50):
                eventlog.emit("log", level="info", msg="m", i=i)
        eventlog.finish()
        events = read_events(tmp_path / "d" / "events.jsonl")
        assert 0 < events[-1]["events_dropped"]
        assert render_all([e for e in events if e["event"] in shown], "banner") == out.getvalue()

    def test_banner_has_the_seed_markers_in_order(self, fixture_events: list[dict]) -> None:
        """The META LOG flow: every phase banner carries [META] and the run ends with ALL PHASES COMPLETE."""
        text = render_all(fixture_events, "banner")
        marks = [
            "[META] PHASE: INITIALIZATION",
            "[META] PHASE: PRE-TRAINING VALIDATION",
            "[META] PHASE: VALIDATION",
            "📊 Validation [1/2] (50.0%) | Questions: 4/8",
            "✅ [META] PHASE COMPLETE: VALIDATION",
            "🚀 [META] PHASE: TRAINING START",
            "[Epoch 1/2] Step 1/4 (25.0%)",
            "[META] PHASE: PERIODIC VALIDATION",
            "[META] CHECKPOINT SAVED SUCCESSFULLY",
            "🎉 [META] PHASE: TRAINING COMPLETE",
            "[META] PHASE: POST-TRAINING VALIDATION",
            "🏁 [META] ALL PHASES COMPLETE - Training Finished Successfully!",
        ]
        positions = [text.index(m) for m in marks]
        assert sorted(positions) == positions
        assert all(line == "=" * 80 for line in text.splitlines() if line.startswith("="))


class TestSanitising:
    @pytest.mark.parametrize("payload", PAYLOADS)
    @pytest.mark.parametrize("style", ["banner", "compact"])
    def test_no_control_character_reaches_the_output(self, payload: str, style: str) -> None:
        """Strings from events are shown with visible escapes; no ESC, C1, BEL, CR or bidi override remains."""
        events = [
            {"event": "log", "level": "warning", "msg": payload, "logger": payload, payload: payload},
            {"event": "sample", "output": payload, "prompt": payload, "golden": [payload], "extracted": payload},
            {"event": "phase_start", "phase": payload, "id": 1, "label": payload},
            {"event": "step_metrics", "step": 1, "metrics": {payload: 1.0}},
            {"event": payload, "x": payload},
        ]
        text = render_all(events, style, verbose=True)
        for bad in ("\x1b", "\x07", "\x9b", "\r", "\x00", "\u202e"):
            assert bad not in text

    def test_visible_escapes(self) -> None:
        """ESC shows as \\x1b, a bidi override as \\u202e; tabs and newlines stay."""
        assert "\\x1b[31mred\\u202e\tok\n" == sanitize("\x1b[31mred\u202e\tok\n")


class TestColour:
    def test_colour_rules(self) -> None:
        """NO_COLOR wins, FORCE_COLOR forces, otherwise only a terminal gets colour."""
        s = io.StringIO()
        assert (False, True, False) == (
            use_colour(s, {}),
            use_colour(s, {"FORCE_COLOR": "1"}),
            use_colour(s, {"NO_COLOR": "1", "FORCE_COLOR": "1"}),
        )

    def test_plain_text_off_a_terminal(self) -> None:
        """Output to a file carries no ANSI codes."""
        s = io.StringIO()
        Console(Renderer("banner"), s).show({"event": "run_end", "status": "completed", "duration": 3})
        assert "\x1b" not in s.getvalue()
        assert "ALL PHASES COMPLETE" in s.getvalue()

    def test_compact_table_header_repeats(self) -> None:
        """The streamed step table repeats its header every N rows."""
        r = Renderer("compact", header_every=2)
        lines = [
            ln.text
            for s in range(1, 6)
            for ln in r.render({"event": "step_metrics", "step": s, "metrics": {"loss": float("nan")}})
        ]
        assert 3 == sum(line == r.table.header() for line in lines)
        assert "nan" in lines[lines.index(r.table.header()) + 1]
        assert 1 == lines.count("table columns:")  # the legend, once, before the first header


class TestRenderFailure:
    def test_failure_is_reported_once_and_training_goes_on(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A renderer that raises is reported once on stderr in a delimited block; show() returns normally."""

        class Broken(Renderer):
            def render(self, ev: dict) -> list:
                raise RuntimeError("boom")

        out = io.StringIO()
        console = Console(Broken("banner"), out, colour=False)
        console.show({"event": "log", "level": "info", "msg": "a"})
        console.show({"event": "log", "level": "info", "msg": "b"})
        err = capsys.readouterr().err
        assert 1 == err.count("--- eventlog: problem ---")
        assert "RuntimeError('boom')" in err
        assert err.rstrip().endswith("--- end of eventlog problem ---")
        assert "" == out.getvalue()


class TestPhaseLooks:
    def test_words_come_from_the_table(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Editing one entry of the phase-look table changes what the banner says about that phase."""
        from eventlog import _looks

        look = _looks.PhaseLook(icon="🔎", banner="[META] CHECKING {label}", done="🆗 [META] {label} DONE")
        monkeypatch.setitem(_looks.LOOKS, "validation", look)
        r = Renderer("banner")
        start = r.render({"event": "phase_start", "phase": "validation", "id": 1})
        end = r.render({"event": "phase_end", "phase": "validation", "id": 1, "status": "ok", "duration": 1.0})
        assert "🔎 [META] CHECKING VALIDATION" == start[1].text
        assert "🆗 [META] VALIDATION DONE" == end[1].text

    def test_every_named_phase_has_a_look(self) -> None:
        """Each phase name of the seed flow has its own entry in the table."""
        from eventlog._constants import PHASES
        from eventlog._looks import LOOKS

        assert set(PHASES) == set(LOOKS)
