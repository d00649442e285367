"""The ``autoaccel`` command: this module only registers commands."""

from __future__ import annotations

from typing import Annotated

import typer

from autoaccel._version import __version__
from autoaccel.cli import bench, probe, report, studies, tune

app = typer.Typer(
    name="autoaccel",
    help="Find the fastest PyTorch training and inference setup whose accuracy holds.",
    no_args_is_help=True,
    epilog="Exit codes: 0 done; 1 the run failed (a baseline that fails, a storage that "
    "breaks); 2 a usage error or bad input (fix the command, the script or the file); "
    "130 stopped by Ctrl-C, 143 by SIGTERM, finished trials kept.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"autoaccel {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """Find the fastest PyTorch training and inference setup whose accuracy holds."""


app.command("probe")(probe.probe_command)
app.command("bench")(bench.bench_command)
app.command("tune")(tune.tune_command)
app.command("report")(report.report_command)
app.add_typer(studies.app, name="studies")
