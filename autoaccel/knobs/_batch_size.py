"""Batch size, and how the learning rate follows it.

Changing the batch size without touching the learning rate changes what training learns;
the task chooses the rule (``Task.lr_scaling``), relative to its baseline batch size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import Field

from autoaccel.knobs._knob import Knob

if TYPE_CHECKING:
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile

LR_SCALING_RULES = ("none", "linear", "sqrt")
MIN_STEPS = 12  # fewer steps in the training budget leave nothing to time after warm-up


class BatchSize(Knob):
    """Samples per step: the training loader's batches (learning rate scaled to follow) in
    the train stage, the batches served to the model in the deploy stage."""

    name = "batch_size"
    values = int
    field = Field(default=32, ge=1, le=1 << 20)
    stages = ("train", "deploy")

    def refusal(
        self, value: int, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if facts is None:
            return None
        if stage == "deploy":
            if value > facts.eval_samples:
                return f"batch_size={value} is larger than the {facts.eval_samples} eval samples"
            return None
        steps = int(facts.epochs * (facts.train_samples // value))
        if steps < MIN_STEPS:
            return (
                f"batch_size={value} leaves {steps} steps in the task's training budget, too "
                f"few to measure (at least {MIN_STEPS}); raise Task.epochs to try it"
            )
        return None


KNOB = BatchSize()


def lr_factor(batch_size: int, baseline_batch_size: int, rule: str) -> float:
    """The factor applied to every learning rate for ``batch_size``.

    ``linear`` (Goyal et al., for SGD) keeps the update per sample; ``sqrt`` (common for
    Adam-style optimizers) keeps the gradient noise scale.
    """
    ratio = batch_size / baseline_batch_size
    return {"none": 1.0, "linear": ratio, "sqrt": ratio**0.5}[rule]


def lr_rule(rule: str | None, baseline_batch_size: int, batch_sizes: Iterable[int]) -> str | None:
    """How the learning rate follows the batch sizes a search tries, in one sentence; None
    when it changes nothing. Said aloud because it changes what the user's optimizer does."""
    others = sorted(set(batch_sizes) - {baseline_batch_size})
    if rule not in ("linear", "sqrt") or not others:
        return None
    ratio = f"batch_size / {baseline_batch_size}"
    formula = ratio if rule == "linear" else f"sqrt({ratio})"
    largest = others[-1]
    factor = lr_factor(largest, baseline_batch_size, rule)
    return (
        f"the learning rate follows the batch size (Task.lr_scaling={rule!r}): every "
        f"learning rate is multiplied by {formula}, so batch_size={largest} trains at "
        f"{factor:.3g}x yours; Task.lr_scaling='none' keeps it as it is"
    )


def scale_learning_rate(optimizer: Any, factor: float) -> None:
    """Multiply the learning rate of every parameter group, in place."""
    if factor == 1.0:
        return
    for group in optimizer.param_groups:
        if "lr" in group:
            group["lr"] = group["lr"] * factor
            if "initial_lr" in group:
                group["initial_lr"] = group["initial_lr"] * factor
