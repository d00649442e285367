"""channels_last memory format, for models with 4-D convolutions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from autoaccel.knobs._knob import Knob
from autoaccel.knobs._steps import InputStep, ModelStep

if TYPE_CHECKING:
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile


class ChannelsLast(Knob):
    """The memory format of the model's 4-D weights and of every 4-D input batch, set when
    the model is placed and as each batch arrives."""

    name = "channels_last"
    values = bool
    field = Field(default=False)
    stages = ("train", "deploy")

    def refusal(
        self, value: bool, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value and facts is not None and not facts.has_conv2d:
            return "channels_last only changes models with 2-D convolutions (4-D tensors)"
        return None


KNOB = ChannelsLast()


def apply_to_model(model: Any, enabled: bool) -> Any:
    import torch

    return model.to(memory_format=torch.channels_last) if enabled else model


def apply_to_inputs(inputs: Any, enabled: bool) -> Any:
    """Convert every 4-D floating-point tensor in ``inputs`` (tensor, tuple or dict)."""
    if not enabled:
        return inputs
    import torch

    def convert(value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.dim() == 4 and value.is_floating_point():
            return value.contiguous(memory_format=torch.channels_last)
        return value

    if isinstance(inputs, dict):
        return {key: convert(value) for key, value in inputs.items()}
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(convert(value) for value in inputs)
    return convert(inputs)


CHANNELS_LAST = ModelStep(
    "channels_last",
    lambda model, config, placement: apply_to_model(model, config.channels_last),
    lambda config: (
        ["model = knobs.channels_last.apply_to_model(model, True)"] if config.channels_last else []
    ),
)
CHANNELS_LAST_INPUTS = InputStep(
    "channels_last_inputs",
    lambda inputs, config: apply_to_inputs(inputs, config.channels_last),
    lambda config: (
        ["inputs = knobs.channels_last.apply_to_inputs(inputs, True)"]
        if config.channels_last
        else []
    ),
)
