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
mods = sorted(m.rpartition(".")[2] for m in sys.modules if m.startswith("eventlog_cli.commands.") and "._" not in m)
sys.stderr.write("COMMANDS=" + ",".join(mods) + "\\n")
"""


def _run(*args: str) -> tuple[str, list[str]]:
    out, heavy, _ = _run_modules(*args)
    return out, heavy


def _run_modules(*args: str) -> tuple[str, list[str], list[str]]:
    """(stdout, heavy packages imported, command modules imported) of ``eventlog ARGS`` in a fresh interpreter."""
    proc = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=False)
    lines = proc.stderr.splitlines()
    heavy = next(x for x in lines if x.startswith("HEAVY="))[6:]
    mods = next(x for x in lines if x.startswith("COMMANDS="))[9:]
    return proc.stdout, [m for m in heavy.split(",") if m], [m for m in mods.split(",") if m]


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


class TestOneCommandImportsItsModule:
    """``eventlog CMD`` imports CMD's module alone (the others' query and read layers cost ~60 ms of a start-up);
    the app it builds has the same command, so its help and its errors are the whole app's."""

    def test_a_command_imports_no_other_command(self, small: Path) -> None:
        out, _, mods = _run_modules("grep", "warn", str(small))
        assert "a warning" in out
        assert mods == ["grep"]
        out, _, mods = _run_modules("import", "--help")
        assert "Usage" in out and mods == ["importer"]

    def test_help_and_a_typo_build_every_command(self) -> None:
        from eventlog_cli.commands import COMMANDS

        out, _, mods = _run_modules("--help")
        assert "Usage" in out
        assert sorted(mods) == sorted(COMMANDS.values())
        _, _, mods = _run_modules("tabel")
        assert sorted(mods) == sorted(COMMANDS.values())  # so click can say: did you mean 'table'?

    @pytest.mark.parametrize("args", [["--help"], ["--bogus"], ["-h"]])
    def test_each_command_alone_says_what_the_whole_app_says(self, args: list[str]) -> None:
        from typer.testing import CliRunner

        from eventlog_cli._app import build
        from eventlog_cli.commands import COMMANDS

        whole = build()
        for name in COMMANDS:
            alone = build([name])
            assert [c.name for c in alone.registered_commands] == [name]  # COMMANDS names what the module registers
            a = CliRunner().invoke(alone, [name, *args])
            w = CliRunner().invoke(whole, [name, *args])
            assert (a.exit_code, a.output) == (w.exit_code, w.output), name


class TestMissingExtra:
    def test_without_polars_the_hint_not_a_traceback(self) -> None:
        code = "import sys; sys.modules['polars'] = None; sys.argv = ['eventlog', '--help']\n"
        code += "from eventlog_cli import main\nmain()"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        assert proc.returncode == 1
        from eventlog_cli import _HINT

        assert proc.stderr.strip() == _HINT
        assert _HINT.startswith("eventlog: the command needs the cli extra; install it with: pip install")
