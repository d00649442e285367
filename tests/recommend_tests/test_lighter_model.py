"""The advice that a model is larger than its task needs, from the deploy trials."""

from __future__ import annotations

from fakes import measurement

from autoaccel.knobs import Config
from autoaccel.recommend import TrialRecord, recommend_stage
from autoaccel.recommend._lighter import lighter_model_advice


def record(number: int, pruning: float, metric: float, parameters: int) -> TrialRecord:
    m = measurement("deploy", 1000.0 * (1 + pruning), metric, parameters=parameters)
    return TrialRecord(
        number=number,
        role="baseline" if number == 0 else "search",
        config=Config(batch_size=64, pruning_ratio=pruning),
        outcome="ok",
        measurement=m,
    )


def test_heavy_pruning_that_kept_the_metric_says_so_with_the_evidence() -> None:
    records = [
        record(0, 0.0, 0.90, 10_000),
        record(1, 0.3, 0.895, 5_000),
        record(2, 0.5, 0.893, 2_600),
        record(3, 0.7, 0.80, 1_000),  # dropped the metric: no evidence
    ]
    advice = lighter_model_advice(records, records[0], 0.01)
    assert advice == (
        "the model is larger than this task needs: trial 2 removed 50% of its channels and "
        "kept accuracy at 0.893 (baseline 0.9), 2,600 parameters instead of 10,000; a "
        "narrower or shallower model trained from the start, or an early exit for easy "
        "inputs, would likely serve faster still"
    )
    rec = recommend_stage(records, "deploy", 0.01)
    assert advice in rec.limits
    assert advice not in recommend_stage(records, "train", 0.01).limits


def test_no_advice_when_pruning_was_light_or_cost_the_metric() -> None:
    light = [record(0, 0.0, 0.90, 10_000), record(1, 0.2, 0.90, 7_000)]
    assert lighter_model_advice(light, light[0], 0.01) is None
    costly = [record(0, 0.0, 0.90, 10_000), record(1, 0.5, 0.85, 2_600)]
    assert lighter_model_advice(costly, costly[0], 0.01) is None
    assert not any("larger than" in item for item in recommend_stage(costly, "deploy", 0.01).limits)
