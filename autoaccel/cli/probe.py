"""``autoaccel probe``: what this machine can do."""

from __future__ import annotations

import typer

from autoaccel.cli._options import JsonOption
from autoaccel.cli._render import console
from autoaccel.probe import probe, render_profile


def probe_command(json_output: JsonOption = False) -> None:
    """Show what this machine can do: CPU, accelerators, software, and what is unknown.

    On a machine whose trials run on the CPU, it times a matmul again and keeps the best
    figure seen as the CPU's measured peak (run it on a quiet machine).
    """
    profile = probe(remeasure_cpu=True)
    if json_output:
        typer.echo(profile.to_json())
    else:
        render_profile(profile, console)
