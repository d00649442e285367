"""Accelerators other than NVIDIA's: TPU, ROCm, MPS, XPU, and unknown PCI cards."""

from __future__ import annotations

import pytest

from autoaccel.probe import probe


def test_tpu_vm_with_torch_xla(host) -> None:
    profile = probe(host("tpu_v4").sources)

    tpus = profile.accelerators
    assert [(t.kind, t.index, t.name) for t in tpus] == [("tpu", i, "TPU v4") for i in range(4)]
    assert all(t.supported for t in tpus)
    assert tpus[0].peak_flops == pytest.approx({"bf16": 275e12, "int8": 275e12})
    assert tpus[0].notes == ["accelerator type v4-8"]
    assert profile.device == "tpu"
    assert profile.software.torch_xla == "2.7.0"
    # The Google PCI functions are the TPU chips themselves, not "other" devices.
    assert not any(a.kind == "other" for a in profile.accelerators)


def test_tpu_vm_without_torch_xla_is_detected_but_unsupported(host) -> None:
    machine = host("tpu_v4", {"torch": {"xla_available": False}, "versions": {"torch-xla": None}})
    profile = probe(machine.sources)

    tpus = [a for a in profile.accelerators if a.kind == "tpu"]
    assert len(tpus) == 4
    assert not any(t.supported for t in tpus)
    assert "torch_xla is not installed: install torch_xla to use this TPU" in tpus[0].notes
    assert profile.device == "cpu"
    assert profile.software.torch_xla is None


def test_dev_accel_without_tpu_environment_or_torch_xla_is_no_tpu(host) -> None:
    no_tpu_env = {"TPU_ACCELERATOR_TYPE": "", "TPU_WORKER_ID": ""}
    machine = host("tpu_v4", {"environ": no_tpu_env, "torch": {"xla_available": False}})
    profile = probe(machine.sources)

    assert not any(a.kind == "tpu" for a in profile.accelerators)
    # Still seen: as unknown processing accelerators on PCI.
    others = [a for a in profile.accelerators if a.kind == "other"]
    assert len(others) == 4
    assert others[0].name == "Google device 0x005e"


def test_pci_processing_accelerator_is_reported_as_other(host) -> None:
    profile = probe(host("zen4").sources)

    (card,) = profile.accelerators
    assert card.kind == "other"
    assert card.name == "Xilinx device 0x5004"
    assert not card.supported
    assert card.notes == ["detected but not supported", "PCI 0000:41:00.0, class 0x120000"]
    assert profile.device == "cpu"  # an unsupported card never becomes the trial device
    assert profile.primary is None


def test_amd_mi300x_with_rocm_torch(host) -> None:
    profile = probe(host("mi300x").sources)

    gpus = profile.accelerators
    assert [(g.kind, g.index, g.name) for g in gpus] == [
        ("rocm", 0, "AMD Instinct MI300X"),
        ("rocm", 1, "AMD Instinct MI300X"),
    ]
    assert gpus[0].memory_total_bytes == 206141652992
    assert gpus[0].memory_free_bytes == 206141652992 - 300000000
    assert gpus[0].peak_flops["bf16"] == pytest.approx(1307.4e12)
    assert gpus[0].supported
    assert profile.device == "cuda"  # torch drives ROCm GPUs through the cuda device type
    assert profile.software.hip == "6.3.42131"
    assert profile.software.cudnn is None  # MIOpen's number is not a cuDNN version
    assert profile.software.triton == "3.3.1"  # shipped as pytorch-triton-rocm


def test_amd_gpu_without_rocm_torch_is_unsupported(host) -> None:
    profile = probe(host("mi300x", {"torch": {"hip": None}}).sources)

    assert not any(g.supported for g in profile.accelerators)
    assert "torch is not a ROCm build" in profile.accelerators[0].notes[0]
    assert profile.device == "cpu"


def test_apple_mps(host) -> None:
    profile = probe(host("apple_m2").sources)

    (gpu,) = profile.accelerators
    assert gpu.kind == "mps"
    assert gpu.name == "Apple M2 Max GPU"
    assert gpu.memory_total_bytes == 32 * 2**30
    assert gpu.supported
    assert gpu.notes == [
        "unified memory, shared with the CPU",
        "peak FLOP/s unknown for Apple M2 Max GPU",
    ]
    assert profile.device == "mps"
    assert profile.summary() == "1x Apple M2 Max GPU + Apple M2 Max (12 cores)"


def test_intel_xpu_from_torch(host) -> None:
    xpu = {"name": "Intel(R) Data Center GPU Max 1550", "memory_total_bytes": 128 * 2**30}
    profile = probe(host("spr", {"torch": {"xpu_devices": [xpu, xpu]}}).sources)

    assert [(a.kind, a.index) for a in profile.accelerators] == [("xpu", 0), ("xpu", 1)]
    assert profile.accelerators[0].memory_total_bytes == 128 * 2**30
    assert profile.device == "xpu"
