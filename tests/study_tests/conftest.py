"""Fixtures that run the tuner with a fake trial runner (no trial processes)."""

from __future__ import annotations

import pytest
from fake_trials import FakeRunner

from autoaccel.knobs import Config, TaskFacts
from autoaccel.study import TuneOptions


@pytest.fixture
def facts(tasks_dir) -> TaskFacts:
    return TaskFacts(
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


@pytest.fixture
def options(tmp_path) -> TuneOptions:
    return TuneOptions(
        storage=f"sqlite:///{tmp_path}/studies/autoaccel.db",
        stage="train",
        trials=6,
        studies_dir=tmp_path / "studies",
    )


@pytest.fixture
def tune_fake(tasks_dir, facts, cpu_profile):
    """tune() on tiny.py with a fake runner, the CPU profile and fixed task facts."""
    from autoaccel.study import tune

    def run(options: TuneOptions, runner: FakeRunner | None = None, **kwargs):
        runner = runner or FakeRunner()
        kwargs.setdefault("hardware", cpu_profile)
        task_facts = kwargs.pop("facts", facts)
        kwargs.setdefault("inspect", lambda target: task_facts)
        result = tune(str(tasks_dir / "tiny.py"), options, run=runner, **kwargs)
        return result, runner

    return run
