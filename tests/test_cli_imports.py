"""The CLI's import weight: help and light paths start without polars, rich or pydantic (issue 12).

Structural, not timed: each check runs the CLI in a fresh interpreter and looks at ``sys.modules``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("polars", "rich", "pandas", "numpy", "pyarrow", "pydantic")

RUN = f"""
import sys
HEAVY = {HEAVY!r}
sys.argv = ["eventlog", *sys.argv[1:]]
from eventlog_cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set(HEAVY))
sys.stderr.write("HEAVY=" + ",".join(heavy) + "\\n")
"""


def _run(*args: str) -> tuple[str, list[str]]:
    proc = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=False)
    line = next(x for x in proc.stderr.splitlines() if x.startswith("HEAVY="))
    return proc.stdout, [m for m in line[6:].split(",") if m]


def _commands() -> list[str]:
    from eventlog_cli._app import app

    return sorted(c.name or c.callback.__name__ for c in app.registered_commands if c.callback is not None)


class TestHelpIsLight:
    def test_eventlog_help_imports_no_polars_nor_rich(self) -> None:
        out, heavy = _run("--help")
        assert "Usage" in out and "table" in out
        assert heavy == []

    @pytest.mark.parametrize("command", _commands())
    def test_each_command_help_imports_no_polars(self, command: str) -> None:
        out, heavy = _run(command, "--help")
        assert "Usage" in out
        assert "polars" not in heavy

    def test_the_stand_in_imports_polars_on_first_use(self) -> None:
        """The lazy module really loads polars when a command uses it (so the checks above are not vacuous)."""
        code = "import sys; from eventlog_cli._lazy import polars as pl; a = 'polars' in sys.modules; pl.DataFrame"
        proc = subprocess.run(
            [sys.executable, "-c", code + "; print(a, 'polars' in sys.modules)"], capture_output=True, text=True
        )
        assert proc.stdout.split() == ["False", "True"]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run written by the library: a phase, a step, a warning."""
    where = tmp_path_factory.mktemp("small")
    code = "import eventlog, sys; eventlog.init(sys.argv[1], run='r', console=False)\n"
    code += "with eventlog.phase('training_step', step=1):\n"
    code += "    eventlog.emit('step_metrics', step=1, metrics={'loss': 1.0})\n"
    code += "eventlog.emit('log', level='warning', msg='a warning')\n"
    code += "eventlog.finish()"
    subprocess.run([sys.executable, "-c", code, str(where)], check=True)
    return where


class TestLightCommands:
    """Commands on a small run that need no frames start without polars (and typer without pydantic)."""

    @pytest.mark.parametrize(
        ("args", "shows"), [(["phases"], "training_step"), (["replay"], "a warning"), (["grep", "warn"], "a warning")]
    )
    def test_imports_neither_polars_nor_pydantic(self, small: Path, args: list[str], shows: str) -> None:
        """typer 0.29 builds a pydantic TypeAdapter per parameter (~90 ms a command): typer stays below it."""
        out, heavy = _run(*args, str(small))
        assert shows in out
        assert "polars" not in heavy and "pydantic" not in heavy


class TestMissingExtra:
    def test_without_polars_the_hint_not_a_traceback(self) -> None:
        code = "import sys; sys.modules['polars'] = None; sys.argv = ['eventlog', '--help']\n"
        code += "from eventlog_cli import main\nmain()"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        assert proc.returncode == 1
        from eventlog_cli import _HINT

        assert proc.stderr.strip() == _HINT
        assert _HINT.startswith("eventlog: the command needs the cli extra; install it with: pip install")
