"""Dense peak FLOP/s of known accelerators, matched by the name the driver reports.

Source kind: the vendors' datasheets and architecture whitepapers (NVIDIA, AMD, Google
Cloud TPU documentation), at boost clock. Datasheets print tensor-core figures "with
sparsity"; this table holds the dense figures (half of those), since a trained model's
matmuls are dense. ``fp32`` is plain FP32 (CUDA cores on NVIDIA, where torch's FP32
matmul runs when TF32 is off); ``int8`` is OP/s.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8")


@dataclasses.dataclass(frozen=True)
class KnownPart:
    """One accelerator model: how to recognise its name, its SM count and its peaks."""

    label: str
    pattern: str  # searched in the reported name, case-insensitively
    multiprocessors: int | None
    flops: Mapping[str, float]


_ = None  # no such unit on this part
# Dense TFLOP/s (TOP/s for int8). Order matters: the first pattern that matches wins, so
# variants come before families. Parts whose published figures disagree (H100 NVL,
# H200 NVL) are left out on purpose: no number beats a wrong MFU denominator.
_TABLE: tuple[tuple[str, str, int | None, tuple[float | None, ...]], ...] = (
    # (label, name pattern, SMs, (fp32, tf32, bf16, fp16, fp8, int8))
    ("H100 PCIe", r"\bH100\b.*\bPCIe\b", 114, (51, 378, 756.5, 756.5, 1513, 1513)),
    # H100 SXM5: NVML calls it "NVIDIA H100 80GB HBM3".
    ("H100 SXM", r"\bH100\b(?!.*\b(NVL|MIG)\b)", 132, (67, 494.5, 989.5, 989.5, 1979, 1979)),
    ("GH200", r"\bGH200\b", 132, (67, 494.5, 989.5, 989.5, 1979, 1979)),
    # H200 SXM: the H100's compute with more memory.
    ("H200 SXM", r"\bH200\b(?!.*\b(NVL|MIG)\b)", 132, (67, 494.5, 989.5, 989.5, 1979, 1979)),
    # HGX B200 at 1000 W.
    ("B200", r"\bB200\b", 148, (75, 1100, 2250, 2250, 4500, 4500)),
    # All A100s (40GB, 80GB, SXM4, PCIe) have the same compute.
    ("A100", r"\bA100\b", 108, (19.5, 156, 312, 312, _, 624)),
    # NVIDIA publishes no A10G datasheet; AWS sells it as an A10-class part and the
    # usual tables carry the A10's figures: treat them as an upper bound.
    ("A10G", r"\bA10G\b", 80, (31.2, 62.5, 125, 125, _, 250)),
    ("A10", r"\bA10\b", 72, (31.2, 62.5, 125, 125, _, 250)),
    ("L40S", r"\bL40S\b", 142, (91.6, 183, 362.05, 362.05, 733, 733)),
    ("L4", r"\bL4\b", 58, (30.3, 60, 121, 121, 242.5, 242.5)),
    ("T4", r"\bT4\b", 40, (8.1, _, _, 65, _, 130)),
    ("V100S PCIe", r"\bV100S\b", 80, (16.4, _, _, 130, _, _)),
    ("V100 PCIe", r"\bV100\b.*\bPCIe\b", 80, (14, _, _, 112, _, _)),
    ("V100 SXM2", r"\bV100\b", 80, (15.7, _, _, 125, _, _)),
    # GeForce: tensor figures "with FP32 accumulate", which is what torch asks cuBLAS for.
    ("RTX 3090", r"\bRTX 3090\b(?!\s*(Ti|Laptop)\b)", 82, (35.6, 35.6, 71, 71, _, 284)),
    ("RTX 4090", r"\bRTX 4090\b(?!\s*(D|Laptop)\b)", 128, (82.6, 82.6, 165.2, 165.2, 330.3, 660.6)),
    ("RTX 5090", r"\bRTX 5090\b(?!\s*(D|Laptop)\b)", 170, (104.8, 104.8, 209.5, 209.5, 419, 838)),
    # AMD matrix-core figures (torch's FP32 GEMMs run there too); MI325X computes alike.
    ("MI300X", r"\bMI3(00|25)X\b", _, (163.4, 653.7, 1307.4, 1307.4, 2614.9, 2614.9)),
    # Google Cloud TPU documentation, per chip.
    ("TPU v4", r"\bTPU v4\b", _, (_, _, 275, _, _, 275)),
    ("TPU v5e", r"\bTPU v5e\b", _, (_, _, 197, _, _, 394)),
    ("TPU v5p", r"\bTPU v5p\b", _, (_, _, 459, _, _, 918)),
    ("TPU v6e", r"\bTPU v6e\b", _, (_, _, 918, _, _, 1836)),
)

KNOWN_PARTS: tuple[KnownPart, ...] = tuple(
    KnownPart(
        label,
        pattern,
        sms,
        {
            dtype: tflops * 1e12
            for dtype, tflops in zip(DTYPES, peaks, strict=True)
            if tflops is not None
        },
    )
    for label, pattern, sms, peaks in _TABLE
)


def find_part(name: str | None) -> KnownPart | None:
    """The table entry for a reported device name, or None when it is not known."""
    if not name:
        return None
    return next((p for p in KNOWN_PARTS if re.search(p.pattern, name, re.IGNORECASE)), None)


def peak_flops_for(name: str | None) -> dict[str, float]:
    """Dense peak FLOP/s per dtype for a reported device name; empty when unknown."""
    part = find_part(name)
    return dict(part.flops) if part else {}
