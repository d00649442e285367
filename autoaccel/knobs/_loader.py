"""DataLoader knobs: workers, pinned memory, persistent workers, prefetch depth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from autoaccel.knobs._knob import Knob

if TYPE_CHECKING:
    from autoaccel.knobs._config import Config
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile

# Deploy feeds the model batches already on the device (a served model receives its
# inputs), so these are train-stage knobs. All are applied when the loader is built, so none
# applies to a task that makes its own batches (Task.train_batches).


class NumWorkers(Knob):
    """Worker processes that read and collate batches beside the training loop."""

    name = "num_workers"
    values = int
    field = Field(default=0, ge=0, le=256)
    stages = ("train",)

    def refusal(
        self, value: int, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value and facts is not None and facts.own_batches:
            return own_batches_refusal(self.name)
        if value > hw.usable_cores:
            return (
                f"num_workers={value} is more than the {hw.usable_cores} cores this process may use"
            )
        return None


class PinMemory(Knob):
    """Batches in page-locked memory, copied to the GPU without blocking the loop."""

    name = "pin_memory"
    values = bool
    field = Field(default=False)
    stages = ("train",)

    def refusal(
        self, value: bool, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value and facts is not None and facts.own_batches:
            return own_batches_refusal(self.name)
        if value and hw.device != "cuda":
            return "pin_memory only helps copies to a CUDA GPU"
        return None


class PersistentWorkers(Knob):
    """Workers kept alive between epochs instead of started again for each."""

    name = "persistent_workers"
    values = bool
    field = Field(default=False)
    stages = ("train",)
    needs = "num_workers"

    def refusal(
        self, value: bool, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        return None


class PrefetchFactor(Knob):
    """Batches each worker prepares ahead; None keeps DataLoader's own default."""

    name = "prefetch_factor"
    values = int | None
    field = Field(default=None, ge=1, le=64)
    stages = ("train",)
    needs = "num_workers"

    def refusal(
        self, value: int | None, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        return None


def own_batches_refusal(name: str) -> str:
    return (
        f"{name} sets up the DataLoader autoaccel builds over Task.train_data; this task "
        "makes its own batches (Task.train_batches)"
    )


def own_batches_refusals(config: Config) -> list[str]:
    """Why ``config`` cannot train a task that makes its own batches: the knobs it sets that
    act on the DataLoader over train_data. (``persistent_workers`` and ``prefetch_factor``
    need workers, refused first.)"""
    fields = type(config).model_fields
    return [
        own_batches_refusal(name)
        for name in ("num_workers", "pin_memory", "cache", "augment_on")
        if getattr(config, name) != fields[name].default
    ]


NUM_WORKERS = NumWorkers()
PIN_MEMORY = PinMemory()
PERSISTENT_WORKERS = PersistentWorkers()
PREFETCH_FACTOR = PrefetchFactor()


def build(
    dataset: Any,
    config: Config,
    *,
    shuffle: bool,
    seed: int,
    collate_fn: Any = None,
    drop_last: bool = False,
    sampler: Any = None,
) -> Any:
    """A DataLoader that applies the batch size and every loader knob of ``config``, seeded.

    ``sampler`` (a rank's shard) picks the samples instead of ``shuffle``."""
    import torch
    from torch.utils.data import DataLoader

    generator = torch.Generator()
    generator.manual_seed(seed)
    extra: dict[str, Any] = {}
    if config.num_workers > 0:
        extra["persistent_workers"] = config.persistent_workers
        if config.prefetch_factor is not None:
            extra["prefetch_factor"] = config.prefetch_factor
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=shuffle and sampler is None,
        sampler=sampler,
        num_workers=config.num_workers,
        pin_memory=config.pin_memory,
        drop_last=drop_last,
        collate_fn=collate_fn,
        generator=generator,
        worker_init_fn=_seed_worker,
        **extra,
    )


def _seed_worker(worker_id: int) -> None:
    # Augmentations in user datasets often use `random` or numpy: give each worker its own
    # deterministic stream derived from torch's per-worker seed.
    import random

    import torch

    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:
        pass
