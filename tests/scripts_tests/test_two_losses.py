"""A network trained on two losses summed in its own step, on batches autoaccel makes from
its dataset: tuned with the loader knobs and channels-last applied, and run on its own."""

from __future__ import annotations

import pytest
from script_runs import run_on_its_own, run_tune, tuned_stage


@pytest.mark.slow
def test_tune_measures_it_with_the_loader_knobs(tmp_path) -> None:
    tuned = run_tune(tmp_path, "two_losses.py")
    assert tuned.returncode == 0, tuned.stdout + tuned.stderr
    stage, measured = tuned_stage(tmp_path, "two_losses")
    assert not stage.task.own_batches and stage.task.has_conv2d
    # Nothing in the space is refused for it: its batches come from a DataLoader.
    assert stage.space.choices["num_workers"] == [0, 1]
    assert stage.space.choices["channels_last"] == [False, True]
    assert all(0.0 <= r.measurement.metric <= 1.0 for r in measured)


@pytest.mark.slow
def test_it_still_runs_on_its_own(tmp_path) -> None:
    result = run_on_its_own(tmp_path, "two_losses.py")
    assert result.returncode == 0, result.stderr
    assert "autoaccel: epoch 2:" in result.stdout  # Task.run_epochs, not the trial budget
    assert "autoaccel: epoch 3:" not in result.stdout
