"""AMD GPUs (ROCm), found through sysfs: asking torch would initialise HIP."""

from __future__ import annotations

from pathlib import Path

from autoaccel.probe._pci import AMD, DISPLAY, PROCESSING_ACCELERATOR, PciDevice
from autoaccel.probe._peak import find_part
from autoaccel.probe._profile import Accelerator
from autoaccel.probe._sources import TorchFacts

# PCI device IDs of Instinct parts, for drivers that expose no product_name.
_MODELS = {
    0x738C: "AMD Instinct MI100",
    0x740C: "AMD Instinct MI250X/MI250",
    0x740F: "AMD Instinct MI210",
    0x74A0: "AMD Instinct MI300A",
    0x74A1: "AMD Instinct MI300X",
    0x74A5: "AMD Instinct MI325X",
}


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _bytes(path: Path) -> int | None:
    text = _read(path)
    return int(text) if text and text.isdigit() else None


def probe_amd(pci: list[PciDevice], torch: TorchFacts | None) -> list[Accelerator]:
    """AMD GPUs on PCI (display class, or processing accelerator for MI300)."""
    gpus: list[Accelerator] = []
    for device in pci:
        if device.vendor != AMD or device.base_class not in (DISPLAY, PROCESSING_ACCELERATOR):
            continue
        name = _read(device.path / "product_name") or _MODELS.get(device.device or -1)
        name = name or f"AMD GPU {device.device or 0:#06x}"
        # amdgpu reports VRAM in the PCI device folder.
        total = _bytes(device.path / "mem_info_vram_total")
        used = _bytes(device.path / "mem_info_vram_used")
        notes = []
        part = find_part(name)
        if part is None:
            notes.append(f"peak FLOP/s unknown for {name}")
        supported = bool(torch and torch.hip)
        if not supported:
            notes.append("torch is not a ROCm build: install torch for ROCm to use this GPU")
        gpus.append(
            Accelerator(
                kind="rocm",
                index=len(gpus),
                name=name,
                memory_total_bytes=total,
                memory_free_bytes=total - used if total is not None and used is not None else None,
                peak_flops=dict(part.flops) if part else {},
                supported=supported,
                notes=notes,
            )
        )
    return gpus
