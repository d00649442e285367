"""Fixtures that run the tuner with a fake trial runner (no trial processes)."""

from __future__ import annotations

import pytest
from fakes import FakeRunner, task_facts, tune_with_fakes

from autoaccel.knobs import TaskFacts
from autoaccel.study import TuneOptions


@pytest.fixture
def facts() -> TaskFacts:
    return task_facts()


@pytest.fixture
def options(tmp_path) -> TuneOptions:
    return TuneOptions(
        storage=f"sqlite:///{tmp_path}/studies/autoaccel.db",
        stage="train",
        trials=6,
        studies_dir=tmp_path / "studies",
    )


@pytest.fixture
def tune_fake():
    """``tune_fake(options, runner=None, **seams) -> (result, runner)``: tune() on tiny.py
    with a fake runner, the CPU host and fixed task facts."""

    def run(options: TuneOptions, runner: FakeRunner | None = None, **seams):
        runner = runner or FakeRunner()
        return tune_with_fakes(options, runner, **seams), runner

    return run
