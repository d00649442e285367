"""Running the scripts as their authors do, and tuning them with the real command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from autoaccel.recommend import TrialRecord
from autoaccel.study import StageStudy, load_stages, open_storage

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


def tuned_stage(root: Path, study: str) -> tuple[StageStudy, list[TrialRecord]]:
    """The train stage ``run_tune`` left, and its trials that measured something.

    Each of its three trials ran the script to the end, or was stopped early as too slow (a
    busy machine does that); none failed in the script. The baseline always runs to the end.
    """
    (stage,) = load_stages(open_storage(storage(root)), study).values()
    records = [r for r in stage.records() if r.repeat_of is None]
    assert len(records) >= 3
    assert {r.outcome for r in records} <= {"ok", "pruned"}, [r.reason for r in records]
    measured = [r for r in records if r.measurement is not None]
    assert measured and measured[0].role == "baseline"
    return stage, measured
