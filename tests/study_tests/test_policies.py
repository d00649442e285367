"""The tuner's policies, each a pure function of the stored trial records."""

from __future__ import annotations

import pytest
from fakes import measurement

from autoaccel.knobs import Config
from autoaccel.recommend import TrialRecord, recommend_stage
from autoaccel.study._deploy_weights import weights_choice
from autoaccel.study._floor import PRUNE_BELOW, throughput_floor
from autoaccel.study._oom_bound import out_of_memory_at
from autoaccel.study._repeats import earlier_trial


def ok(number: int, config: Config, throughput: float, metric: float = 0.9, **attrs) -> TrialRecord:
    return TrialRecord(
        number=number,
        config=config,
        outcome="ok",
        measurement=measurement("train", throughput, metric),
        **attrs,
    )


def failed(number: int, config: Config, outcome: str) -> TrialRecord:
    return TrialRecord(number=number, config=config, outcome=outcome, reason=outcome)


BASELINE = Config(batch_size=64)


def test_a_repeat_finds_the_first_trial_of_the_same_stage_knobs() -> None:
    records = [
        ok(0, BASELINE, 1000.0, role="baseline"),
        ok(1, Config(batch_size=128), 1800.0),
        ok(2, Config(batch_size=128), 1800.0, repeat_of=1),
    ]
    assert earlier_trial(records, Config(batch_size=128), "train") == records[1]
    assert earlier_trial(records, Config(batch_size=256), "train") is None


def test_a_repeat_ignores_knobs_of_the_other_stage() -> None:
    records = [ok(0, BASELINE, 1000.0)]
    pruned = Config(batch_size=64, pruning_ratio=0.5)
    assert earlier_trial(records, pruned, "train") == records[0]
    assert earlier_trial(records, pruned, "deploy") is None


def test_an_interrupted_trial_is_no_earlier_result() -> None:
    records = [failed(0, BASELINE, "interrupted")]
    assert earlier_trial(records, BASELINE, "train") is None


def test_out_of_memory_bounds_larger_batches_in_the_same_precision() -> None:
    records = [ok(0, BASELINE, 1000.0), failed(1, Config(batch_size=256), "oom")]
    assert out_of_memory_at(records, Config(batch_size=512), "train") == records[1]
    assert out_of_memory_at(records, Config(batch_size=256), "train") == records[1]
    assert out_of_memory_at(records, Config(batch_size=128), "train") is None
    assert out_of_memory_at(records, Config(batch_size=512, precision="bf16"), "train") is None


def test_other_failures_bound_nothing() -> None:
    records = [failed(0, Config(batch_size=256), "crash")]
    assert out_of_memory_at(records, Config(batch_size=512), "train") is None


def test_floor_is_a_share_of_the_best_feasible_throughput() -> None:
    records = [
        ok(0, BASELINE, 1000.0, role="baseline"),
        ok(1, Config(batch_size=128), 3000.0),
        ok(2, Config(batch_size=512), 9000.0, metric=0.5),  # its metric fell: infeasible
    ]
    assert throughput_floor(records, 0.01) == pytest.approx(3000.0 * PRUNE_BELOW)


def test_no_floor_before_the_baseline_finished() -> None:
    assert throughput_floor([], 0.01) is None
    assert throughput_floor([failed(0, BASELINE, "crash")], 0.01) is None


def test_deploy_weights_train_with_the_train_recommendation() -> None:
    records = [ok(0, BASELINE, 1000.0, role="baseline"), ok(1, Config(batch_size=128), 3000.0)]
    choice = weights_choice(recommend_stage(records, "train", 0.01), BASELINE)
    assert choice.config == Config(batch_size=128)
    assert choice.source == "the train stage's recommendation"


def test_deploy_weights_train_with_the_baseline_without_a_train_stage() -> None:
    choice = weights_choice(None, BASELINE)
    assert choice.config == BASELINE and choice.source == "the baseline"


def test_the_weights_key_follows_config_script_and_seed() -> None:
    choice = weights_choice(None, BASELINE)
    key = choice.key("abc", 0)
    assert key == weights_choice(None, BASELINE).key("abc", 0)
    assert len({key, choice.key("def", 0), choice.key("abc", 1)}) == 3
    assert weights_choice(None, Config(batch_size=32)).key("abc", 0) != key
