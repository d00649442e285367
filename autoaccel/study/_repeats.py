"""Skipping repeats: a configuration the study already measured is not measured again.

Samplers suggest the same point more than once in a small space; its result is already
stored, so the tuner copies it instead of spending a trial process on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from autoaccel.knobs import Config
from autoaccel.recommend import TrialRecord


def earlier_trial(records: Sequence[TrialRecord], config: Config, stage: str) -> TrialRecord | None:
    """The first stored trial with the same ``stage`` knobs as ``config``, or None.

    A trial stopped by Ctrl-C measured nothing, so it does not count: it runs again.
    """
    key = config.for_stage(stage)
    for record in records:
        if record.outcome != "interrupted" and record.config.for_stage(stage) == key:
            return record
    return None
