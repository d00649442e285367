"""``autoaccel probe``: what this machine can do."""

from __future__ import annotations

import typer

from autoaccel.cli._options import JsonOption
from autoaccel.cli._render import console
from autoaccel.probe import probe, render_profile


def probe_command(json_output: JsonOption = False) -> None:
    """Show what this machine can do: CPU, accelerators, software, and what is unknown."""
    profile = probe()
    if json_output:
        typer.echo(profile.to_json())
    else:
        render_profile(profile, console)
