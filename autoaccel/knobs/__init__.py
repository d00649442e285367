"""Acceleration knobs: one module per technique, each saying which values the hardware can
run (``refusal``) and how the value is applied. Nothing here knows about Optuna.

Importing this package does not import torch; the apply functions import it when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autoaccel.knobs import (
    _batch_size,
    _channels_last,
    _compile,
    _loader,
    _precision,
    _pruning,
    _quantization,
)
from autoaccel.knobs._config import (
    DEPLOY_KNOBS,
    STAGE_KNOBS,
    TRAIN_KNOBS,
    Config,
    Stage,
    config_from_dict,
    describe_validation_error,
    read_json_argument,
)
from autoaccel.knobs._facts import TaskFacts

if TYPE_CHECKING:
    from autoaccel.probe import HardwareProfile

batch_size = _batch_size
channels_last = _channels_last
compile = _compile
loader = _loader
precision = _precision
pruning = _pruning
quantization = _quantization

__all__ = [
    "DEPLOY_KNOBS",
    "STAGE_KNOBS",
    "TRAIN_KNOBS",
    "Config",
    "Stage",
    "TaskFacts",
    "batch_size",
    "channels_last",
    "choice_refusal",
    "compile",
    "config_from_dict",
    "describe_validation_error",
    "loader",
    "precision",
    "pruning",
    "quantization",
    "read_json_argument",
    "refusals",
]

_SINGLE = {
    _batch_size.NAME: _batch_size,
    _precision.NAME: _precision,
    _channels_last.NAME: _channels_last,
    _compile.NAME: _compile,
    _pruning.NAME: _pruning,
    _quantization.NAME: _quantization,
}


def choice_refusal(
    name: str,
    value: Any,
    hw: HardwareProfile,
    facts: TaskFacts | None = None,
    stage: str = "train",
) -> str | None:
    """Why knob ``name`` cannot take ``value`` in ``stage`` on ``hw`` for this task, or None."""
    if name in _loader.NAMES:
        return _loader.refusal(name, value, hw, facts, stage)
    return _SINGLE[name].refusal(value, hw, facts, stage)


def refusals(config: Config, hw: HardwareProfile, facts: TaskFacts | None, stage: str) -> list[str]:
    """Every reason ``config`` cannot run in ``stage`` on ``hw``; empty when it can."""
    reasons = []
    for name in STAGE_KNOBS[stage]:
        reason = choice_refusal(name, getattr(config, name), hw, facts, stage)
        if reason:
            reasons.append(reason)
    return reasons
