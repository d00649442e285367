"""Advice from the deploy trials: when heavy pruning kept the metric, the model is larger
than the task needs, and a smaller one trained from the start would serve faster still."""

from __future__ import annotations

from collections.abc import Sequence

from autoaccel.recommend._records import TrialRecord

LARGE_PRUNING = 0.3  # a share of channels whose removal a right-sized model would feel


def lighter_model_advice(
    records: Sequence[TrialRecord], baseline: TrialRecord, max_metric_drop: float
) -> str | None:
    """One sentence with the evidence, from the most pruned trial whose metric held; None
    when no trial pruned at least ``LARGE_PRUNING`` of the channels and kept the metric."""
    base = baseline.measurement
    if base is None or baseline.metric is None:
        return None
    kept = [
        r
        for r in records
        if r.metric is not None
        and r.config.pruning_ratio >= LARGE_PRUNING
        and baseline.metric - r.metric <= max_metric_drop + 1e-12
    ]
    if not kept:
        return None
    most = max(kept, key=lambda r: (r.config.pruning_ratio, r.metric, -r.number))
    m = most.measurement
    assert m is not None
    sizes = (
        f", {m.parameters:,} parameters instead of {base.parameters:,}"
        if m.parameters and base.parameters
        else ""
    )
    return (
        f"the model is larger than this task needs: trial {most.number} removed "
        f"{most.config.pruning_ratio:.0%} of its channels and kept {m.metric_name} at "
        f"{m.metric:.4g} (baseline {baseline.metric:.4g}){sizes}; a narrower or shallower "
        "model trained from the start, or an early exit for easy inputs, would likely serve "
        "faster still"
    )
