"""A task written the simple way (a dataset, a loss, a metric): tuned, and run on its own."""

from __future__ import annotations

import pytest
from script_runs import run_on_its_own, run_tune, tuned_stage


@pytest.mark.slow
def test_tune_measures_it(tmp_path) -> None:
    tuned = run_tune(tmp_path, "plain_task.py")
    assert tuned.returncode == 0, tuned.stdout + tuned.stderr
    assert (tmp_path / "studies" / "plain_task" / "recommendation.json").exists()
    stage, measured = tuned_stage(tmp_path, "plain_task")
    assert (stage.task.run_epochs, stage.task.epochs) == (3, 1)
    assert all(r.measurement.flops_per_sample for r in measured)  # its FLOPs are counted


@pytest.mark.slow
def test_it_still_runs_on_its_own(tmp_path) -> None:
    result = run_on_its_own(tmp_path, "plain_task.py")
    assert result.returncode == 0, result.stderr
    assert "autoaccel: epoch 3:" in result.stdout and "autoaccel: epoch 4:" not in result.stdout
