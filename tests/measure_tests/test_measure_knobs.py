"""Every knob applied for real on small tasks, measured in this process (fast)."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from autoaccel.engine import Diverged
from autoaccel.knobs import Config
from autoaccel.measure import measure_deploy, measure_train

FAST = 0.01  # seconds per timed window: enough to exercise the timing, not to trust it


@pytest.fixture(scope="module")
def trained(tiny, tmp_path_factory, cpu_profile):
    weights = tmp_path_factory.mktemp("weights") / "tiny.pt"
    measure_train(tiny, Config(batch_size=16), cpu_profile, save_weights=weights)
    return weights


def check_train(measurement, config: Config) -> None:
    assert measurement.stage == "train"
    assert measurement.throughput.rate > 0
    assert 0.0 <= measurement.metric <= 1.0
    assert measurement.timed_steps > 0
    assert measurement.flops_per_sample and measurement.flops_per_sample > 0
    assert measurement.peak_memory_bytes and measurement.memory_kind == "process_rss"
    assert math.isfinite(measurement.final_loss)


@pytest.mark.parametrize(
    "config",
    [
        Config(batch_size=16),
        Config(batch_size=64),
        Config(batch_size=16, precision="bf16"),
        Config(batch_size=16, num_workers=2),
        Config(batch_size=16, num_workers=1, persistent_workers=True, prefetch_factor=4),
    ],
    ids=["baseline", "batch64", "bf16", "workers", "persistent-prefetch"],
)
def test_train_knobs_on_mlp(tiny, cpu_profile, config) -> None:
    check_train(measure_train(tiny, config, cpu_profile), config)


def test_learning_is_real(tiny, cpu_profile) -> None:
    # The tiny task is learnable: training beats chance (0.5) clearly.
    longer = dataclasses.replace(tiny, epochs=3)
    assert measure_train(longer, Config(batch_size=16), cpu_profile).metric > 0.8


def test_same_seed_same_metric(tiny, cpu_profile) -> None:
    first = measure_train(tiny, Config(batch_size=16), cpu_profile, seed=3)
    second = measure_train(tiny, Config(batch_size=16), cpu_profile, seed=3)
    assert first.metric == second.metric
    assert first.final_loss == second.final_loss


def test_channels_last_on_a_cnn(conv, cpu_profile) -> None:
    config = Config(batch_size=16, channels_last=True)
    check_train(measure_train(conv, config, cpu_profile), config)


@pytest.mark.slow
def test_compile_default_trains(tiny, cpu_profile) -> None:
    measurement = measure_train(tiny, Config(batch_size=16, compile="default"), cpu_profile)
    check_train(measurement, Config())
    # The first step pays for compilation; later steps are far faster.
    assert measurement.first_step_s > 10 * (1 / measurement.throughput.rate) * 16


def test_nan_loss_is_diverged(tiny, cpu_profile) -> None:
    broken = dataclasses.replace(
        tiny, loss=lambda out, y: torch.nn.functional.cross_entropy(out, y) * float("nan")
    )
    with pytest.raises(Diverged, match="the training loss during warm-up became nan"):
        measure_train(broken, Config(batch_size=16), cpu_profile)


def test_too_short_a_budget_is_noted(tiny, cpu_profile) -> None:
    short = dataclasses.replace(tiny, epochs=0.1)
    measurement = measure_train(short, Config(batch_size=64), cpu_profile)
    assert any("too few to time" in note for note in measurement.notes)
    assert measurement.throughput.rate > 0


@pytest.mark.parametrize(
    "config",
    [
        Config(batch_size=32),
        Config(batch_size=32, quantization="int8_dynamic_torch_ao"),
        Config(batch_size=32, quantization="int8_dynamic_torchao"),
        Config(batch_size=32, quantization="int8_weight_only_torchao"),
        Config(batch_size=32, precision="bf16"),
    ],
    ids=["fp32", "torch-ao-int8", "torchao-int8", "torchao-weight-only", "bf16"],
)
def test_deploy_knobs(tiny, trained, cpu_profile, config) -> None:
    m = measure_deploy(tiny, config, cpu_profile, trained, window_s=FAST)
    assert m.stage == "deploy" and m.throughput.rate > 0 and len(m.throughput.windows) == 7
    assert 0.0 <= m.metric <= 1.0


def test_quantized_model_keeps_its_accuracy(tiny, trained, cpu_profile) -> None:
    plain = measure_deploy(tiny, Config(batch_size=32), cpu_profile, trained, window_s=FAST)
    quantized = measure_deploy(
        tiny,
        Config(batch_size=32, quantization="int8_dynamic_torch_ao"),
        cpu_profile,
        trained,
        window_s=FAST,
    )
    assert abs(plain.metric - quantized.metric) < 0.05


def test_pruning_removes_parameters_and_finetunes(tiny, trained, cpu_profile) -> None:
    plain = measure_deploy(tiny, Config(batch_size=32), cpu_profile, trained, window_s=FAST)
    pruned = measure_deploy(
        tiny, Config(batch_size=32, pruning_ratio=0.5), cpu_profile, trained, window_s=FAST
    )
    assert pruned.parameters < 0.7 * plain.parameters
    assert pruned.finetune_s is not None and pruned.finetune_s > 0


def test_deploy_channels_last_on_a_cnn(conv, cpu_profile, tmp_path) -> None:
    weights = tmp_path / "conv.pt"
    measure_train(conv, Config(batch_size=16), cpu_profile, save_weights=weights)
    m = measure_deploy(
        conv, Config(batch_size=16, channels_last=True), cpu_profile, weights, window_s=FAST
    )
    assert m.throughput.rate > 0


def test_a_trial_under_the_floor_stops_early(tiny, cpu_profile) -> None:
    from autoaccel.engine import TooSlow

    longer = dataclasses.replace(tiny, epochs=3)
    with pytest.raises(TooSlow, match="samples/s after 2 timed windows, under the"):
        measure_train(longer, Config(batch_size=16), cpu_profile, min_throughput=1e12)
    # A floor it clears changes nothing.
    assert measure_train(tiny, Config(batch_size=16), cpu_profile, min_throughput=1.0).metric


def test_deploy_under_the_floor_stops_early(tiny, trained, cpu_profile) -> None:
    from autoaccel.engine import TooSlow

    with pytest.raises(TooSlow):
        measure_deploy(
            tiny, Config(batch_size=32), cpu_profile, trained, window_s=FAST, min_throughput=1e12
        )
