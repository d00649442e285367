"""The probe on the machine running the tests, with nothing faked."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata

import pytest

from autoaccel.probe import ProbeSources, probe


def test_real_probe_of_this_machine() -> None:
    profile = probe()

    import torch

    # The probe must never create a CUDA context in the calling process.
    assert not torch.cuda.is_initialized()
    assert profile.device == ("cuda" if torch.cuda.is_available() else "cpu")
    cpu = profile.cpu
    assert profile.usable_cores >= 1
    assert cpu.logical_cores is not None and cpu.logical_cores >= 1
    assert cpu.usable_cores is not None and 1 <= cpu.usable_cores <= cpu.logical_cores
    if hasattr(os, "sched_getaffinity"):
        assert cpu.usable_cores <= len(os.sched_getaffinity(0))
    assert cpu.memory_total_bytes is not None and cpu.memory_total_bytes > 2**28
    assert cpu.arch == platform.machine()
    assert cpu.torch_cpu_capability == torch.backends.cpu.get_cpu_capability()
    if platform.machine() in ("x86_64", "AMD64"):
        assert set(cpu.isa) >= {"avx2", "avx512f", "amx_tile"}
    assert profile.software.python == platform.python_version()
    assert profile.software.torch == metadata.version("torch")
    assert profile.software.cuda == torch.version.cuda
    assert profile.software.distributed == torch.distributed.is_available()
    assert profile.hostname == platform.node()


@pytest.mark.gpu
def test_real_probe_sees_the_gpu_without_initialising_cuda() -> None:
    code = (
        "import torch\n"
        "from autoaccel.probe import probe\n"
        "p = probe()\n"
        "assert not torch.cuda.is_initialized(), 'probe initialised CUDA'\n"
        "print(p.primary.name, p.primary.compute_capability, p.primary.multiprocessors)\n"
        "props = torch.cuda.get_device_properties(0)\n"
        "print(props.name, f'{props.major}.{props.minor}', props.multi_processor_count)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    from_probe, from_torch = out.stdout.strip().splitlines()
    assert from_probe == from_torch


def test_importing_the_probe_loads_neither_torch_nor_nvml() -> None:
    code = "import sys, autoaccel.probe; print('torch' in sys.modules, 'pynvml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_real_probe_measures_the_cpu_peak_where_trials_run_on_it(tmp_path) -> None:
    profile = probe(ProbeSources(cache_dir=tmp_path))
    if profile.primary is not None:
        pytest.skip("trials run on an accelerator here: its datasheet peak is used")

    measured = profile.cpu.core_peak_flops_measured
    assert set(measured) == {"fp32", "bf16"}
    assert all(per_core > 1e8 for per_core in measured.values())  # over 0.1 GFLOP/s a core
    assert profile.peak_flops("fp32") >= measured["fp32"] * profile.usable_cores
    if profile.cpu.clock_mhz:
        assert set(profile.cpu.core_peak_flops_estimate) == {"fp32", "bf16"}
