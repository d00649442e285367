"""NVIDIA GPUs through (fake) NVML: facts, derived features, and every way NVML fails."""

from __future__ import annotations

import dataclasses

import pytest

from autoaccel.probe import probe

GIB = 2**30


def test_eight_h100_sxm_on_nvlink(host) -> None:
    machine = host("h100x8")
    profile = probe(machine.sources)

    gpus = profile.accelerators
    assert [g.index for g in gpus] == list(range(8))
    assert {g.kind for g in gpus} == {"cuda"}
    gpu = gpus[0]
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.memory_total_bytes == 85520809984
    assert gpu.memory_free_bytes == 84935770112
    assert gpu.compute_capability == "9.0"
    # nvmlDeviceGetAttributes is NotSupported there: 16896 CUDA cores / 128 per SM.
    assert gpu.multiprocessors == 132
    assert (gpu.max_sm_clock_mhz, gpu.max_memory_clock_mhz) == (1980, 2619)
    assert gpu.power_limit_w == 700.0
    assert (gpu.pcie_generation, gpu.pcie_width) == (5, 16)
    assert gpu.nvlink_peers == 18
    assert gpu.features == {
        "tf32": True,
        "bf16": True,
        "fp16_tensor_cores": True,
        "fp8": True,
        "sparsity_2_4": True,
    }
    assert gpu.peak_flops["bf16"] == pytest.approx(989.5e12)
    assert gpu.peak_flops["fp8"] == pytest.approx(1979e12)
    assert gpu.peak_flops["fp32"] == pytest.approx(67e12)
    assert gpu.supported and gpu.notes == []
    assert all(g == gpu.model_copy(update={"index": g.index}) for g in gpus)

    assert profile.device == "cuda"
    assert profile.cuda_capability == (9, 0)
    assert profile.peak_flops("bf16") == pytest.approx(989.5e12)
    assert (
        profile.summary() == "8x NVIDIA H100 80GB HBM3 + Intel(R) Xeon(R) Platinum 8480C (8 cores)"
    )
    assert profile.software.nvidia_driver == "570.124.06"
    assert profile.software.cuda == "12.8"
    assert profile.software.cudnn == "9.8.0"
    assert profile.notes == []
    assert machine.nvml.initialised and machine.nvml.shut_down


def test_a100_multiprocessors_from_device_attributes(host) -> None:
    profile = probe(host("a100").sources)

    (gpu,) = profile.accelerators
    assert gpu.name == "NVIDIA A100-SXM4-40GB"
    assert gpu.multiprocessors == 108  # nvmlDeviceGetAttributes answered
    assert gpu.compute_capability == "8.0"
    assert gpu.features["bf16"] and gpu.features["tf32"] and gpu.features["sparsity_2_4"]
    assert not gpu.features["fp8"]
    assert gpu.nvlink_peers == 0  # every link NotSupported: no NVLink, and no note
    assert gpu.peak_flops == pytest.approx(
        {"fp32": 19.5e12, "tf32": 156e12, "bf16": 312e12, "fp16": 312e12, "int8": 624e12}
    )
    assert "fp8" not in gpu.peak_flops
    assert gpu.notes == []
    assert profile.cpu.isa["avx2"] and not profile.cpu.isa["avx512f"]


def test_t4_has_fp16_tensor_cores_but_no_bf16(host) -> None:
    profile = probe(host("t4").sources)

    (gpu,) = profile.accelerators
    assert gpu.name == "Tesla T4"
    assert gpu.compute_capability == "7.5"
    assert gpu.multiprocessors == 40  # 2560 CUDA cores / 64 per SM on Turing
    assert gpu.features == {
        "tf32": False,
        "bf16": False,
        "fp16_tensor_cores": True,
        "fp8": False,
        "sparsity_2_4": False,
    }
    assert gpu.power_limit_w == 70.0
    assert (gpu.pcie_generation, gpu.pcie_width) == (3, 16)
    assert gpu.peak_flops == pytest.approx({"fp32": 8.1e12, "fp16": 65e12, "int8": 130e12})
    assert profile.peak_flops("bf16") is None
    assert profile.software.cudnn == "8.9.2"  # cuDNN 8 numbers its versions differently


def test_unknown_gpu_name_gives_no_peak_and_a_note(host) -> None:
    machine = host("t4")
    machine.nvml.devices[0]["name"] = "NVIDIA RTX PRO 9999 Blackwell Server Edition"
    machine.nvml.devices[0]["gpu_cores"] = "error:NotSupported"
    profile = probe(machine.sources)

    (gpu,) = profile.accelerators
    assert gpu.peak_flops == {}
    assert gpu.multiprocessors is None  # no attributes, no core count, not in the table
    assert "peak FLOP/s unknown for NVIDIA RTX PRO 9999 Blackwell Server Edition" in gpu.notes
    assert gpu.supported  # unknown peaks do not stop trials
    assert profile.peak_flops("bf16") is None


def test_nvml_not_installed(host) -> None:
    profile = probe(host("spr").sources)

    assert profile.accelerators == []
    assert profile.device == "cpu"
    assert "NVML: nvidia-ml-py is not installed: NVIDIA GPUs cannot be seen" in profile.notes


