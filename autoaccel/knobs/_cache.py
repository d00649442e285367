"""Caching the deterministic part of each training sample in shared memory.

A task that declares its sample pipeline in two parts (``Task.train_data`` deterministic:
decode, resize, to tensor; the random augmentation in ``Task.sample_augment`` or
``Task.batch_augment``) decodes each sample once: later epochs read it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from autoaccel.errors import TaskError
from autoaccel.knobs._knob import Knob
from autoaccel.knobs._loader import own_batches_refusal

if TYPE_CHECKING:
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile

Cache = Literal["none", "memory"]
# The cache shares the machine with the model, the loader's batches and the workers.
MEMORY_SHARE = 0.5


class CacheKnob(Knob):
    """``Task.train_data[i]`` kept in shared memory the first time any loader worker reads
    it; later epochs take it from there (a copy, so augmentation cannot change it)."""

    name = "cache"
    values = Cache
    field = Field(default="none")
    stages = ("train",)

    def refusal(
        self, value: str, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value == "none" or facts is None:
            return None
        if facts.own_batches:
            return own_batches_refusal(self.name)
        if not facts.deterministic_data:
            return undeclared()
        if facts.sample_bytes is None:
            return "cache=memory keeps samples made of tensors and numbers; this task's are not"
        size = facts.sample_bytes * facts.train_samples
        free = hw.cpu.memory_available_bytes
        if free is not None and size > free * MEMORY_SHARE:
            return (
                f"cache=memory would hold {size / 2**30:.1f} GiB of samples, more than half "
                f"the {free / 2**30:.1f} GiB of free memory the probe saw"
            )
        return None


KNOB = CacheKnob()


def undeclared() -> str:
    return (
        "cache=memory keeps Task.train_data[i] from one epoch to the next, right only when "
        "it is the same every time: move the random augmentation to Task.sample_augment or "
        "Task.batch_augment to declare that train_data is deterministic"
    )


def sample_bytes(sample: Any) -> int | None:
    """Bytes one sample takes in the cache; None when it holds what the cache cannot keep."""
    try:
        leaves, _ = _flatten(sample)
    except TaskError:
        return None
    return sum(leaf.numel() * leaf.element_size() for leaf in leaves)


class CachedSamples:
    """``dataset`` read through a shared-memory cache, filled as samples are first read.

    Every sample has the structure and shapes of the first (a tuple, list or dict of
    tensors and numbers), so the cache is one preallocated tensor per part; DataLoader
    workers, forked or spawned, write and read the same memory.
    """

    def __init__(self, dataset: Any) -> None:
        import torch

        self.dataset = dataset
        first = dataset[0]
        leaves, self._structure = _flatten(first)
        count = len(dataset)
        self._parts = [
            torch.empty((count, *leaf.shape), dtype=leaf.dtype).share_memory_() for leaf in leaves
        ]
        self._filled = torch.zeros(count, dtype=torch.bool).share_memory_()
        self._keep(0, leaves)

    def __len__(self) -> int:
        return len(self._filled)

    def __getitem__(self, index: int) -> Any:
        index = int(index)
        if self._filled[index]:
            return _unflatten(self._structure, [part[index].clone() for part in self._parts])
        sample = self.dataset[index]
        leaves, structure = _flatten(sample)
        if structure != self._structure or any(
            leaf.shape != part.shape[1:] for leaf, part in zip(leaves, self._parts, strict=True)
        ):
            raise TaskError(
                f"cache=memory needs every sample shaped as the first: train_data[{index}] "
                f"is not. Resize in train_data, or leave the cache off."
            )
        self._keep(index, leaves)
        return sample

    def _keep(self, index: int, leaves: list[Any]) -> None:
        for part, leaf in zip(self._parts, leaves, strict=True):
            part[index] = leaf
        self._filled[index] = True  # last: a reader never sees a half-written sample


def _flatten(sample: Any) -> tuple[list[Any], Any]:
    """The tensors of ``sample`` (numbers as 0-d tensors) and its structure, to rebuild it."""
    import torch

    if isinstance(sample, torch.Tensor):
        return [sample.detach()], "tensor"
    if isinstance(sample, (bool, int, float)):
        return [torch.tensor(sample)], type(sample).__name__
    if isinstance(sample, (tuple, list)):
        parts = [_flatten(item) for item in sample]
        return [x for leaves, _ in parts for x in leaves], (
            type(sample).__name__,
            tuple(structure for _, structure in parts),
        )
    if isinstance(sample, dict):
        parts = [_flatten(item) for item in sample.values()]
        return [x for leaves, _ in parts for x in leaves], (
            "dict",
            tuple(sample),
            tuple(structure for _, structure in parts),
        )
    raise TaskError(
        f"cache=memory keeps tensors and numbers (in tuples, lists and dicts); a training "
        f"sample holds a {type(sample).__name__}. Leave the cache off for this task."
    )


def _unflatten(structure: Any, leaves: list[Any]) -> Any:
    return _build(structure, iter(leaves))


def _build(structure: Any, leaves: Any) -> Any:
    if structure == "tensor":
        return next(leaves)
    if structure in ("bool", "int", "float"):
        return next(leaves).item()
    if structure[0] == "dict":
        _, keys, parts = structure
        return {key: _build(part, leaves) for key, part in zip(keys, parts, strict=True)}
    kind, parts = structure
    items = [_build(part, leaves) for part in parts]
    return tuple(items) if kind == "tuple" else items
