"""Structural channel pruning with torch-pruning: channels are removed, so it can run faster.

Unstructured masks leave the tensor shapes unchanged and are not offered: they save no time
on dense kernels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from autoaccel.knobs._knob import Knob
from autoaccel.knobs._steps import ModelStep, Placement

if TYPE_CHECKING:
    from autoaccel.knobs._config import Config
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile


class PruningRatio(Knob):
    """The share of channels removed from the trained model, first of the deploy steps,
    followed by a short fine-tune."""

    name = "pruning_ratio"
    values = float
    field = Field(default=0.0, ge=0.0, le=0.9)
    stages = ("deploy",)
    ranged = True

    def refusal(
        self, value: float, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value > 0 and not hw.software.torch_pruning:
            return "pruning needs the torch-pruning package (pip install torch-pruning)"
        return None


KNOB = PruningRatio()


def apply(model: Any, ratio: float, example_inputs: Any) -> Any:
    """Remove ``ratio`` of the channels of each prunable layer, by weight magnitude.

    The last layer to run keeps its outputs: they are the model's predictions. The model is
    changed in place and returned.
    """
    if ratio <= 0:
        return model
    import torch_pruning as tp

    pruner = tp.pruner.BasePruner(
        model,
        example_inputs,
        importance=tp.importance.MagnitudeImportance(p=2),
        pruning_ratio=ratio,
        ignored_layers=[_last_layer(model, example_inputs)],
    )
    pruner.step()
    return model


def _last_layer(model: Any, example_inputs: Any) -> Any:
    """The last Linear or Conv layer called in a forward pass (the output layer)."""
    import torch

    called: list[Any] = []
    hooks = [
        module.register_forward_hook(lambda mod, _in, _out: called.append(mod))
        for module in model.modules()
        if isinstance(module, (torch.nn.Linear, torch.nn.modules.conv._ConvNd))
    ]
    try:
        with torch.no_grad():
            if isinstance(example_inputs, dict):
                model(**example_inputs)
            elif isinstance(example_inputs, (tuple, list)):
                model(*example_inputs)
            else:
                model(example_inputs)
    finally:
        for hook in hooks:
            hook.remove()
    if not called:
        raise ValueError("the model has no Linear or Conv layer to prune")
    return called[-1]


def _prune_and_finetune(model: Any, config: Config, placement: Placement) -> Any:
    if config.pruning_ratio <= 0:
        return model
    assert placement.example_inputs is not None and placement.finetune is not None
    apply(model, config.pruning_ratio, placement.example_inputs())
    placement.finetune(model)
    return model


def _prune_code(config: Config) -> list[str]:
    if config.pruning_ratio <= 0:
        return []
    recover = "# ...then fine-tune briefly (Task.finetune_epochs) to recover the metric"
    if config.distill == "on":
        recover += (
            ", with loss = knobs.distill.loss(outputs, teacher(inputs), task_loss): "
            "teacher is a copy of the model taken before pruning"
        )
    return [f"knobs.pruning.apply(model, {config.pruning_ratio!r}, example_inputs)", recover]


PRUNE = ModelStep("prune", _prune_and_finetune, _prune_code)
