"""``autoaccel report``: a stored study's report, read from the storage alone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from autoaccel import _format as fmt
from autoaccel import defaults
from autoaccel.cli._options import StorageOption
from autoaccel.cli._render import console

ReportFormat = Literal["text", "markdown", "html", "json"]  # autoaccel.report.FORMATS


def report_command(
    study: Annotated[str, typer.Argument(help="Study name (autoaccel studies lists them).")],
    storage: StorageOption = defaults.STORAGE,
    format: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="text for the terminal; html (one file, interactive plots, works offline); "
            "markdown (PNG plots beside it); json [default: from -o's suffix, else text].",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write [default: text and json to standard output, html and "
            "markdown beside the study's recommendation, STUDIES/STUDY/report.html|.md, "
            "wherever you run it].",
        ),
    ] = None,
) -> None:
    """Report on a stored study: hardware, speedup, Pareto front, knobs, limits, how to use it."""
    from autoaccel.report import make_report, print_text

    written = make_report(study, storage=storage, format=format, output=output)
    if written.path is not None:
        console.print(fmt.plain(f"Report written to {written.path}"))
    elif written.format == "json":
        print(written.info.to_json())
    else:
        print_text(written.info, console)
