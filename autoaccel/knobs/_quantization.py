"""Post-training quantization for inference: int8 (torch.ao or torchao) and fp8 (torchao).

Never assumed faster: on some CPUs torchao's int8 path is much slower than fp32 while
torch.ao's fbgemm path is faster, and the other way round elsewhere. Trials measure it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from autoaccel.knobs._knob import Knob
from autoaccel.knobs._steps import knob_step

if TYPE_CHECKING:
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile

Quantization = Literal[
    "none",
    "int8_dynamic_torch_ao",
    "int8_dynamic_torchao",
    "int8_weight_only_torchao",
    "fp8_torchao",
]


class QuantizationKnob(Knob):
    """The Linear layers of the placed model, converted to int8 or fp8 before the memory
    format and compile steps."""

    name = "quantization"
    values = Quantization
    field = Field(default="none")
    stages = ("deploy",)

    def refusal(
        self, value: str, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value == "none":
            return None
        if value == "int8_dynamic_torch_ao" and hw.device != "cpu":
            return "torch.ao dynamic int8 runs on the CPU only"
        if value.endswith("_torchao") and not hw.software.torchao:
            return "this quantization needs the torchao package (pip install torchao)"
        if value == "fp8_torchao":
            cc = hw.cuda_capability
            if cc is None or cc < (8, 9):
                return "fp8 needs an NVIDIA GPU of compute capability 8.9 or newer"
        if facts is not None and not facts.has_linear:
            return "quantization here applies to Linear layers and the model has none"
        return None


KNOB = QuantizationKnob()


def apply(model: Any, value: str) -> Any:
    """Quantize the Linear layers of ``model`` (already on its device, in eval mode)."""
    if value == "none":
        return model
    import torch

    if value == "int8_dynamic_torch_ao":
        import warnings

        with warnings.catch_warnings():
            # Deprecated in favour of torchao, still the faster path on many CPUs.
            warnings.simplefilter("ignore")
            return torch.ao.quantization.quantize_dynamic(
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
    from torchao import quantization as tq

    configs = {
        "int8_dynamic_torchao": tq.Int8DynamicActivationInt8WeightConfig,
        "int8_weight_only_torchao": tq.Int8WeightOnlyConfig,
        "fp8_torchao": tq.Float8DynamicActivationFloat8WeightConfig,
    }
    tq.quantize_(model, configs[value]())
    return model


QUANTIZE = knob_step("quantize", KNOB)
