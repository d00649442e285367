"""Where the task's batch augmentation runs: in the loader, or on the accelerator.

``Task.batch_augment`` is written with torch operations, so it runs where its batch is: in
the DataLoader (its workers, on the CPU), or after the batch is copied to the device, where
a GPU does in microseconds what keeps CPU workers busy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from autoaccel.knobs._knob import Knob
from autoaccel.knobs._loader import own_batches_refusal

if TYPE_CHECKING:
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile

AugmentOn = Literal["loader", "device"]


class AugmentOnKnob(Knob):
    """``loader``: the batch augmentation runs as the loader collates the batch;
    ``device``: on the batch once it is on the training device, before the forward pass."""

    name = "augment_on"
    values = AugmentOn
    field = Field(default="loader")
    stages = ("train",)

    def refusal(
        self, value: str, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value == "loader" or facts is None:
            return None
        if facts.own_batches:
            return own_batches_refusal(self.name)
        if not facts.batch_augment:
            return no_batch_augment()
        return None


KNOB = AugmentOnKnob()


def no_batch_augment() -> str:
    return (
        "augment_on=device moves Task.batch_augment to the device, and this task has none: "
        "give the random augmentation as batch_augment(batch), written with torch operations"
    )


class AugmentedSamples:
    """``dataset`` with ``augment`` applied to every sample as it is read."""

    def __init__(self, dataset: Any, augment: Any) -> None:
        self.dataset = dataset
        self.augment = augment

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        return self.augment(self.dataset[index])


class AugmentedCollate:
    """``collate`` then ``augment``: the loader's collate_fn (picklable, for spawned
    workers)."""

    def __init__(self, collate: Any, augment: Any) -> None:
        self.collate = collate
        self.augment = augment

    def __call__(self, samples: list[Any]) -> Any:
        return self.augment(self.collate(samples))
