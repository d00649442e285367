"""The training batches of one run: a DataLoader over ``Task.train_data`` with every loader
knob applied, or the batches the task makes itself (``Task.train_batches``), grouped into
the micro-batches of each optimizer step under gradient accumulation."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from autoaccel import knobs
from autoaccel.engine._distributed import ShardedBatches, shard_sampler
from autoaccel.errors import ConfigError, TaskError
from autoaccel.knobs import Config
from autoaccel.task import Task


class TaskBatches:
    """The task's own batches for one batch size, iterated like a DataLoader: every pass
    calls ``train_batches(batch_size)`` again, and ``len`` is the batches in a pass."""

    def __init__(self, task: Task, batch_size: int) -> None:
        assert task.train_batches is not None
        self._make = task.train_batches
        self.batch_size = batch_size
        first = self._pass()
        # A generator has no length: count one pass of it.
        self._length = len(first) if hasattr(first, "__len__") else sum(1 for _ in first)
        if self._length == 0:
            raise TaskError(f"Task.train_batches({batch_size}) made no batches.")

    def _pass(self) -> Iterable[Any]:
        batches = self._make(self.batch_size)
        if not isinstance(batches, Iterable):
            raise TaskError(
                f"Task.train_batches({self.batch_size}) returned a {type(batches).__name__}, "
                "not an iterable of batches."
            )
        return batches

    def __iter__(self) -> Iterator[Any]:
        return iter(self._pass())

    def __len__(self) -> int:
        return self._length


class StepBatches:
    """Micro-batches grouped ``accumulation_steps`` at a time, one tuple per optimizer step;
    the micro-batches left over at the end of a pass are not trained on (as ``drop_last``
    leaves a ragged batch), so every step sees the same number of samples."""

    def __init__(self, micro_batches: Any, accumulation_steps: int) -> None:
        self.micro_batches = micro_batches
        self.accumulation_steps = accumulation_steps

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        micro = iter(self.micro_batches)
        while len(group := tuple(itertools.islice(micro, self.accumulation_steps))) == (
            self.accumulation_steps
        ):
            yield group

    def __len__(self) -> int:
        return len(self.micro_batches) // self.accumulation_steps


def training_batches(task: Task, config: Config, seed: int) -> tuple[Any, int]:
    """The batches to train on under ``config``, one item per optimizer step, and how many
    samples each step counts over every rank (``world_size`` ranks each step a batch of
    their own shard) and every micro-batch of it.

    A DataLoader keeps every step the same shape (``drop_last``: compiled graphs and CUDA
    graphs are not rebuilt for a ragged last batch, and step times compare), so each of its
    batches holds ``batch_size`` samples, or the whole shard when it is smaller.
    """
    micro, samples = _micro_batches(task, config, seed)
    steps = config.accumulation_steps
    if steps == 1:
        return micro, samples
    grouped = StepBatches(micro, steps)
    if not len(grouped):
        raise ConfigError(
            f"accumulation_steps={steps} needs {steps} batches per pass over the training "
            f"data, and batch_size={config.batch_size} makes {len(micro)}: lower one of them."
        )
    return grouped, samples * steps


def _micro_batches(task: Task, config: Config, seed: int) -> tuple[Any, int]:
    if task.train_batches is not None:
        refused = knobs.loader.own_batches_refusals(config)
        if config.world_size > 1:
            refused.append(knobs.world_size.own_batches_refusal(config.world_size))
        if refused:
            raise ConfigError(f"this configuration cannot train the task: {'; '.join(refused)}.")
        return TaskBatches(task, config.batch_size), config.batch_size
    sampler = None
    samples = len(task.train_data)
    data, collate = _augmented_data(task, config)
    if config.world_size > 1:
        sampler = shard_sampler(data, config.world_size, seed)
        samples = len(sampler)
    loader = knobs.loader.build(
        data,
        config,
        shuffle=True,
        seed=seed,
        collate_fn=collate,
        drop_last=samples >= config.batch_size,
        sampler=sampler,
    )
    if sampler is not None:
        loader = ShardedBatches(loader, sampler)
    return loader, min(config.batch_size, samples) * config.world_size


def _augmented_data(task: Task, config: Config) -> tuple[Any, Any]:
    """The training samples (cached when asked, then augmented) and the collate function
    (the batch augmentation after it, unless it runs on the device)."""
    data = task.train_data
    if config.cache == "memory":
        if not task.deterministic_data:
            raise ConfigError(
                f"this configuration cannot train the task: {knobs.cache.undeclared()}."
            )
        data = knobs.cache.CachedSamples(data)
    if task.sample_augment is not None:
        data = knobs.augment.AugmentedSamples(data, task.sample_augment)
    collate = task.collate_fn
    if config.augment_on == "device" and task.batch_augment is None:
        raise ConfigError(
            f"this configuration cannot train the task: {knobs.augment.no_batch_augment()}."
        )
    if task.batch_augment is not None and config.augment_on == "loader":
        from torch.utils.data import default_collate

        collate = knobs.augment.AugmentedCollate(collate or default_collate, task.batch_augment)
    return data, collate
