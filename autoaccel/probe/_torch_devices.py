"""Accelerators only torch can describe: Apple's MPS and Intel's XPU."""

from __future__ import annotations

from autoaccel.probe._peak import find_part
from autoaccel.probe._profile import Accelerator, CpuInfo
from autoaccel.probe._sources import TorchFacts


def _peak(name: str) -> tuple[dict[str, float], list[str]]:
    part = find_part(name)
    return (dict(part.flops), []) if part else ({}, [f"peak FLOP/s unknown for {name}"])


def probe_mps(torch: TorchFacts | None, cpu: CpuInfo) -> list[Accelerator]:
    """Apple silicon's GPU: one device sharing the machine's (unified) memory."""
    if not (torch and torch.mps_available):
        return []
    name = f"{cpu.model} GPU" if cpu.model else "Apple GPU"
    flops, notes = _peak(name)
    return [
        Accelerator(
            kind="mps",
            name=name,
            memory_total_bytes=cpu.memory_total_bytes,
            memory_free_bytes=cpu.memory_available_bytes,
            peak_flops=flops,
            notes=["unified memory, shared with the CPU", *notes],
        )
    ]


def probe_xpu(torch: TorchFacts | None) -> list[Accelerator]:
    if torch is None:
        return []
    gpus = []
    for index, device in enumerate(torch.xpu_devices):
        name = device.name or "Intel GPU"
        flops, notes = _peak(name)
        gpus.append(
            Accelerator(
                kind="xpu",
                index=index,
                name=name,
                memory_total_bytes=device.memory_total_bytes,
                peak_flops=flops,
                notes=notes,
            )
        )
    return gpus
