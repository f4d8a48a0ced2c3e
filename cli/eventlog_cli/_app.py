"""The Typer application: every command module of ``commands/`` registered, in help order."""

from __future__ import annotations

import sys

import typer

from eventlog_cli.commands import MODULES
from eventlog_cli.commands._exit import report_error

app = typer.Typer(
    name="eventlog",
    help="Analyse eventlog runs: phases, step tables, eval trends, samples, HTML reports, plots, run comparison, "
    "a live watch, validation, export.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
for module in MODULES:
    module.register(app)


def _version(value: bool) -> None:
    if value:
        from eventlog import __version__

        sys.stdout.write(f"eventlog {__version__}\n")
        raise typer.Exit


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """Analyse eventlog runs: phases, step tables, eval trends, samples, validation, export."""


def run() -> None:
    """Run the app; anything a command did not handle is mapped by ``commands._exit`` too."""
    from eventlog.exceptions import EventlogError

    try:
        app(standalone_mode=True)
    except (EventlogError, BrokenPipeError, KeyboardInterrupt) as exc:
        if isinstance(exc, BrokenPipeError):
            sys.stderr.close()
        raise SystemExit(report_error(exc)) from None
