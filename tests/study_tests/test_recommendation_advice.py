"""What still limits the recommendation: advice that fits the device it ran on."""

from __future__ import annotations

from fakes import measurement

from autoaccel.knobs import Config
from autoaccel.recommend import TrialRecord
from autoaccel.recommend._compute import limits


def record(number: int, **extra) -> TrialRecord:
    return TrialRecord(
        number=number,
        config=Config(batch_size=64),
        outcome="ok",
        measurement=measurement("train", 1000.0 * (number + 1), 0.9, **extra),
    )


def test_data_wait_advice_on_a_cpu_does_not_send_work_to_a_gpu() -> None:
    advice = limits(record(1, data_wait_share=0.6), record(0), largest_batch=None)
    (wait,) = [line for line in advice if "waits for data" in line]
    assert wait.startswith("60% of each step waits for data")
    assert "precompute the transforms" in wait
    assert "GPU" not in wait


def test_data_wait_advice_on_a_gpu() -> None:
    best = record(1, data_wait_share=0.6)
    on_gpu = best.measurement.model_copy(update={"memory_kind": "cuda_allocated"})
    best = best.model_copy(update={"measurement": on_gpu})
    advice = limits(best, record(0), largest_batch=None)
    assert any("move augmentation to the GPU" in line for line in advice)


def test_little_data_wait_gives_no_data_advice() -> None:
    advice = limits(record(1, data_wait_share=0.01), record(0), largest_batch=None)
    assert not any("waits for data" in line for line in advice)
