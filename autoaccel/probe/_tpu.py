"""Google TPUs: chips show up as /dev/accel* (v4, v5e) or /dev/vfio/* (v5p, v6e).

Both paths are generic Linux device names, so a chip counts only together with the
environment a TPU VM sets, or with torch_xla installed for /dev/accel*.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from autoaccel.probe._peak import find_part
from autoaccel.probe._profile import Accelerator
from autoaccel.probe._sources import TorchFacts

TPU_ENV = (
    "TPU_ACCELERATOR_TYPE",
    "TPU_WORKER_ID",
    "TPU_NAME",
    "TPU_WORKER_HOSTNAMES",
    "TPU_CHIPS_PER_HOST_BOUNDS",
)
# TPU_ACCELERATOR_TYPE ("v5litepod-8") -> the generation Google's docs name.
_GENERATIONS = (("v5litepod", "v5e"), ("v5e", "v5e"), ("v5p", "v5p"), ("v6e", "v6e"), ("v4", "v4"))


def _names(folder: Path, pattern: str) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir() if re.fullmatch(pattern, p.name))
    except OSError:
        return []


def tpu_name(accelerator_type: str | None) -> str:
    kind = (accelerator_type or "").lower()
    for prefix, generation in _GENERATIONS:
        if kind.startswith(prefix):
            return f"TPU {generation}"
    return f"TPU {accelerator_type}" if accelerator_type else "TPU"


def probe_tpu(
    dev_root: Path, environ: Mapping[str, str], torch: TorchFacts | None
) -> list[Accelerator]:
    accel = _names(dev_root, r"accel\d+")
    vfio = _names(dev_root / "vfio", r"\d+")
    tpu_env = any(environ.get(k) for k in TPU_ENV) or environ.get("PJRT_DEVICE") == "TPU"
    xla = bool(torch and torch.xla_available)
    if not (accel or vfio) or not (tpu_env or (accel and xla)):
        return []
    accelerator_type = environ.get("TPU_ACCELERATOR_TYPE")
    name = tpu_name(accelerator_type)
    part = find_part(name)
    notes = [f"accelerator type {accelerator_type}"] if accelerator_type else []
    if part is None:
        notes.append(f"peak FLOP/s unknown for {name}")
    if not xla:
        notes.append("torch_xla is not installed: install torch_xla to use this TPU")
    return [
        Accelerator(
            kind="tpu",
            index=index,
            name=name,
            peak_flops=dict(part.flops) if part else {},
            supported=xla,
            notes=notes,
        )
        for index in range(len(accel or vfio))
    ]
