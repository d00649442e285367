"""The steps that prepare a model for a stage, and the code a user writes to repeat them.

Each stage has one :class:`StageSteps`; the measurement walks it, and so does the code that
reports print, so what is written is what was measured.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autoaccel.knobs._config import Config
    from autoaccel.knobs._knob import Knob


@dataclasses.dataclass(frozen=True)
class Placement:
    """What the model steps need from the stage running them.

    ``example_inputs`` (a batch to trace the model with) and ``finetune`` (train the model
    in place to recover its metric) are given by the deploy stage, whose pruning needs them.
    """

    device: Any
    training: bool
    example_inputs: Callable[[], Any] | None = None
    finetune: Callable[[Any], object] | None = None


@dataclasses.dataclass(frozen=True)
class ModelStep:
    """One change to the model: ``apply`` returns the changed model (often the same object).

    ``code`` gives the lines a user writes to serve the model the same way; none where
    ``config`` leaves the model as it is.
    """

    name: str
    apply: Callable[[Any, Config, Placement], Any]
    code: Callable[[Config], list[str]]


def knob_step(name: str, knob: Knob) -> ModelStep:
    """The step that calls ``knobs.<knob>.apply(model, value)`` with the configuration's
    value of ``knob``, for a knob whose ``apply`` leaves the model as it is at its default
    (the code says nothing then).

    The step finds ``apply`` by the name its code prints, when it runs: both call the same
    function, whatever has replaced it since (a test watching the calls).
    """

    def apply(model: Any, config: Config, placement: Placement) -> Any:
        from autoaccel import knobs

        return getattr(knobs, knob.name).apply(model, getattr(config, knob.name))

    def code(config: Config) -> list[str]:
        value = getattr(config, knob.name)
        if value == knob.field.default:
            return []
        return [f"model = knobs.{knob.name}.apply(model, {json.dumps(value)})"]

    return ModelStep(name, apply, code)


@dataclasses.dataclass(frozen=True)
class InputStep:
    """One change to every batch of inputs on the device; ``code`` as for a model step."""

    name: str
    apply: Callable[[Any, Config], Any]
    code: Callable[[Config], list[str]]


@dataclasses.dataclass(frozen=True)
class CallStep:
    """A context every forward pass runs inside; ``code`` gives its ``with`` lines."""

    name: str
    context: Callable[[Config, str], contextlib.AbstractContextManager[Any]]
    code: Callable[[Config], list[str]]


@dataclasses.dataclass(frozen=True)
class StageSteps:
    """How a stage prepares a model, in order.

    ``module`` steps give the module whose weights are trained, saved and counted; ``serve``
    steps then turn it into what the loop calls. Every batch goes through ``inputs`` once on
    the device, and every forward pass runs inside ``call``.
    """

    module: tuple[ModelStep, ...]
    serve: tuple[ModelStep, ...]
    inputs: tuple[InputStep, ...]
    call: CallStep

    def build_module(self, model: Any, config: Config, placement: Placement) -> Any:
        return _walk(self.module, model, config, placement)

    def build_served(self, module: Any, config: Config, placement: Placement) -> Any:
        return _walk(self.serve, module, config, placement)

    def prepare_inputs(self, inputs: Any, config: Config) -> Any:
        for step in self.inputs:
            inputs = step.apply(inputs, config)
        return inputs

    def around_call(
        self, config: Config, device_type: str
    ) -> contextlib.AbstractContextManager[Any]:
        return self.call.context(config, device_type)


def _walk(steps: tuple[ModelStep, ...], model: Any, config: Config, placement: Placement) -> Any:
    for step in steps:
        model = step.apply(model, config, placement)
    return model


def _place(model: Any, config: Config, placement: Placement) -> Any:
    return model.to(placement.device).train(placement.training)


PLACE = ModelStep(
    "place",
    _place,
    lambda config: ['model = model.to(device).eval()  # device: "cuda", "cpu", ...'],
)
