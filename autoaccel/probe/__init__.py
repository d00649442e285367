"""Hardware probe: what this machine can do (CPU, GPUs, TPUs, other accelerators).

``probe()`` never raises and never creates a CUDA context; what it cannot read is
``None`` in the :class:`HardwareProfile`, with a note saying why. Importing this package
imports neither torch nor NVML: the probe loads them when it runs.
"""

from __future__ import annotations

from autoaccel.probe._peak import KNOWN_PARTS, KnownPart, find_part, peak_flops_for
from autoaccel.probe._probe import probe
from autoaccel.probe._profile import (
    SCHEMA_VERSION,
    Accelerator,
    CpuInfo,
    HardwareProfile,
    Software,
)
from autoaccel.probe._render import ProfileSection, profile_sections, render_profile
from autoaccel.probe._sources import (
    PlatformFacts,
    ProbeSources,
    TorchFacts,
    XpuDevice,
    read_platform,
    read_torch_facts,
)

__all__ = [
    "KNOWN_PARTS",
    "SCHEMA_VERSION",
    "Accelerator",
    "CpuInfo",
    "HardwareProfile",
    "KnownPart",
    "PlatformFacts",
    "ProbeSources",
    "ProfileSection",
    "Software",
    "TorchFacts",
    "XpuDevice",
    "find_part",
    "peak_flops_for",
    "probe",
    "profile_sections",
    "read_platform",
    "read_torch_facts",
    "render_profile",
]
