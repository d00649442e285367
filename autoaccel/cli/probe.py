"""``autoaccel probe``: placeholder until the probe lands."""

from __future__ import annotations


def probe_command() -> None:
    """Show what this machine can do."""
