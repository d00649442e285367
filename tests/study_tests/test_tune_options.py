"""``TuneOptions.check``: every option is refused before anything is opened or run."""

from __future__ import annotations

import dataclasses

import pytest

from autoaccel.errors import ConfigError, SearchSpaceError
from autoaccel.study import TuneOptions


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"trial_timeout_s": float("nan")}, "--trial-timeout must be a positive number"),
        ({"trial_timeout_s": float("inf")}, "--trial-timeout must be a positive number"),
        ({"timeout_s": float("nan")}, "--timeout must be a positive number"),
        ({"timeout_s": 0.0}, "--timeout must be a positive number"),
        ({"run_epochs": float("inf")}, "--run-epochs must be a positive number"),
        ({"max_metric_drop": float("inf")}, "--max-metric-drop must be a number >= 0"),
        ({"seed": -1}, "--seed must be between 0 and 4294967295"),
        ({"seed": 2**32}, "--seed must be between 0 and 4294967295"),
    ],
)
def test_bad_numbers(changes, expected) -> None:
    with pytest.raises(ConfigError, match=expected):
        dataclasses.replace(TuneOptions(), **changes).check()


def test_seeds_at_the_ends_of_the_range() -> None:
    TuneOptions(seed=0).check()
    TuneOptions(seed=2**32 - 1).check()


def test_the_space_is_read_for_every_stage_asked(tmp_path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text("train:\n  batch_size: [16]\n")
    TuneOptions(space=path, stage="train").check()
    with pytest.raises(SearchSpaceError, match="has no deploy: section"):
        TuneOptions(space=path, stage="all").check()