def test_nvml_library_not_found(host) -> None:
    machine = host("zen4")
    profile = probe(machine.sources)

    assert profile.accelerators[0].kind == "other"  # the FPGA card, not a GPU
    assert profile.device == "cpu"
    assert profile.software.nvidia_driver is None
    note = next(n for n in profile.notes if n.startswith("NVML:"))
    assert "libnvidia-ml.so.1 not found" in note
    assert not machine.nvml.initialised


def test_nvml_failing_midway_keeps_everything_else(host) -> None:
    machine = host(
        "h100x8",
        {
            "nvml": {
                "fail": {
                    "nvmlDeviceGetHandleByIndex": {"5": "GpuIsLost"},
                    "nvmlDeviceGetMemoryInfo": {"2": "Unknown"},
                    "nvmlDeviceGetEnforcedPowerLimit": {"2": "NoPermission"},
                    "nvmlSystemGetDriverVersion": "Uninitialized",
                }
            }
        },
    )
    profile = probe(machine.sources)

    assert [g.index for g in profile.accelerators] == [0, 1, 2, 3, 4, 6, 7]
    broken = profile.accelerators[2]
    assert broken.memory_total_bytes is None and broken.memory_free_bytes is None
    assert broken.power_limit_w is None
    assert broken.name == "NVIDIA H100 80GB HBM3"
    assert broken.multiprocessors == 132 and broken.nvlink_peers == 18
    assert broken.notes == ["memory: Unknown Error", "power limit: Insufficient Permissions"]
    assert profile.accelerators[3].memory_total_bytes == 85520809984
    assert profile.accelerators[3].notes == []
    assert "GPU 5: skipped, NVML cannot open it: GPU is lost" in profile.notes
    assert "NVIDIA driver version: Uninitialized" in profile.notes
    assert profile.software.nvidia_driver is None
    assert machine.nvml.shut_down


def test_nvml_device_count_failing(host) -> None:
    profile = probe(host("h100x8", {"nvml": {"fail": {"nvmlDeviceGetCount": "Unknown"}}}).sources)

    assert profile.accelerators == []
    assert "NVML device count: Unknown Error" in profile.notes
    assert profile.software.nvidia_driver == "570.124.06"


def test_nvml_loader_raising_something_else(host) -> None:
    machine = host("h100x8")

    def broken_loader():
        raise OSError("libc mismatch")

    profile = probe(dataclasses.replace(machine.sources, load_nvml=broken_loader))

    assert profile.accelerators == []
    assert "NVML: OSError: libc mismatch" in profile.notes


def test_nvlink_error_other_than_not_supported_is_a_note(host) -> None:
    machine = host("h100x8")
    for device in machine.nvml.devices:
        device["nvlink"] = "error:Unknown"
    profile = probe(machine.sources)

    assert profile.accelerators[0].nvlink_peers is None
    assert profile.accelerators[0].notes == ["NVLink: Unknown Error"]


def test_cpu_build_of_torch_cannot_use_the_gpu(host) -> None:
    profile = probe(host("t4", {"torch": {"version": "2.7.1+cpu", "cuda": None}}).sources)

    (gpu,) = profile.accelerators
    assert not gpu.supported
    assert (
        "torch 2.7.1+cpu is not a CUDA build: install a CUDA build of torch to use this GPU"
        in gpu.notes
    )
    assert profile.device == "cpu"
    assert profile.primary is None


def test_torch_not_importable(host) -> None:
    profile = probe(host("t4", {"torch": None}).sources)

    assert "torch: No module named 'torch'" in profile.notes
    assert profile.accelerators[0].name == "Tesla T4"
    assert not profile.accelerators[0].supported
    assert profile.cpu.torch_cpu_capability is None
    assert profile.software.torch == "2.5.1+cu121"  # read from package metadata anyway


@pytest.mark.parametrize(
    ("visible", "order", "hidden"),
    [
        ("3,1", [3, 1], [0, 2, 4, 5, 6, 7]),
        ("GPU-00000006", [6], [0, 1, 2, 3, 4, 5, 7]),
        ("", [], list(range(8))),
        ("2,-1,4", [2], [0, 1, 3, 4, 5, 6, 7]),  # CUDA stops at the first invalid entry
    ],
)
def test_cuda_visible_devices(host, visible: str, order: list[int], hidden: list[int]) -> None:
    profile = probe(host("h100x8", {"environ": {"CUDA_VISIBLE_DEVICES": visible}}).sources)

    listed = [(g.index, g.supported) for g in profile.accelerators]
    assert listed == [(i, True) for i in order] + [(i, False) for i in hidden]
    if order:
        assert profile.primary is not None and profile.primary.index == order[0]
        assert profile.device == "cuda"
    else:
        assert profile.device == "cpu"
    assert all(
        g.notes == ["hidden by CUDA_VISIBLE_DEVICES"]
        for g in profile.accelerators
        if not g.supported
    )


def test_nvml_answer_of_the_wrong_type_loses_only_that_gpu(host) -> None:
    machine = host("h100x8")
    machine.nvml.devices[4]["max_clock_sm"] = "fast"  # not an int: the model rejects it
    profile = probe(machine.sources)

    assert [g.index for g in profile.accelerators] == [0, 1, 2, 3, 5, 6, 7]
    assert "GPU 4: skipped: ValidationError: 1 validation error for Accelerator" in profile.notes
