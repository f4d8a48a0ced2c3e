"""Terminal safety: strings from events never reach the terminal as control sequences or markup."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import eventlog
from conftest import FakeClock
from eventlog_cli._app import app
from eventlog_cli._where import compile_where

ESC_PAYLOADS = [
    "\x1b[31mRED\x1b[0m",  # CSI
    "\x1b]0;pwned title\x07",  # OSC 0, BEL-terminated
    "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hyperlink, ST-terminated
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52 clipboard write, BEL
    "\x1b]52;c;ZXZpbA==\x1b\\",  # OSC 52, ST
    "line\roverwrite",
    "nul\x00byte",
    "rtl\u202eevil",
    "c1\x9b31mcsi",
    "bell\x07",
    "\x1b[" + "1;" * 10_000 + "m",  # a very long CSI (rich once hung on such strings)
]
MARKUP = "[bold]bold[/bold] [link=http://x]l[/link] [/bold] [red"
ALL = [*ESC_PAYLOADS, MARKUP]
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def evil(tmp_path: Path, clock: FakeClock) -> str:
    """A run whose every string field carries the payloads."""
    joined = " | ".join(ALL)
    eventlog.init(
        "evil", run="run" + ESC_PAYLOADS[0], console="off", strict=False, config={"model": joined, ESC_PAYLOADS[2]: 1}
    )
    with eventlog.phase("validation" + ESC_PAYLOADS[1], label=ESC_PAYLOADS[3], total_batches=1) as v:
        v.val_batch(1, questions=1, avg_reward=0.5)
        for i, p in enumerate(ALL):
            eventlog.emit(
                "sample",
                step=1,
                split="val" + p,
                index=i,
                prompt=p,
                output=p,
                golden=[p],
                extracted=p,
                reward=0.0,
                correct=False,
            )
    eventlog.emit("step_metrics", step=1, metrics={"loss": 0.5, "evil" + ESC_PAYLOADS[0]: 1.0})
    eventlog.emit("eval_summary", step=1, metrics={"accuracy": 0.5, "evil" + ESC_PAYLOADS[5]: 0.1}, split=joined)
    eventlog.emit("group_detail", step=1, group=0, rewards=[1.0], turn_advantages=[[0.5]])
    eventlog.get_logger("log" + ESC_PAYLOADS[4]).warning(joined, **{"field" + ESC_PAYLOADS[6]: joined})
    eventlog.emit("custom" + ESC_PAYLOADS[7].replace("\r", ""), text=joined)
    with pytest.raises(RuntimeError), eventlog.phase("failing"):
        raise RuntimeError(joined)
    eventlog.finish(error=joined)
    return "evil"


COMMANDS = [
    ["replay"],
    ["replay", "--verbose"],
    ["replay", "--style", "compact", "--verbose"],
    ["phases"],
    ["phases", "--all"],
    ["grep", "evil"],
    ["grep", "-C", "2", "bold"],
    ["filter"],
    ["table", "--cols", "step,loss,evil" + ESC_PAYLOADS[0]],
    ["trend", "accuracy"],
    ["summary"],
    ["samples", "--limit", "20", "--full"],
    ["samples"],
    ["groups"],
    ["eval"],
    ["validate"],
    ["table", "--markdown", "--cols", "step,evil" + ESC_PAYLOADS[0]],
    ["table", "--csv", "--cols", "step,evil" + ESC_PAYLOADS[0]],
    ["trend", "--csv", "accuracy"],
    ["summary", "--json"],
    ["samples", "--json"],
    ["eval", "--json"],
    ["grep", "--json", "evil"],
    ["trend", "accuracy", "--plot"],
    ["compare", "evil"],
    ["compare", "--csv", "evil"],
    ["report", "--out", "report.html"],
    ["watch", "--once"],
]


class TestEveryCommand:
    @pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a)[:40].encode("unicode_escape").decode())
    def test_no_control_character_reaches_the_terminal(self, evil: str, args: list[str]) -> None:
        """stdout and stderr hold no ESC, C1, BEL, CR, NUL or bidi control; markup prints literally."""
        result = CliRunner().invoke(app, [*args, evil], catch_exceptions=False)
        assert result.exit_code in (0, 1), result.stderr
        for stream in (result.stdout, result.stderr):
            bad = FORBIDDEN.search(stream)
            assert bad is None, (
                f"{bad.group()!r} at {bad.start()}: {stream[max(0, bad.start() - 40) : bad.start() + 20]!r}"
            )
        if args[0] == "samples" and "--json" not in args:
            assert "[/bold]" in result.stdout  # markup shown as text, not interpreted

    def test_json_output_keeps_the_exact_strings(self, evil: str) -> None:
        """--json escapes control characters as \\u sequences, so the data itself is unchanged."""
        result = CliRunner().invoke(app, ["samples", "--json", "--limit", "20", evil])
        outputs = [s["output"] for s in json.loads(result.stdout)]
        assert ALL == outputs


class TestNothingIsEvaluated:
    @pytest.mark.parametrize(
        "expr",
        [
            "__import__('os').system('touch pwned')",
            "exec('x')",
            "step.__class__",
            "metrics['loss']",
            "lambda: 1",
            "step; import os",
        ],
    )
    def test_where_is_parsed_never_evaluated(self, expr: str, tmp_path: Path) -> None:
        """Code in --where is a syntax error (exit 2) or a plain field lookup; nothing runs."""
        from eventlog_cli.commands._exit import exit_code
        from eventlog_cli.errors import UsageError

        try:
            pred = compile_where(expr)
        except UsageError as exc:
            assert 2 == exit_code(exc)
        else:
            assert pred({"step": 1, "metrics": {"loss": 1}}) in (True, False)
        assert not Path("pwned").exists()

    def test_field_named_like_python_is_just_a_lookup(self) -> None:
        """A dotted name walks dicts only: attributes of Python objects are unreachable."""
        pred = compile_where("step.__class__ == 'int'")
        assert pred({"step": 3}) is False
        assert compile_where("a.b == 'x'")({"a": {"b": "x"}}) is True


def test_events_keep_payloads_verbatim(evil: str) -> None:
    """The file stores the strings exactly (sanitising is only for display)."""
    lines = [json.loads(line) for line in Path(evil, "events.jsonl").read_text().splitlines()]
    outputs: list[Any] = [e["output"] for e in lines if e["event"] == "sample"]
    assert ALL == outputs
