"""Acceleration knobs: one module per technique, each a :class:`Knob` saying which values
it takes and which the hardware can run (``refusal``), with the functions that apply it.
``KNOBS`` lists them all; ``TRAIN`` and ``DEPLOY`` are the steps each stage applies, in
order. Nothing here knows about Optuna.

Importing this package does not import torch; the apply functions import it when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The knob modules are public under their own names: knobs.compile.apply(model, mode).
from autoaccel.knobs import _accumulation as accumulation
from autoaccel.knobs import _augment as augment
from autoaccel.knobs import _backend as backend
from autoaccel.knobs import _batch_size as batch_size
from autoaccel.knobs import _cache as cache
from autoaccel.knobs import _channels_last as channels_last
from autoaccel.knobs import _compile as compile
from autoaccel.knobs import _distill as distill
from autoaccel.knobs import _loader as loader
from autoaccel.knobs import _optimizer_impl as optimizer_impl
from autoaccel.knobs import _precision as precision
from autoaccel.knobs import _pruning as pruning
from autoaccel.knobs import _quantization as quantization
from autoaccel.knobs import _world_size as world_size
from autoaccel.knobs._config import (
    DEPLOY_KNOBS,
    STAGE_KNOBS,
    TRAIN_KNOBS,
    Config,
    check_values,
    config_from_dict,
    read_json_argument,
    value_problem,
)
from autoaccel.knobs._facts import TaskFacts
from autoaccel.knobs._knob import Knob, Stage
from autoaccel.knobs._registry import DEPLOY, KNOBS, TRAIN
from autoaccel.knobs._steps import CallStep, InputStep, ModelStep, Placement, StageSteps

if TYPE_CHECKING:
    from autoaccel.probe import HardwareProfile

__all__ = [
    "DEPLOY",
    "DEPLOY_KNOBS",
    "KNOBS",
    "STAGE_KNOBS",
    "TRAIN",
    "TRAIN_KNOBS",
    "CallStep",
    "Config",
    "InputStep",
    "Knob",
    "ModelStep",
    "Placement",
    "Stage",
    "StageSteps",
    "TaskFacts",
    "accumulation",
    "augment",
    "backend",
    "batch_size",
    "cache",
    "channels_last",
    "check_values",
    "choice_refusal",
    "compile",
    "config_from_dict",
    "distill",
    "knob",
    "loader",
    "optimizer_impl",
    "precision",
    "pruning",
    "quantization",
    "read_json_argument",
    "refusals",
    "value_problem",
    "world_size",
]

_BY_NAME = {each.name: each for each in KNOBS}


def knob(name: str) -> Knob:
    """The knob that sets the ``Config`` field ``name``."""
    return _BY_NAME[name]


def choice_refusal(
    name: str,
    value: Any,
    hw: HardwareProfile,
    facts: TaskFacts | None = None,
    stage: Stage = "train",
) -> str | None:
    """Why knob ``name`` cannot take ``value`` in ``stage`` on ``hw`` for this task, or None."""
    return _BY_NAME[name].refusal(value, hw, facts, stage)


def refusals(
    config: Config, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
) -> list[str]:
    """Every reason ``config`` cannot run in ``stage`` on ``hw``; empty when it can."""
    reasons = []
    for name in STAGE_KNOBS[stage]:
        reason = choice_refusal(name, getattr(config, name), hw, facts, stage)
        if reason:
            reasons.append(reason)
    return reasons
