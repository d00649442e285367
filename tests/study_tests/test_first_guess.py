"""The first guess keeps enough optimizer steps in the budget for the metric to hold."""

from __future__ import annotations

import pytest

from autoaccel.knobs import Config
from autoaccel.study._first_guess import budget_steps, first_guess_batch


@pytest.mark.parametrize(
    ("train_samples", "epochs", "expected"),
    [
        (32768, 2.0, 256),  # 1,024 steps at 64: 4x still leaves 256
        (32768, 1.0, 128),  # 512 steps at 64: 4x would leave 128, 2x leaves 256
        (16384, 1.0, 64),  # 256 steps at 64: even 2x would leave only 128
        (8192, 1.0, 64),  # 128 steps at 64 (the CNN example): any larger batch loses steps
        (1000, 1.0, 64),  # 15 steps: the baseline is already short, keep it
    ],
)
def test_the_guess_grows_the_batch_only_while_the_budget_keeps_its_steps(
    facts, train_samples, epochs, expected
) -> None:
    facts = facts.model_copy(update={"train_samples": train_samples, "epochs": epochs})
    baseline = Config(batch_size=64)
    batch = first_guess_batch(facts, baseline)
    assert batch == expected
    kept = budget_steps(facts, batch)
    assert kept >= min(budget_steps(facts, 64), 256)
