"""What a machine can do, as plain data: the probe fills it, everyone else reads it.

The profile travels as JSON (``schema_version``) into trial processes and into stored
studies, so every field is a plain value; ``None`` means the probe could not tell, and
``notes`` says why. The JSON also carries ``fingerprint`` for people and tools that read
it; being derived from the other fields, it is recomputed on reading, never trusted.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1

AcceleratorKind = Literal["cuda", "rocm", "mps", "xpu", "tpu", "other"]

# The instruction sets that decide which CPU kernels torch picks.
X86_ISA = (
    "avx2",
    "avx512f",
    "avx512_bf16",
    "avx512_vnni",
    "avx_vnni",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)
ARM_ISA = ("neon", "asimd", "sve", "bf16", "i8mm")
# The precisions the precision knob trains in; int8 and fp8 peaks count other work.
TRAINING_DTYPES = ("fp32", "tf32", "bf16", "fp16")


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CpuInfo(_Data):
    model: str | None = None
    vendor: str | None = None
    arch: str | None = None
    physical_cores: int | None = None
    logical_cores: int | None = None
    usable_cores: int | None = Field(
        default=None, description="Cores this process may use: affinity and cgroup quota."
    )
    memory_total_bytes: int | None = None
    memory_available_bytes: int | None = None
    numa_nodes: int | None = None
    isa: dict[str, bool] = Field(default_factory=dict)
    torch_cpu_capability: str | None = None
    cxx_compiler: str | None = Field(
        default=None, description="Path of the C++ compiler torch.compile would use."
    )
    clock_mhz: float | None = Field(
        default=None, description="Highest clock the OS reports: cpufreq's maximum, else cpuinfo."
    )
    core_peak_flops_estimate: dict[str, float] = Field(
        default_factory=dict,
        description="Peak FLOP/s of one usable core per dtype: clock x FLOPs per cycle.",
    )
    core_peak_flops_measured: dict[str, float] = Field(
        default_factory=dict,
        description="Matmul FLOP/s of one usable core per dtype, measured by the probe.",
    )

    def core_peak_flops(self, dtype: str) -> float | None:
        """The larger of the estimate and the measurement for one usable core: a matmul
        faster than the estimate proves the estimate low (a boost clock, wider units)."""
        estimate = self.core_peak_flops_estimate.get(dtype)
        measured = self.core_peak_flops_measured.get(dtype)
        return max((f for f in (estimate, measured) if f), default=None)


class Accelerator(_Data):
    kind: AcceleratorKind
    index: int = 0
    name: str | None = None
    memory_total_bytes: int | None = None
    memory_free_bytes: int | None = None
    compute_capability: str | None = Field(default=None, description='CUDA only, e.g. "9.0".')
    multiprocessors: int | None = None
    max_sm_clock_mhz: int | None = None
    max_memory_clock_mhz: int | None = None
    power_limit_w: float | None = None
    pcie_generation: int | None = None
    pcie_width: int | None = None
    nvlink_peers: int | None = None
    features: dict[str, bool] = Field(
        default_factory=dict, description="tf32, bf16, fp16_tensor_cores, fp8, sparsity_2_4."
    )
    peak_flops: dict[str, float] = Field(
        default_factory=dict, description="Dense peak FLOP/s per dtype; empty when unknown."
    )
    supported: bool = Field(default=True, description="Whether autoaccel can run trials on it.")
    notes: list[str] = Field(default_factory=list)


class Software(_Data):
    python: str | None = None
    torch: str | None = None
    cuda: str | None = None
    hip: str | None = None
    cudnn: str | None = None
    nvidia_driver: str | None = None
    triton: str | None = None
    torchao: str | None = None
    torch_pruning: str | None = None
    torch_xla: str | None = None
    optuna: str | None = None
    distributed: bool | None = Field(
        default=None, description="Whether this torch build has torch.distributed."
    )


class HardwareProfile(_Data):
    schema_version: int = SCHEMA_VERSION
    hostname: str | None = None
    cpu: CpuInfo = Field(default_factory=CpuInfo)
    accelerators: list[Accelerator] = Field(default_factory=list)
    software: Software = Field(default_factory=Software)
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _drop_fingerprint(cls, data: Any) -> Any:
        # to_json writes the fingerprint; it is derived, so reading recomputes it.
        if isinstance(data, dict) and "fingerprint" in data:
            return {k: v for k, v in data.items() if k != "fingerprint"}
        return data

    @property
    def device(self) -> str:
        """The torch device type trials run on: the first supported accelerator, else cpu."""
        supported = [a for a in self.accelerators if a.supported]
        if not supported:
            return "cpu"
        # torch exposes ROCm GPUs through the cuda device type.
        return {"rocm": "cuda"}.get(supported[0].kind, supported[0].kind)

    @property
    def primary(self) -> Accelerator | None:
        """The accelerator trials run on, or None on a CPU-only machine."""
        return next((a for a in self.accelerators if a.supported), None)

    @property
    def cuda_capability(self) -> tuple[int, int] | None:
        """Compute capability of the NVIDIA GPU trials run on, if any."""
        acc = self.primary
        if acc is None or acc.kind != "cuda" or not acc.compute_capability:
            return None
        major, _, minor = acc.compute_capability.partition(".")
        return int(major), int(minor or 0)

    @property
    def usable_cores(self) -> int:
        return self.cpu.usable_cores or self.cpu.logical_cores or 1

    def peak_flops(self, dtype: str) -> float | None:
        """Dense peak FLOP/s of the trial device for ``dtype`` ("fp32", "bf16", ...); on a
        CPU, of the cores this profile may use (a trial given a share of the cores carries
        a profile with that share)."""
        acc = self.primary
        if acc is not None:
            return acc.peak_flops.get(dtype)
        core = self.cpu.core_peak_flops(dtype)
        return core * self.usable_cores if core else None

    def best_peak(self) -> tuple[str, float] | None:
        """The training precision with the highest peak on the trial device, and that peak:
        the ceiling a trial in any precision is also compared against."""
        peaks = [(d, p) for d in TRAINING_DTYPES if (p := self.peak_flops(d))]
        return max(peaks, key=lambda pair: pair[1]) if peaks else None

    def fingerprint(self) -> str:
        """A stable hash of the fields that change performance.

        Free memory, clocks read at the moment, hostnames and notes are left out: the same
        machine must give the same fingerprint tomorrow.
        """
        key = {
            "cpu": [self.cpu.model, self.cpu.arch, self.usable_cores],
            # Sorted by their text: a None next to a number must not make sorting raise.
            "accelerators": sorted(
                (
                    [a.kind, a.name, a.memory_total_bytes, a.compute_capability]
                    for a in self.accelerators
                ),
                key=lambda row: json.dumps(row, default=str),
            ),
            "torch": self.software.torch,
            "cuda": self.software.cuda,
            "hip": self.software.hip,
        }
        blob = json.dumps(key, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def summary(self) -> str:
        """One line naming the machine, for study lists and reports."""
        acc = self.primary
        cores = f"{self.usable_cores} cores"
        cpu = f"{self.cpu.model or 'unknown CPU'} ({cores})"
        if acc is None:
            return cpu
        count = sum(1 for a in self.accelerators if a.name == acc.name and a.kind == acc.kind)
        return f"{count}x {acc.name or acc.kind} + {cpu}"

    def to_json(self) -> str:
        """The profile as JSON, with its ``fingerprint`` right after ``schema_version``."""
        data = self.model_dump(mode="json")
        document = {"schema_version": data.pop("schema_version"), "fingerprint": self.fingerprint()}
        return json.dumps({**document, **data}, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> HardwareProfile:
        """Read what :meth:`to_json` (and ``autoaccel probe --json``) wrote."""
        return cls.model_validate_json(text)
