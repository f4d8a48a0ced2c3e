"""The Typer application: every command joined, errors turned into one line."""

from __future__ import annotations

import sys

import typer

from eventlog.exceptions import EventlogError
from eventlog_cli._errors import CliError
from eventlog_cli.commands import analysis, compare, html_report, plot, runs, view, watch

app = typer.Typer(
    name="eventlog",
    help="Analyse eventlog runs: phases, step tables, eval trends, samples, validation, export.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
for module in (view, analysis, runs, html_report, compare, plot, watch):
    module.register(app)


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
