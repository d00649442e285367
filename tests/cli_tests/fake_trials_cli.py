"""The real tune() with a fake trial runner, for CLI tests."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "study_tests"))

from fake_trials import FakeRunner

from autoaccel.knobs import Config, TaskFacts
from autoaccel.study._tune import tune


def fake_tune_call(hardware, tasks_dir):
    facts = TaskFacts(
        name="tiny",
        script=str(tasks_dir / "tiny.py"),
        script_sha256="abc",
        metric_name="accuracy",
        baseline=Config(batch_size=64),
        epochs=10.0,
        parameters=100,
        has_conv2d=False,
        has_linear=True,
        train_samples=16384,
        eval_samples=1024,
    )

    def call(script, options, progress=None):
        return tune(
            script,
            options,
            progress=progress,
            run=FakeRunner(),
            hardware=hardware,
            inspect=lambda target: facts,
        )

    return call
