"""PCI devices from sysfs: where GPUs without a driver library, and cards nobody else
knows, are still visible."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path

from autoaccel.probe._profile import Accelerator

NVIDIA = 0x10DE
AMD = 0x1002
GOOGLE = 0x1AE0
INTEL = 0x8086

# PCI base classes (the top byte of the 24-bit class code).
DISPLAY = 0x03
PROCESSING_ACCELERATOR = 0x12

_VENDORS = {
    0x1002: "AMD",
    0x1022: "AMD",
    0x10DE: "NVIDIA",
    0x10EE: "Xilinx",
    0x1172: "Altera",
    0x1AE0: "Google",
    0x1D0F: "Amazon",
    0x1DA3: "Habana Labs",
    0x1E52: "Tenstorrent",
    0x1F0F: "Cerebras",
    0x8086: "Intel",
}


@dataclasses.dataclass(frozen=True)
class PciDevice:
    address: str  # "0000:17:00.0"
    vendor: int
    device: int | None
    class_code: int  # 24 bits: base class, subclass, programming interface
    path: Path

    @property
    def base_class(self) -> int:
        return self.class_code >> 16

    @property
    def vendor_name(self) -> str:
        return _VENDORS.get(self.vendor, f"vendor {self.vendor:#06x}")


def _hex(path: Path) -> int | None:
    try:
        return int(path.read_text().strip(), 16)
    except (OSError, ValueError):
        return None


def read_pci_devices(sys_root: Path) -> list[PciDevice]:
    """Every PCI function with a readable class and vendor; raises when sysfs has none."""
    devices = []
    for path in sorted((sys_root / "bus" / "pci" / "devices").iterdir()):
        class_code, vendor = _hex(path / "class"), _hex(path / "vendor")
        if class_code is None or vendor is None:
            continue
        devices.append(PciDevice(path.name, vendor, _hex(path / "device"), class_code, path))
    return devices


def other_accelerators(pci: list[PciDevice], skip_vendors: Collection[int]) -> list[Accelerator]:
    """Processing accelerators (class 0x12: FPGAs, NPUs, Gaudi, ...) not reported elsewhere.

    autoaccel cannot run trials on them; they are listed so the user knows they were seen.
    """
    found: list[Accelerator] = []
    for device in pci:
        if device.base_class != PROCESSING_ACCELERATOR or device.vendor in skip_vendors:
            continue
        model = f" {device.device:#06x}" if device.device is not None else ""
        found.append(
            Accelerator(
                kind="other",
                index=len(found),
                name=f"{device.vendor_name} device{model}",
                supported=False,
                notes=[
                    "detected but not supported",
                    f"PCI {device.address}, class {device.class_code:#08x}",
                ],
            )
        )
    return found
