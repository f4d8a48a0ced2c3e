"""``eventlog demo``: run the demo GRPO trainer (numpy) that emits the whole event flow.

The trainer is a script in the source checkout, ``examples/grpo_demo.py`` (it is an example
of the library's use, not part of the library).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Annotated

import typer

import eventlog_cli
from eventlog_cli.commands._exit import guarded
from eventlog_cli.errors import DataError


def demo_script() -> Path:
    """Where the demo trainer lives in a source checkout (it may be absent)."""
    return Path(eventlog_cli.__file__).resolve().parents[2] / "examples" / "grpo_demo.py"


@guarded
def demo(
    out: Annotated[str, typer.Option("--out", help="Run directory.")] = "runs/demo",
    run: Annotated[str, typer.Option("--run", help="Run id.")] = "demo",
    steps: Annotated[int, typer.Option("--steps", min=1)] = 60,
    eval_every: Annotated[int, typer.Option("--eval-every", min=1, help="Validate every N steps.")] = 15,
    delay: Annotated[float, typer.Option("--delay", min=0.0, help="Seconds of simulated work per step.")] = 0.1,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (two seeds: two runs to compare).")] = 0,
    style: Annotated[str, typer.Option("--style", help="banner, compact or off.")] = "banner",
    verbose: Annotated[bool, typer.Option("--verbose")] = False,
    validate_only: Annotated[bool, typer.Option("--validate-only", help="Pre-training validation only.")] = False,
) -> None:
    """Run the demo GRPO training (numpy) that emits the whole event flow."""
    args = ["--out", out, "--run", run, "--steps", str(steps), "--eval-every", str(eval_every)]
    args += ["--delay", str(delay), "--seed", str(seed), "--style", style]
    args += ["--verbose"] if verbose else []
    args += ["--validate-only"] if validate_only else []
    raise typer.Exit(run_demo(args))


def run_demo(args: list[str]) -> int:
    """Run examples/grpo_demo.py with ``args``; its exit status.

    Raises:
        DataError: the script is not there (an installed package without the source checkout).
    """
    script = demo_script()
    if not script.is_file():
        msg = f"the demo trainer is not here ({script} is missing); run eventlog demo from a source checkout"
        raise DataError(msg)
    saved = sys.argv
    sys.argv = [str(script), *args]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        if isinstance(exc.code, str):
            sys.stderr.write(exc.code + "\n")
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    return 0


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
