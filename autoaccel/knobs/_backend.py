"""Serving through ONNX Runtime: the deployed model exported with torch.onnx and run by an
onnxruntime session, optionally with onnxruntime's dynamic int8 quantization.

The metric is computed through the session, so an export that changes the outputs shows as
a metric drop. torch's own serving knobs (autocast precision, channels_last, compile, torch
quantization) act on the module the session replaces, so they keep their defaults here.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from autoaccel.knobs._knob import Knob
from autoaccel.knobs._steps import ModelStep, Placement

if TYPE_CHECKING:
    from autoaccel.knobs._config import Config
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile

Backend = Literal["torch", "onnxruntime", "onnxruntime_int8"]
PACKAGES = ("onnx", "onnxruntime", "onnxscript")
INSTALL = "pip install 'autoaccel[onnx]'"


class ExportFailed(RuntimeError):
    """torch.onnx could not export the model; the message carries the exporter's reason."""


class BackendKnob(Knob):
    """What serves the deployed model: torch itself, or an ONNX Runtime session of it (fp32,
    or with its Linear and MatMul weights quantized to int8), made last of the serve steps."""

    name = "backend"
    values = Backend
    field = Field(default="torch")
    stages = ("deploy",)
    excludes = ("precision", "channels_last", "compile", "quantization")
    excludes_why = (
        "ONNX Runtime serves the exported fp32 graph; torch's precision, memory format, "
        "compile and quantization act on the module it replaces"
    )

    def refusal(
        self, value: str, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value == "torch":
            return None
        missing = [name for name in PACKAGES if not _installed(name)]
        if missing:
            return f"the onnxruntime backend needs {', '.join(missing)} ({INSTALL})"
        if hw.device not in ("cpu", "cuda"):
            return "onnxruntime serves here on the CPU or an NVIDIA GPU only"
        return None


KNOB = BackendKnob()


def _installed(name: str) -> bool:
    if name in sys.modules:
        return sys.modules[name] is not None  # None: its import is blocked
    return importlib.util.find_spec(name) is not None


def export(model: Any, example_inputs: Any, path: str | Path, *, int8: bool = False) -> Path:
    """Write ``model`` (in eval mode) as ONNX to ``path``, its first dimension dynamic (the
    batch), then, with ``int8``, quantize its weights with onnxruntime's dynamic int8.

    torch.onnx's dynamo exporter is tried first, then the TorchScript one; when both fail,
    :class:`ExportFailed` gives the first one's reason.
    """
    import torch

    path = Path(path)
    args = _as_args(example_inputs)
    names = [f"input_{i}" for i in range(len(args))]
    dynamic = {name: {0: "batch"} for name in [*names, "output"]}
    reasons = []
    for dynamo in (True, False):
        try:
            torch.onnx.export(
                model.eval(),
                args,
                str(path),
                input_names=names,
                output_names=["output"],
                dynamic_axes=dynamic,
                dynamo=dynamo,
                verbose=False,
            )
            break
        except Exception as error:  # the exporters raise many kinds; each is a reason
            lines = str(error).strip().splitlines()
            reasons.append(f"{type(error).__name__}: {lines[0] if lines else ''}")
    else:
        raise ExportFailed(f"torch.onnx could not export the model: {reasons[0]}")
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantized = path.with_name(path.stem + ".int8.onnx")
        quantize_dynamic(str(path), str(quantized), weight_type=QuantType.QInt8)
        quantized.replace(path)
    return path


def _as_args(inputs: Any) -> tuple:
    if isinstance(inputs, dict):
        raise ExportFailed("the onnxruntime backend takes tensor inputs, not a dict")
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


class Session:
    """An onnxruntime session called like the torch model: tensors in, a tensor out, on the
    device the inputs came from."""

    def __init__(self, path: str | Path, device: Any = "cpu") -> None:
        import onnxruntime

        providers = ["CPUExecutionProvider"]
        if str(device).startswith("cuda"):
            providers.insert(0, "CUDAExecutionProvider")
        available = onnxruntime.get_available_providers()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused providers are noise here
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=[p for p in providers if p in available]
        )
        self.names = [item.name for item in self.session.get_inputs()]
        self.device = device
        self.path = Path(path)

    def __call__(self, *inputs: Any) -> Any:
        import torch

        feed = {
            name: value.detach().cpu().numpy()
            for name, value in zip(self.names, inputs, strict=True)
        }
        (output,) = self.session.run(["output"], feed)
        return torch.from_numpy(output).to(self.device)


def apply(model: Any, value: str, example_inputs: Any, path: str | Path) -> Any:
    """``model`` served as ``value`` says: itself for torch, else an onnxruntime
    :class:`Session` of it, exported to ``path``."""
    if value == "torch":
        return model
    export(model, example_inputs, path, int8=value == "onnxruntime_int8")
    return Session(path, _as_args(example_inputs)[0].device)


def _serve(model: Any, config: Config, placement: Placement) -> Any:
    if config.backend == "torch":
        return model
    assert placement.example_inputs is not None
    inputs = [value.to(placement.device) for value in _as_args(placement.example_inputs())]
    # A folder of the trial process's own: the file lives as long as the session serving it.
    folder = Path(tempfile.mkdtemp(prefix="autoaccel-onnx-"))
    return apply(model, config.backend, tuple(inputs), folder / "model.onnx")


def _code(config: Config) -> list[str]:
    if config.backend == "torch":
        return []
    return [
        f'model = knobs.backend.apply(model, "{config.backend}", example_inputs, "model.onnx")',
        "# model.onnx is saved; to serve it without torch (numpy arrays in and out):",
        "#   import onnxruntime",
        '#   session = onnxruntime.InferenceSession("model.onnx", '
        'providers=["CPUExecutionProvider"])',
        '#   outputs = session.run(["output"], {"input_0": inputs.numpy()})[0]',
    ]


SERVE = ModelStep("backend", _serve, _code)
