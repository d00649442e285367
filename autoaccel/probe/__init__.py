"""Hardware probe: what this machine can do (CPU, GPUs, TPUs, other accelerators)."""

from __future__ import annotations

from autoaccel.probe._profile import (
    SCHEMA_VERSION,
    Accelerator,
    CpuInfo,
    HardwareProfile,
    Software,
)

__all__ = ["SCHEMA_VERSION", "Accelerator", "CpuInfo", "HardwareProfile", "Software"]
