"""DataLoader knobs: workers, pinned memory, persistent workers, prefetch depth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autoaccel.knobs._config import Config
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.probe import HardwareProfile

NAMES = ("num_workers", "pin_memory", "persistent_workers", "prefetch_factor")


def refusal(
    name: str,
    value: Any,
    hw: HardwareProfile,
    facts: TaskFacts | None = None,
    stage: str = "train",
) -> str | None:
    """Why loader knob ``name`` cannot take ``value`` on ``hw``, or None."""
    if name == "num_workers" and value > hw.usable_cores:
        return f"num_workers={value} is more than the {hw.usable_cores} cores this process may use"
    if name == "pin_memory" and value and hw.device != "cuda":
        return "pin_memory only helps copies to a CUDA GPU"
    return None


def build(
    dataset: Any,
    config: Config,
    *,
    shuffle: bool,
    seed: int,
    collate_fn: Any = None,
    drop_last: bool = False,
) -> Any:
    """A DataLoader that applies the batch size and every loader knob of ``config``, seeded."""
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
        shuffle=shuffle,
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
