"""Precision: fp32, tf32 matmuls, bf16 autocast, fp16 autocast with a GradScaler."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from autoaccel.knobs._knob import Knob
from autoaccel.knobs._steps import CallStep, ModelStep, Placement

if TYPE_CHECKING:
    from autoaccel.knobs._config import Config
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile

Precision = Literal["fp32", "tf32", "bf16", "fp16"]

# The dtype each choice computes in; the key also names the peak FLOP/s column to use.
AUTOCAST_DTYPE = {"fp32": None, "tf32": None, "bf16": "bfloat16", "fp16": "float16"}


class PrecisionKnob(Knob):
    """The matmul flags, set once as the model is placed; the autocast dtype around every
    forward pass; in training, a GradScaler that scales only for fp16."""

    name = "precision"
    values = Precision
    field = Field(default="fp32")
    stages = ("train", "deploy")

    def refusal(
        self, value: str, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        cc = hw.cuda_capability
        if value == "fp16" and hw.device != "cuda":
            return "fp16 with loss scaling needs a CUDA GPU; on this device try bf16"
        if value == "tf32" and (cc is None or cc < (8, 0)):
            return "tf32 needs an NVIDIA GPU of compute capability 8.0 or newer"
        if value == "bf16" and hw.device == "cuda" and cc is not None and cc < (8, 0):
            return "bf16 needs compute capability 8.0 or newer (it would be emulated, slowly)"
        return None


KNOB = PrecisionKnob()


def set_matmul_flags(value: str) -> None:
    """Allow tf32 tensor cores for float32 matmuls and convolutions only when asked.

    Global torch state: called once inside the trial process.
    """
    import torch

    tf32 = value == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")


def autocast(value: str, device_type: str) -> contextlib.AbstractContextManager[Any]:
    """The autocast context for ``value``; a no-op for fp32 and tf32."""
    import torch

    dtype_name = AUTOCAST_DTYPE[value]
    if dtype_name is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=getattr(torch, dtype_name))


def grad_scaler(value: str, device_type: str) -> Any:
    """A GradScaler that scales only for fp16 and is a pass-through otherwise."""
    import torch

    return torch.amp.GradScaler(device_type, enabled=value == "fp16")


def _set_flags(model: Any, config: Config, placement: Placement) -> Any:
    set_matmul_flags(config.precision)
    return model


def _flags_code(config: Config) -> list[str]:
    # Every process sets the flags (an earlier configuration's tf32 must not leak into the
    # next); a user's fresh process has the defaults, so the code names only tf32.
    return ['knobs.precision.set_matmul_flags("tf32")'] if config.precision == "tf32" else []


def _autocast(config: Config, device_type: str) -> contextlib.AbstractContextManager[Any]:
    return autocast(config.precision, device_type)


def _autocast_code(config: Config) -> list[str]:
    if AUTOCAST_DTYPE[config.precision] is None:
        return []
    return [f"with knobs.precision.autocast({json.dumps(config.precision)}, device.type):"]


MATMUL_FLAGS = ModelStep("matmul_flags", _set_flags, _flags_code)
AUTOCAST = CallStep("autocast", _autocast, _autocast_code)
