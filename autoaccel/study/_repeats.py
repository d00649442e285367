"""Skipping repeats: a configuration the study already measured is not measured again.

Samplers suggest the same point more than once in a small space; its result is already
stored, so the tuner copies it instead of spending a trial process on it, does not count
it against the trial budget, and measures an untried configuration next.
"""

from __future__ import annotations

from collections.abc import Sequence

from autoaccel.knobs import Config, Stage
from autoaccel.recommend import TrialRecord
from autoaccel.study._oom_bound import out_of_memory_at


def earlier_trial(
    records: Sequence[TrialRecord], config: Config, stage: Stage
) -> TrialRecord | None:
    """The first stored trial with the same ``stage`` knobs as ``config``, or None.

    A trial stopped by Ctrl-C measured nothing, so it does not count: it runs again.
    """
    key = config.for_stage(stage)
    for record in records:
        if record.outcome != "interrupted" and record.config.for_stage(stage) == key:
            return record
    return None


def untried(
    grid: Sequence[Config],
    records: Sequence[TrialRecord],
    stage: Stage,
    busy: Sequence[Config] = (),
) -> list[Config]:
    """The configurations of ``grid`` that no stored trial measured or ruled out, and that
    no running trial (``busy``) is measuring.

    When the sampler repeats itself, the tuner measures one of these instead, so every
    trial of the budget buys information.
    """
    running = [config.for_stage(stage) for config in busy]
    return [
        config
        for config in grid
        if earlier_trial(records, config, stage) is None
        and out_of_memory_at(records, config, stage) is None
        and config.for_stage(stage) not in running
    ]
