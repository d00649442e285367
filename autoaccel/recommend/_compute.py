"""Choosing the recommended trial and saying what still limits it. Pure functions of the
stored trials: the same records give the same recommendation on any machine."""

from __future__ import annotations

import math
from collections.abc import Sequence

from autoaccel import _format as fmt
from autoaccel.knobs import Stage
from autoaccel.recommend._goal import ServingGoal
from autoaccel.recommend._lighter import lighter_model_advice
from autoaccel.recommend._model import StageRecommendation
from autoaccel.recommend._paired import Confirmation
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


def best_feasible(
    records: Sequence[TrialRecord], max_metric_drop: float, goal: ServingGoal | None = None
) -> TrialRecord | None:
    """The feasible trial that best serves ``goal`` (by default: the highest span rate) and
    keeps within its limits, the earlier one on a tie (so the baseline wins over an equal
    configuration); None before the baseline finished, or when no trial met the limits."""
    goal = goal or ServingGoal()
    baseline = baseline_of(records)
    if baseline is None or baseline.metric is None:
        return None
    feasible = [r for r in records if _within(r, baseline.metric, max_metric_drop, goal)]
    return max(feasible, key=lambda r: (goal.score(r.served), -r.number), default=None)


def _within(
    record: TrialRecord, baseline_metric: float, max_metric_drop: float, goal: ServingGoal
) -> bool:
    return is_feasible(record, baseline_metric, max_metric_drop) and goal.meets(record.served)


def closest_to_limits(
    records: Sequence[TrialRecord], max_metric_drop: float, goal: ServingGoal
) -> TrialRecord | None:
    """When no trial met the limits: the one whose metric holds that came nearest to them."""
    baseline = baseline_of(records)
    if baseline is None or baseline.metric is None:
        return None
    holding = [r for r in records if is_feasible(r, baseline.metric, max_metric_drop)]
    return min(holding, key=lambda r: (goal.closeness(r.served), r.number), default=None)


def recommend_stage(
    records: Sequence[TrialRecord],
    stage: Stage,
    max_metric_drop: float,
    largest_batch: int | None = None,
    confirmation: Confirmation | None = None,
    goal: ServingGoal | None = None,
) -> StageRecommendation | None:
    """The recommended trial against the baseline.

    With a finished ``confirmation``, its winner (the baseline when none was clear of it),
    with the speedup and interval of the paired rounds. Without one, the feasible trial
    with the highest span rate in the search; on a tie the earlier trial wins, so the
    baseline wins over an equal configuration. None while the baseline has not finished.

    ``goal`` ranks the trials (throughput or p99 latency) and sets limits; when no trial met
    them, the one that came closest is given, and ``goal_unmet`` says so.
    """
    goal = goal or ServingGoal()
    baseline = baseline_of(records)
    best = best_feasible(records, max_metric_drop, goal)
    unmet = None
    if best is None:
        best = closest_to_limits(records, max_metric_drop, goal)
        if best is not None:
            unmet = (
                f"no setup met {goal.limits_text()}: the closest is trial {best.number} "
                f"({'; '.join(goal.broken(best.served))})"
            )
    if baseline is None or best is None or baseline.measurement is None:
        return None
    base_metric = baseline.measurement.metric
    finished = [r for r in records if r.outcome != "interrupted"]
    feasible = [r for r in finished if _within(r, base_metric, max_metric_drop, goal)]
    confirmed = confirmation is not None and confirmation.done and confirmation.verdict
    if confirmed:
        assert confirmation is not None and confirmation.verdict is not None
        by_number = {r.number: r for r in records}
        chosen = by_number.get(confirmation.winner, baseline) if confirmation.winner else baseline
        # A baseline over the limits stays unrecommended: the search's best within them wins.
        best = chosen if goal.meets(chosen.served) else best
    m, b = best.measurement, baseline.measurement
    assert m is not None
    speedup = m.throughput.rate / b.throughput.rate
    interval = None
    extra: dict[str, object] = {}
    if not confirmed and best.number != baseline.number:
        t, bt = m.throughput, b.throughput
        extra["speedup_range"] = (t.q1 / bt.q3, t.q3 / bt.q1)
    if confirmed:
        assert confirmation is not None and confirmation.verdict is not None
        estimate = confirmation.verdict.speedups.get(best.number)
        if estimate is not None:
            speedup, interval = estimate.value, (estimate.low, estimate.high)
        elif best.number == baseline.number:
            speedup = 1.0
        extra = {
            "confirmed_rounds": len(confirmation.rounds),
            "confirmation": confirmation.verdict.reason,
            "run_epochs": confirmation.run_epochs,
            "metric_check": next(
                (c for c in confirmation.metric_checks if c.trial == best.number), None
            ),
        }
    one_off, base_one_off = one_off_s(best), one_off_s(baseline)
    return StageRecommendation(
        stage=stage,
        config=best.config,
        trial=best.number,
        baseline_trial=baseline.number,
        throughput=m.throughput,
        baseline_throughput=b.throughput,
        speedup=speedup,
        speedup_ci=interval,
        metric=m.metric,
        baseline_metric=base_metric,
        metric_name=m.metric_name,
        max_metric_drop=max_metric_drop,
        peak_memory_bytes=m.peak_memory_bytes,
        baseline_peak_memory_bytes=b.peak_memory_bytes,
        memory_kind=m.memory_kind,
        mfu=m.mfu,
        baseline_mfu=b.mfu,
        peak_dtype=m.peak_dtype,
        baseline_peak_dtype=b.peak_dtype,
        mfu_of_best=m.mfu_of_best,
        baseline_mfu_of_best=b.mfu_of_best,
        best_peak_dtype=m.best_peak_dtype,
        data_wait_share=m.data_wait_share,
        limits=limits(best, baseline, largest_batch, limits_unmet=unmet is not None)
        + _deploy_advice(records, baseline, stage, max_metric_drop),
        finished_trials=len(finished),
        feasible_trials=len(feasible),
        one_off_s=one_off,
        baseline_one_off_s=base_one_off,
        break_even_steps=break_even_steps(best, baseline),
        unstable=best.unstable or baseline.unstable,
        goal=goal,
        latency=m.latency_at(goal.latency_batch),
        baseline_latency=b.latency_at(goal.latency_batch),
        goal_unmet=unmet,
        **extra,
    )


