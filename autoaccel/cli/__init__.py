"""Command-line interface: typer commands that parse, call one library function, render."""

from __future__ import annotations

from collections.abc import Sequence

from autoaccel.cli._app import app
from autoaccel.cli._errors import run_with_error_mapping

__all__ = ["app", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``autoaccel`` console script."""
    run_with_error_mapping(
        lambda: app(args=list(argv) if argv is not None else None, prog_name="autoaccel")
    )
