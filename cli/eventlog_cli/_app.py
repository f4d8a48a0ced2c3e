"""The Typer application: every command module of ``commands/`` registered, in help order."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import typer

from eventlog_cli.commands import COMMANDS, modules
from eventlog_cli.commands._exit import report_error

_HELP = (
    "Analyse eventlog runs: phases, step tables, eval trends, samples, HTML reports, plots, run comparison, "
    "a live watch, validation, export."
)


def build(commands: Iterable[str] | None = None) -> typer.Typer:
    """The Typer app with every command (or only those named in ``commands``: the same commands, fewer imports)."""
    app = typer.Typer(
        name="eventlog",
        help=_HELP,
        context_settings={"help_option_names": ["-h", "--help"]},
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
    )
    for module in modules(commands):
        module.register(app)
    app.callback()(_main)
    return app


def __getattr__(name: str) -> Any:
    """``app``: the whole app, built on first use (tests and embedders import it; ``run`` builds its own)."""
    if name == "app":
        app = globals()["app"] = build()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _version(value: bool) -> None:
    if value:
        from eventlog import __version__

        sys.stdout.write(f"eventlog {__version__}\n")
        raise typer.Exit


def _main(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """Analyse eventlog runs: phases, step tables, eval trends, samples, validation, export."""


def run() -> None:
    """Run the app; anything a command did not handle is mapped by ``commands._exit`` too."""
    from eventlog.exceptions import EventlogError

    first = sys.argv[1:2]  # a command's name: only its module is imported; anything else (help, a typo) needs all
    app = build(first if first and first[0] in COMMANDS else None)
    try:
        app(standalone_mode=True)
    except (EventlogError, BrokenPipeError, KeyboardInterrupt) as exc:
        if isinstance(exc, BrokenPipeError):
            sys.stderr.close()
        raise SystemExit(report_error(exc)) from None
