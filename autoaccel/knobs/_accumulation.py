"""Gradient accumulation: several micro-batches per optimizer step.

The effective batch (``batch_size * accumulation_steps``) is what the optimizer sees, so a
smaller micro-batch at the same effective batch takes the same optimizer steps and learns
the same thing, in less memory; the learning-rate rule follows the effective batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from autoaccel.knobs._knob import Knob

if TYPE_CHECKING:
    from autoaccel.knobs._config import Config
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile


class AccumulationSteps(Knob):
    """Micro-batches whose gradients add up before each optimizer step (the loss of each
    divided by their number); clipping, loss scaling and the scheduler act once per
    optimizer step."""

    name = "accumulation_steps"
    values = int
    field = Field(default=1, ge=1, le=1024)
    stages = ("train",)

    def refusal(
        self, value: int, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        # Too many for the data is a matter of the batch size too: the engine says so.
        return None


KNOB = AccumulationSteps()


def effective_batch(config: Config) -> int:
    """Samples behind each optimizer step."""
    return config.batch_size * config.accumulation_steps