def _deploy_advice(
    records: Sequence[TrialRecord], baseline: TrialRecord, stage: Stage, max_metric_drop: float
) -> list[str]:
    advice = lighter_model_advice(records, baseline, max_metric_drop) if stage == "deploy" else None
    return [advice] if advice else []


def one_off_s(record: TrialRecord) -> float | None:
    """What the first step cost beyond a steady step (compilation, autotuning, warm caches)."""
    m = record.measurement
    if m is None or m.throughput.rate <= 0:
        return None
    return max(0.0, m.first_step_s - record.config.batch_size / m.throughput.rate)


def break_even_steps(best: TrialRecord, baseline: TrialRecord) -> int | None:
    """Training steps of ``best`` after which its one-off cost over the baseline's is paid
    back by its faster steps; None when it costs nothing extra or never pays back."""
    extra = (one_off_s(best) or 0.0) - (one_off_s(baseline) or 0.0)
    m, b = best.measurement, baseline.measurement
    if extra <= 0 or m is None or b is None or m.throughput.rate <= b.throughput.rate:
        return None
    saved_per_sample = 1 / b.throughput.rate - 1 / m.throughput.rate
    return math.ceil(extra / saved_per_sample / best.config.batch_size)


def limits(
    best: TrialRecord,
    baseline: TrialRecord,
    largest_batch: int | None,
    *,
    limits_unmet: bool = False,
) -> list[str]:
    """What still holds the recommended setup back, as advice a user can act on.

    ``limits_unmet``: no trial met the deploy limits, which the recommendation says on its
    own; the baseline given as the closest then was not beaten on the metric.
    """
    m = best.measurement
    assert m is not None
    advice = []
    if best.number == baseline.number and not limits_unmet:
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
        peak = f"{m.peak_dtype} peak" if m.peak_dtype else "peak"
        advice.append(
            f"the model uses {fmt.percent(m.mfu, 0)} of the device's {peak} FLOP/s: the "
            "device waits on small kernels or memory; larger batches, torch.compile or a "
            "wider model use it better"
        )
    elif m.mfu is None:
        which = f"{m.peak_dtype} " if m.peak_dtype else ""
        advice.append(f"the device's {which}peak FLOP/s is unknown, so MFU is not reported")
    if largest_batch is not None and best.config.batch_size >= largest_batch:
        advice.append(
            f"the largest batch size in the space ({largest_batch}) won: add larger ones to "
            "the search space if memory allows"
        )
    for note in m.notes:
        advice.append(note)
    return advice
