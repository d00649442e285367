"""``autoaccel.train``: the real run, as long as the task says its real training runs."""

from __future__ import annotations

import dataclasses

import pytest

import autoaccel


@pytest.mark.parametrize(
    ("budget", "run", "given", "epochs"),
    [
        (1, 3, None, 3),  # Task.run_epochs: the real run's length, apart from the trials'
        (2, None, None, 2),  # a script that only sets epochs trains as long as before
        (1, 3, 2, 2),  # train(task, epochs=...) says it at the call
    ],
)
def test_the_real_run_trains_its_own_length(tiny, budget, run, given, epochs) -> None:
    task = dataclasses.replace(tiny, epochs=budget, run_epochs=run)
    lines: list[str] = []
    result = autoaccel.train(task, {"batch_size": 16}, epochs=given, log=lines.append)
    assert len(result.epoch_rates) == epochs
    assert f"autoaccel: epoch {epochs}:" in "\n".join(lines)
