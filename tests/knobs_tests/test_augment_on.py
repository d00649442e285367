"""augment_on: the task's batch augmentation in the loader, or on the batch once it is on
the training device; and the Task fields that declare the sample pipeline's two parts."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from fakes import cpu_host, task_facts

from autoaccel import knobs
from autoaccel.engine import TrainingRun
from autoaccel.errors import ConfigError, TaskError
from autoaccel.knobs import Config

CPU = torch.device("cpu")


def augmented_run(tiny, monkeypatch, augment_on: str) -> tuple[list[bool], int]:
    """Train one step; for each batch augmentation, whether its tensors were ones the
    engine's copy to the device returned."""
    from autoaccel.engine import _loop

    moved: set[int] = set()
    copy = _loop.to_device

    def to_device(value, device, non_blocking=False):
        result = copy(value, device, non_blocking)
        moved.update(id(x) for x in (result if isinstance(result, (tuple, list)) else [result]))
        return result

    monkeypatch.setattr(_loop, "to_device", to_device)
    seen: list[bool] = []

    def batch_augment(batch):
        seen.append(id(batch[0]) in moved)
        return batch[0] * 0 + 1, batch[1]

    task = dataclasses.replace(tiny, batch_augment=batch_augment)
    config = Config(batch_size=16, augment_on=augment_on)
    run = TrainingRun(task, config, CPU, seed=0, epochs=1)
    inputs_seen = []
    run.step_model.register_forward_pre_hook(lambda _, args: inputs_seen.append(args[0]))
    run.step(next(run.batches(1)))
    assert torch.equal(inputs_seen[0], torch.ones(16, 8))  # the augmented batch was trained on
    return seen, len(inputs_seen)


def test_on_the_device_the_augmentation_gets_the_copied_batch(tiny, monkeypatch) -> None:
    seen, steps = augmented_run(tiny, monkeypatch, "device")
    assert seen == [True] and steps == 1


def test_in_the_loader_the_augmentation_runs_before_the_copy(tiny, monkeypatch) -> None:
    seen, _ = augmented_run(tiny, monkeypatch, "loader")
    assert seen == [False]


def test_evaluation_is_not_augmented(tiny) -> None:
    task = dataclasses.replace(tiny, batch_augment=lambda b: (b[0] * 0, b[1]))
    run = TrainingRun(task, Config(batch_size=16, augment_on="device"), CPU, seed=0, epochs=1)
    plain = TrainingRun(tiny, Config(batch_size=16), CPU, seed=0, epochs=1)
    assert run.evaluate() == plain.evaluate()


@pytest.mark.gpu
def test_on_a_gpu_the_augmentation_gets_cuda_tensors(tiny) -> None:
    devices = []

    def batch_augment(batch):
        devices.append(batch[0].device.type)
        return batch

    task = dataclasses.replace(tiny, batch_augment=batch_augment)
    cuda = torch.device("cuda")
    run = TrainingRun(task, Config(batch_size=16, augment_on="device"), cuda, seed=0, epochs=1)
    run.step(next(run.batches(1)))
    assert devices == ["cuda"]


def test_a_task_without_batch_augment_cannot_augment_on_the_device(tiny) -> None:
    with pytest.raises(ConfigError, match="this task has none"):
        TrainingRun(tiny, Config(batch_size=16, augment_on="device"), CPU, seed=0, epochs=1)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (task_facts(batch_augment=True), None),
        (None, None),
        (task_facts(), "this task has none"),
        (task_facts(batch_augment=True, own_batches=True), "makes its own batches"),
    ],
)
def test_refusals(facts, expected) -> None:
    assert knobs.choice_refusal("augment_on", "loader", cpu_host(), facts) is None
    reason = knobs.choice_refusal("augment_on", "device", cpu_host(), facts)
    assert reason is None if expected is None else expected in reason


@pytest.mark.parametrize("field", ["sample_augment", "batch_augment"])
def test_augmentations_must_be_callable(tiny, field) -> None:
    with pytest.raises(TaskError, match=f"Task.{field} must be callable or None"):
        dataclasses.replace(tiny, **{field: "flip"})


def test_augmentations_need_the_batches_autoaccel_makes(tiny) -> None:
    with pytest.raises(TaskError, match="augment in train_batches instead"):
        dataclasses.replace(
            tiny, train_data=None, train_batches=lambda size: [], batch_augment=lambda b: b
        )


def test_the_inspection_records_the_declared_pipeline(tasks_dir) -> None:
    from autoaccel.engine import inspect_task
    from autoaccel.task import load_task, resolve_script

    target = resolve_script(str(tasks_dir / "tiny.py"))
    task = dataclasses.replace(load_task(target), batch_augment=lambda b: b)
    facts = inspect_task(task, target)
    assert (facts.deterministic_data, facts.batch_augment) == (True, True)
    assert facts.sample_bytes == 8 * 4 + 8  # 8 float32 features and an int64 label
    plain = inspect_task(load_task(target), target)
    assert (plain.deterministic_data, plain.batch_augment) == (False, False)
