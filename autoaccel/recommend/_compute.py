"""Choosing the recommended trial and saying what still limits it. Pure functions of the
stored trials: the same records give the same recommendation on any machine."""

from __future__ import annotations

from collections.abc import Sequence

from autoaccel import _format as fmt
from autoaccel.knobs import Stage
from autoaccel.recommend._model import StageRecommendation
from autoaccel.recommend._records import TrialRecord

DATA_WAIT_LIMIT = 0.10
LOW_MFU = 0.30


def baseline_of(records: Sequence[TrialRecord]) -> TrialRecord | None:
    """The finished baseline trial (the first one, if it was repeated after a kill)."""
    return next((r for r in records if r.role == "baseline" and r.outcome != "interrupted"), None)


def is_feasible(record: TrialRecord, baseline_metric: float, max_metric_drop: float) -> bool:
    """Finished, and its metric within ``max_metric_drop`` of the baseline's."""
    metric = record.metric
    return metric is not None and baseline_metric - metric <= max_metric_drop + 1e-12


def recommend_stage(
    records: Sequence[TrialRecord],
    stage: Stage,
    max_metric_drop: float,
    largest_batch: int | None = None,
) -> StageRecommendation | None:
    """The feasible trial with the highest median throughput, against the baseline.

    Returns None while the baseline has not finished (nothing to compare with). On a tie,
    the earlier trial wins, so the baseline wins over an equal configuration.
    """
    baseline = baseline_of(records)
    if baseline is None or not baseline.ok or baseline.measurement is None:
        return None
    base_metric = baseline.measurement.metric
    finished = [r for r in records if r.outcome != "interrupted"]
    feasible = [r for r in finished if is_feasible(r, base_metric, max_metric_drop)]
    best = max(feasible, key=lambda r: (r.throughput, -r.number))
    m, b = best.measurement, baseline.measurement
    assert m is not None
    return StageRecommendation(
        stage=stage,
        config=best.config,
        trial=best.number,
        baseline_trial=baseline.number,
        throughput=m.throughput,
        baseline_throughput=b.throughput,
        speedup=m.throughput.rate / b.throughput.rate,
        metric=m.metric,
        baseline_metric=base_metric,
        metric_name=m.metric_name,
        max_metric_drop=max_metric_drop,
        peak_memory_bytes=m.peak_memory_bytes,
        baseline_peak_memory_bytes=b.peak_memory_bytes,
        memory_kind=m.memory_kind,
        mfu=m.mfu,
        baseline_mfu=b.mfu,
        data_wait_share=m.data_wait_share,
        limits=limits(best, baseline, largest_batch),
        finished_trials=len(finished),
        feasible_trials=len(feasible),
    )


def limits(best: TrialRecord, baseline: TrialRecord, largest_batch: int | None) -> list[str]:
    """What still holds the recommended setup back, as advice a user can act on."""
    m = best.measurement
    assert m is not None
    advice = []
    if best.number == baseline.number:
        advice.append(
            "no configuration beat the baseline within the metric tolerance: widen the "
            "search space, raise --max-metric-drop, or run more trials"
        )
    if m.data_wait_share is not None and m.data_wait_share > DATA_WAIT_LIMIT:
        # On a CPU, augmentation and the model share the same cores: GPU advice would not fit.
        cheaper = (
            "move augmentation to the GPU"
            if m.memory_kind == "cuda_allocated"
            else "precompute the transforms that do not change between epochs"
        )
        advice.append(
            f"{fmt.percent(m.data_wait_share, 0)} of each step waits for data: make "
            f"__getitem__ cheaper (cache decoded samples, {cheaper}), or allow more "
            "num_workers if cores are free"
        )
    if m.mfu is not None and m.mfu < LOW_MFU:
        advice.append(
            f"the model uses {fmt.percent(m.mfu, 0)} of the device's peak FLOP/s: the "
            "device waits on small kernels or memory; larger batches, torch.compile or a "
            "wider model use it better"
        )
    elif m.mfu is None:
        advice.append("peak FLOP/s of this device is unknown, so MFU is not reported")
    if largest_batch is not None and best.config.batch_size >= largest_batch:
        advice.append(
            f"the largest batch size in the space ({largest_batch}) won: add larger ones to "
            "the search space if memory allows"
        )
    for note in m.notes:
        advice.append(note)
    return advice
