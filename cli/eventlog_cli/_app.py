"""The Typer application: every command joined, errors turned into one line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from eventlog.exceptions import EventlogError
from eventlog_cli._errors import CliError
from eventlog_cli.commands import analysis, importer, runs, view

app = typer.Typer(
    name="eventlog",
    help="Analyse eventlog runs: phases, step tables, eval trends, samples, validation, export.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
for module in (view, analysis, runs, importer):
    module.register(app)


def _show_version(value: bool) -> None:
    if value:
        from eventlog import __version__

        typer.echo(f"eventlog {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Analyse eventlog runs: phases, step tables, eval trends, samples, validation, export."""


def run() -> None:
    """Run the app: one line on stderr and exit 1 for data problems, 130 on Ctrl-C."""
    try:
        app(standalone_mode=True)
    except CliError as exc:
        sys.stderr.write(f"eventlog: {exc}\n")
        raise SystemExit(exc.code) from None
    except EventlogError as exc:
        sys.stderr.write(f"eventlog: {exc}\n")
        raise SystemExit(1) from None
    except BrokenPipeError:
        sys.stderr.close()
        raise SystemExit(0) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
