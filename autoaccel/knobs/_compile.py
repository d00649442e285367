"""torch.compile: off, default, max-autotune without CUDA graphs, reduce-overhead."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from autoaccel.knobs._knob import Knob
from autoaccel.knobs._steps import knob_step

if TYPE_CHECKING:
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile

CompileMode = Literal["off", "default", "max-autotune-no-cudagraphs", "reduce-overhead"]


class Compile(Knob):
    """What the loop calls: the model wrapped by torch.compile, last of the model's steps;
    the weights stay those of the plain module."""

    name = "compile"
    values = CompileMode
    field = Field(default="off")
    stages = ("train", "deploy")

    def refusal(
        self, value: str, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value == "off":
            return None
        if hw.device == "cpu" and not hw.cpu.cxx_compiler:
            return "torch.compile on CPU needs a C++ compiler (install g++ or set CXX)"
        if hw.device == "cuda" and not hw.software.triton:
            return "torch.compile on a GPU needs triton (pip install triton)"
        if hw.device not in ("cpu", "cuda"):
            return f"torch.compile is not tuned on {hw.device} devices"
        if value == "reduce-overhead" and hw.device != "cuda":
            return "reduce-overhead uses CUDA graphs and needs a CUDA GPU"
        return None


KNOB = Compile()


def apply(model: Any, mode: str) -> Any:
    """The model to call in the loop: compiled lazily (the first call pays the compile)."""
    if mode == "off":
        return model
    import torch

    return torch.compile(model, mode=mode)


COMPILE = knob_step("compile", KNOB)
