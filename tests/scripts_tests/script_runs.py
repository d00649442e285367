"""Running the scripts as their authors do, and tuning them with the real command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).parent / "scripts"
SPACE = Path(__file__).parent / "train_space.yaml"
TUNE_TIMEOUT_S = 240  # generous: CI machines are shared and slow


def run_tune(root: Path, script: str, *options: str, script_args: tuple[str, ...] = ()):
    """``autoaccel tune SCRIPT --stage train --trials 3 --confirm 0 --space SPACE OPTIONS --
    SCRIPT_ARGS`` in a subprocess working in ``root``, its study in ``root/studies``."""
    command = [
        sys.executable,
        "-m",
        "autoaccel",
        "tune",
        str(SCRIPTS / script),
        "--stage",
        "train",
        "--trials",
        "3",
        "--confirm",
        "0",
        "--space",
        str(SPACE),
        *options,
    ]
    if script_args:
        command += ["--", *script_args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=TUNE_TIMEOUT_S)


def run_on_its_own(root: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python SCRIPT ARGS`` in ``root``, as its author runs it."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=TUNE_TIMEOUT_S,
    )


def storage(root: Path) -> str:
    return f"sqlite:///{root}/studies/autoaccel.db"
