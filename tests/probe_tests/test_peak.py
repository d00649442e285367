"""The peak FLOP/s table: names as drivers report them, dense figures."""

from __future__ import annotations

import pytest

from autoaccel.probe import KNOWN_PARTS, find_part, peak_flops_for


@pytest.mark.parametrize(
    ("reported", "part"),
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM"),
        ("NVIDIA H100 PCIe", "H100 PCIe"),
        ("NVIDIA H200", "H200 SXM"),
        ("NVIDIA GH200 480GB", "GH200"),
        ("NVIDIA B200", "B200"),
        ("NVIDIA A100-SXM4-40GB", "A100"),
        ("NVIDIA A100-SXM4-80GB", "A100"),
        ("NVIDIA A100-PCIE-40GB", "A100"),
        ("NVIDIA A100 80GB PCIe", "A100"),
        ("NVIDIA A10", "A10"),
        ("NVIDIA A10G", "A10G"),
        ("NVIDIA L4", "L4"),
        ("NVIDIA L40S", "L40S"),
        ("Tesla T4", "T4"),
        ("Tesla V100-SXM2-32GB", "V100 SXM2"),
        ("Tesla V100-PCIE-16GB", "V100 PCIe"),
        ("Tesla V100S-PCIE-32GB", "V100S PCIe"),
        ("NVIDIA GeForce RTX 3090", "RTX 3090"),
        ("NVIDIA GeForce RTX 4090", "RTX 4090"),
        ("NVIDIA GeForce RTX 5090", "RTX 5090"),
        ("AMD Instinct MI300X", "MI300X"),
        ("TPU v5e", "TPU v5e"),
    ],
)
def test_reported_names_find_their_part(reported: str, part: str) -> None:
    found = find_part(reported)
    assert found is not None and found.label == part


@pytest.mark.parametrize(
    "reported",
    [
        "NVIDIA H100 NVL",  # published figures disagree: better unknown than wrong
        "NVIDIA H200 NVL",
        "NVIDIA GB200",
        "NVIDIA L40",
        "NVIDIA GeForce RTX 3090 Ti",
        "NVIDIA GeForce RTX 4090 D",
        "NVIDIA GeForce RTX 4090 Laptop GPU",
        "NVIDIA A40",
        "",
        None,
    ],
)
def test_other_names_are_unknown(reported: str | None) -> None:
    assert find_part(reported) is None
    assert peak_flops_for(reported) == {}


def test_dense_figures_not_sparse() -> None:
    h100 = peak_flops_for("NVIDIA H100 80GB HBM3")
    assert h100 == pytest.approx(
        {
            "fp32": 67e12,
            "tf32": 494.5e12,
            "bf16": 989.5e12,
            "fp16": 989.5e12,
            "fp8": 1979e12,
            "int8": 1979e12,
        }
    )
    assert peak_flops_for("NVIDIA H100 PCIe")["bf16"] == pytest.approx(756.5e12)
    assert peak_flops_for("NVIDIA L4")["fp8"] == pytest.approx(242.5e12)
    assert peak_flops_for("NVIDIA B200")["bf16"] == pytest.approx(2.25e15)


def test_table_is_consistent() -> None:
    allowed = {"fp32", "tf32", "bf16", "fp16", "fp8", "int8"}
    for part in KNOWN_PARTS:
        assert part.flops, part.label
        assert set(part.flops) <= allowed, part.label
        assert all(v > 1e12 for v in part.flops.values()), part.label
        # Tensor dtypes are never slower than plain FP32 on the same part.
        for dtype in ("tf32", "bf16", "fp16"):
            if "fp32" in part.flops and dtype in part.flops:
                assert part.flops[dtype] >= part.flops["fp32"], part.label
        assert find_part(part.label) is part, part.label  # each label reaches its own row
