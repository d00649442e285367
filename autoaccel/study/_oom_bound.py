"""The out-of-memory bound: a batch size at or above one that ran out of memory, in the
same precision, would run out too, so it is recorded as such without a trial process."""

from __future__ import annotations

from collections.abc import Sequence

from autoaccel import knobs
from autoaccel.knobs import Config, Stage
from autoaccel.recommend import TrialRecord


def out_of_memory_at(
    records: Sequence[TrialRecord], config: Config, stage: Stage
) -> TrialRecord | None:
    """The first stored trial that ran out of memory with ``config``'s precision and a
    batch size no larger than ``config``'s, or None.

    Only in stages that search precision: elsewhere memory depends on knobs this bound
    does not follow.
    """
    if "precision" not in knobs.STAGE_KNOBS[stage]:
        return None
    for record in records:
        if (
            record.outcome == "oom"
            and record.config.precision == config.precision
            and record.config.batch_size <= config.batch_size
        ):
            return record
    return None
