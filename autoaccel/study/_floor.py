"""The early-stop floor: the throughput under which a trial cannot win.

A trial process stops once its timed windows show it below the floor, so a slow
configuration (bf16 on a CPU without bf16 instructions runs 6x slower) costs seconds
instead of a whole training budget.
"""

from __future__ import annotations

from collections.abc import Sequence

from autoaccel.recommend import ServingGoal, TrialRecord, best_feasible

PRUNE_BELOW = 1 / 3  # of the best feasible throughput so far


def throughput_floor(
    records: Sequence[TrialRecord], max_metric_drop: float, goal: ServingGoal | None = None
) -> float | None:
    """A fraction of the best feasible throughput in ``records`` (within ``goal``'s limits:
    a faster trial over them is no bar); None before the baseline has finished."""
    best = best_feasible(records, max_metric_drop, goal)
    return best.throughput * PRUNE_BELOW if best is not None else None
