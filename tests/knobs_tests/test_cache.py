"""cache=memory: the deterministic part of each sample computed once, in shared memory
every loader worker reads; refused where the task did not declare it deterministic or the
samples would not fit."""

from __future__ import annotations

import dataclasses
import multiprocessing

import pytest
import torch
from fakes import cpu_host, task_facts

from autoaccel import knobs
from autoaccel.engine import TrainingRun
from autoaccel.errors import ConfigError, TaskError
from autoaccel.knobs import Config

CPU = torch.device("cpu")


class CountedDecode(torch.utils.data.Dataset):
    """Decodes (here: computes) a sample on every read, and counts reads in shared memory,
    so reads in loader workers count too."""

    def __init__(self, samples: int = 64) -> None:
        self.samples = samples
        self.reads = multiprocessing.get_context("fork").Value("i", 0)

    def __len__(self) -> int:
        return self.samples

    def __getitem__(self, index):
        with self.reads.get_lock():
            self.reads.value += 1
        return torch.full((3, 4, 4), float(index)), index % 2


def decoding_task(tiny, **changes):
    model = lambda: torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 2))  # noqa: E731
    return dataclasses.replace(
        tiny, model=model, train_data=CountedDecode(), sample_augment=lambda s: s, **changes
    )


def two_epochs(task, **knob_values) -> int:
    run = TrainingRun(task, Config(batch_size=16, **knob_values), CPU, seed=0, epochs=2)
    for batch in run.batches(run.total_steps):
        run.step(batch)
    return task.train_data.reads.value


@pytest.mark.parametrize("workers", [0, 2])
def test_the_second_epoch_reads_the_cache_not_the_dataset(tiny, workers) -> None:
    assert two_epochs(decoding_task(tiny), num_workers=workers) == 128
    # Workers of the second epoch are new processes: they see what the first epoch's wrote.
    assert two_epochs(decoding_task(tiny), num_workers=workers, cache="memory") == 64


def test_cached_samples_are_the_samples_and_augmentation_cannot_change_them() -> None:
    cached = knobs.cache.CachedSamples(CountedDecode(8))
    first = cached[3]
    again = cached[3]
    again[0].add_(100)  # an augmentation working in place
    image, label = cached[3]
    torch.testing.assert_close(image, torch.full((3, 4, 4), 3.0))
    assert (label, type(label)) == (1, int) and isinstance(first, tuple)


def test_samples_of_other_shapes_are_an_error() -> None:
    data = [(torch.zeros(2), 0), (torch.zeros(3), 1)]
    cached = knobs.cache.CachedSamples(data)
    with pytest.raises(TaskError, match=r"train_data\[1\] is not"):
        cached[1]


def test_a_task_that_did_not_declare_its_data_deterministic_cannot_cache(tiny) -> None:
    with pytest.raises(ConfigError, match="Task.sample_augment or Task.batch_augment"):
        TrainingRun(tiny, Config(batch_size=16, cache="memory"), CPU, seed=0, epochs=1)


def test_sample_bytes() -> None:
    assert knobs.cache.sample_bytes((torch.zeros(3, 4, 4), 1)) == 48 * 4 + 8
    assert knobs.cache.sample_bytes({"text": "a", "label": 1}) is None


DECLARED = task_facts(deterministic_data=True, sample_bytes=1000, train_samples=1000)


@pytest.mark.parametrize(
    ("facts", "free", "expected"),
    [
        (DECLARED, 10**7, None),
        (None, 10**7, None),
        (DECLARED, 10**6, "would hold 0.0 GiB of samples, more than half"),
        (DECLARED.model_copy(update={"deterministic_data": False}), 10**7, "sample_augment"),
        (DECLARED.model_copy(update={"own_batches": True}), 10**7, "makes its own batches"),
        (DECLARED.model_copy(update={"sample_bytes": None}), 10**7, "tensors and numbers"),
    ],
)
def test_refusals(facts, free, expected) -> None:
    host = cpu_host()
    hw = host.model_copy(
        update={"cpu": host.cpu.model_copy(update={"memory_available_bytes": free})}
    )
    assert knobs.choice_refusal("cache", "none", hw, facts) is None
    reason = knobs.choice_refusal("cache", "memory", hw, facts)
    assert reason is None if expected is None else expected in reason
